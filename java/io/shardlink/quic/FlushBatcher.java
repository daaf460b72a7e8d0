package io.shardlink.quic;

import io.netty.channel.Channel;

/**
 * Coalesces flushes of a shared read stream: frames written from many threads are queued on the stream's
 * event loop without a flush, and one flush runs after the tasks queued so far. Each flush makes quiche send
 * what is queued, so a flush per 4 KiB answer costs a UDP packet (and its encryption and syscall) per read;
 * batching them lets pipelined reads share packets.
 */
final class FlushBatcher implements Runnable {
    private final Channel ch;
    /** A flush task is queued (event loop only). */
    private boolean pending;

    FlushBatcher(Channel ch) {
        this.ch = ch;
    }

    Channel channel() {
        return ch;
    }

    /** After a write on the event loop: makes sure a flush follows the tasks queued until now. */
    void writeDone() {
        if (!pending) {
            pending = true;
            ch.eventLoop().execute(this);
        }
    }

    @Override
    public void run() {
        pending = false;
        ch.flush();
    }
}
