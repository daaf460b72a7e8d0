package io.shardlink.rdma;

/**
 * Creation options of a {@link QueuePair} ({@code sl_qp_opts}). Start from {@link #defaults()}
 * and change what you need: {@code QueuePairOptions.defaults().withSendDepth(128)}.
 *
 * @param sendDepth outstanding send-queue work requests (default 64)
 * @param recvDepth outstanding receive work requests (default 64)
 * @param maxSge    scatter/gather entries per request, 1..{@value WorkRequestBatch#MAX_SGE} (default 4)
 * @param maxInline bytes of inline payload asked for (default 0); the device may grant more or,
 *                  if it has no inline support, none: {@link QueuePair#maxInline()} says
 * @param port      device port, 1..255; 0 (the default) means the port the device was opened for
 * @param gidIndex  GID index used to connect (default 0: rxe's link-local RoCE v2 GID)
 * @param signalEvery the longest run of unsignaled sends before the shim signals one itself,
 *                  1..sendDepth (larger is clamped); 0 (the default) means sendDepth / 2
 */
public record QueuePairOptions(int sendDepth, int recvDepth, int maxSge, int maxInline, int port, int gidIndex,
        int signalEvery) {

    private static final QueuePairOptions DEFAULTS = new QueuePairOptions(64, 64, 4, 0, 0, 0, 0);

    public QueuePairOptions {
        if (sendDepth <= 0 || recvDepth < 0) {
            throw new IllegalArgumentException("sendDepth must be > 0 and recvDepth >= 0: " + sendDepth + ", "
                    + recvDepth);
        }
        if (maxSge < 1 || maxSge > WorkRequestBatch.MAX_SGE) {
            throw new IllegalArgumentException("maxSge must be 1.." + WorkRequestBatch.MAX_SGE + ", got " + maxSge);
        }
        if (maxInline < 0) {
            throw new IllegalArgumentException("negative maxInline " + maxInline);
        }
        if (port < 0 || port > 255) {
            throw new IllegalArgumentException("port must be 0 (the device's) or 1..255, got " + port);
        }
        if (gidIndex < 0 || gidIndex > 255) {
            throw new IllegalArgumentException("gidIndex must be 0..255, got " + gidIndex);
        }
        if (signalEvery < 0) {
            throw new IllegalArgumentException("negative signalEvery " + signalEvery);
        }
    }

    /** Without signalEvery (the default, sendDepth / 2). */
    public QueuePairOptions(int sendDepth, int recvDepth, int maxSge, int maxInline, int port, int gidIndex) {
        this(sendDepth, recvDepth, maxSge, maxInline, port, gidIndex, 0);
    }

    public static QueuePairOptions defaults() {
        return DEFAULTS;
    }

    public QueuePairOptions withSendDepth(int v) {
        return new QueuePairOptions(v, recvDepth, maxSge, maxInline, port, gidIndex, signalEvery);
    }

    public QueuePairOptions withRecvDepth(int v) {
        return new QueuePairOptions(sendDepth, v, maxSge, maxInline, port, gidIndex, signalEvery);
    }

    /** Both depths. */
    public QueuePairOptions withDepth(int v) {
        return new QueuePairOptions(v, v, maxSge, maxInline, port, gidIndex, signalEvery);
    }

    public QueuePairOptions withMaxSge(int v) {
        return new QueuePairOptions(sendDepth, recvDepth, v, maxInline, port, gidIndex, signalEvery);
    }

    public QueuePairOptions withMaxInline(int v) {
        return new QueuePairOptions(sendDepth, recvDepth, maxSge, v, port, gidIndex, signalEvery);
    }

    public QueuePairOptions withPort(int v) {
        return new QueuePairOptions(sendDepth, recvDepth, maxSge, maxInline, v, gidIndex, signalEvery);
    }

    public QueuePairOptions withGidIndex(int v) {
        return new QueuePairOptions(sendDepth, recvDepth, maxSge, maxInline, port, v, signalEvery);
    }

    public QueuePairOptions withSignalEvery(int v) {
        return new QueuePairOptions(sendDepth, recvDepth, maxSge, maxInline, port, gidIndex, v);
    }
}
