package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicConnectionCloseEvent;
import io.netty.incubator.codec.quic.QuicConnectionPathStats;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import io.netty.util.AttributeKey;
import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.transfer.SlowSourceGuard;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import io.shardlink.wire.Hello;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One QUIC connection to a peer = the control plane. The connecting side opens one long-lived bidirectional
 * control stream and sends HELLO on it; the accepting side answers HELLO on the same stream. RESUME
 * requests and answers travel on it too. Data goes on separate streams (see {@link QuicDataPath}).
 */
public final class QuicConnection {
    static final AttributeKey<QuicConnection> KEY = AttributeKey.valueOf("shardlink.connection");
    private static final System.Logger LOG = System.getLogger(QuicConnection.class.getName());
    /** Bytes of the CONNECTION_CLOSE reason phrase (kept well inside one packet). */
    private static final int MAX_CLOSE_REASON = 200;
    /** How long a close waits at most for the data in flight to be acknowledged (see closeWhenQuiet). */
    static final long CLOSE_QUIET_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);
    /** Bytes sent in a round trip that still count as quiet (acknowledgement-only packets, no data). */
    private static final long QUIET_BYTES = 1000;

    private final QuicChannel channel;
    private final boolean client;
    private final String localNode;
    private final FrameLimits limits;
    private final QuicTransport transport;
    private final CompletableFuture<QuicConnection> helloDone = new CompletableFuture<>();
    private final ConcurrentHashMap<Long, CompletableFuture<Long>> pendingResumes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, CompletableFuture<byte[]>> pendingPathControl = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong nextPathControl = new java.util.concurrent.atomic.AtomicLong(1);
    private volatile QuicConnectionListener listener;
    private volatile QuicStreamChannel control;
    private volatile String remoteName;
    private volatile Throwable closeCause;
    /** Open streams other than the control stream (event loop adds and removes). */
    private final java.util.Set<QuicStreamChannel> streams = ConcurrentHashMap.newKeySet();
    /** Long-lived shared read streams, either side's (not per operation: bounded by quicReadStreams). */
    private final java.util.Set<QuicStreamChannel> sharedReadStreams = ConcurrentHashMap.newKeySet();
    /** Reads the peer has in flight here on shared read streams (bounded by maxInFlightReadsPerPeer). */
    private final java.util.concurrent.atomic.AtomicInteger sharedReadsInFlight =
            new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;
    /** maxControlRequestsPerSecondPerPeer on the frames the peer sends on the control stream (event loop). */
    private final ControlRequestLimit requestLimit;
    /** Sends shared-stream reads to the reader threads for a while after slow ones on the event loop (any stream). */
    final SlowSourceGuard readGuard = new SlowSourceGuard(SharedReadServer.SLOW_IN_PLACE_NANOS);
    /** Reads served on the event loop that were slow enough to send later ones to the reader threads. */
    final java.util.concurrent.atomic.AtomicLong slowInPlaceReads = new java.util.concurrent.atomic.AtomicLong();

    QuicConnection(QuicChannel channel, boolean client, String localNode, FrameLimits limits, QuicTransport transport) {
        this.channel = channel;
        this.client = client;
        this.localNode = localNode;
        this.limits = limits;
        this.transport = transport;
        this.remoteName = String.valueOf(channel.remoteSocketAddress());
        this.requestLimit = new ControlRequestLimit(transport.maxControlRequestsPerSecondPerPeer(), System.nanoTime());
    }

    public QuicChannel channel() {
        return channel;
    }

    public boolean isClient() {
        return client;
    }

    public FrameLimits limits() {
        return limits;
    }

    public String localNode() {
        return localNode;
    }

    /** The peer's node id once HELLO arrived, else its address. */
    public String remoteName() {
        return remoteName;
    }

    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) channel.remoteSocketAddress();
    }

    /** Why the connection closed or is closing (the peer's CONNECTION_CLOSE or our own close), or null. */
    public Throwable closeCause() {
        return closeCause;
    }

    public boolean isOpen() {
        return !closed && channel.isActive();
    }

    public boolean helloComplete() {
        return helloDone.isDone() && !helloDone.isCompletedExceptionally();
    }

    QuicConnectionListener listener() {
        return listener;
    }

    QuicTransport transport() {
        return transport;
    }

    /** Reads served on this connection's event loop that were slow and sent later ones to the reader threads. */
    public long slowInPlaceReads() {
        return slowInPlaceReads.get();
    }

    /** Client side: opens the control stream and sends HELLO; completes when the peer's HELLO arrived. */
    CompletableFuture<QuicConnection> startClient(QuicConnectionListener l) {
        this.listener = l;
        channel.createStream(QuicStreamType.BIDIRECTIONAL, new StreamInitializer(this, StreamRole.CONTROL))
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        helloDone.completeExceptionally(f.cause());
                        close(f.cause());
                        return;
                    }
                    QuicStreamChannel s = (QuicStreamChannel) f.getNow();
                    control = s;
                    sendHello(s, l.localHello());
                });
        return helloDone;
    }

    private void sendHello(QuicStreamChannel s, Hello h) {
        ByteBuf p = s.alloc().buffer();
        h.encode(p);
        Frames.writeWithPayload(s, new FrameHeader(FrameType.HELLO), p);
    }

    /** A frame on the control stream (event loop). Takes ownership. */
    void onControlFrame(Frame f, QuicStreamChannel stream) {
        try {
            FrameHeader h = f.header();
            if (overLimit(h, stream)) {
                return;
            }
            switch (h.type()) {
                case HELLO -> onHello(f, stream);
                case RESUME -> onResume(h, stream);
                case PATH_CTL -> onPathControl(f, stream);
                case ERROR -> onError(h, FrameCodec.errorMessage(f.payload()));
                case PING -> requireHello("PING"); // receiving it restarted our idle timer: nothing else to do
                default -> throw new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type()
                        + " frame on the control stream from " + remoteName);
            }
        } finally {
            f.release();
        }
    }

    /**
     * maxControlRequestsPerSecondPerPeer: every control-stream frame after HELLO that is not an answer to one of
     * ours (a reply, or an ERROR about a request we have pending) takes a token. Past the limit a RESUME or PATH_CTL
     * request gets ERROR TOO_MANY_REQUESTS (aux = its frame type, so the peer knows which request failed), a PING
     * or unsolicited ERROR is dropped; the connection goes on. True if the frame was refused.
     */
    private boolean overLimit(FrameHeader h, QuicStreamChannel stream) {
        FrameType t = h.type();
        if (t == FrameType.HELLO || !helloComplete() || h.hasFlag(FrameHeader.FLAG_REPLY)
                && (t == FrameType.RESUME || t == FrameType.PATH_CTL) || t == FrameType.ERROR
                && (h.aux() == FrameType.PATH_CTL.code() ? pendingPathControl.containsKey(h.id())
                        : pendingResumes.containsKey(h.id()))) {
            return false;
        }
        long now = System.nanoTime();
        if (requestLimit.tryAcquire(now)) {
            return false;
        }
        QuicConnectionListener l = listener;
        if (l != null) {
            l.controlRequestRefusedOverLimit();
        }
        int limit = requestLimit.perSecond();
        if (t == FrameType.RESUME || t == FrameType.PATH_CTL) {
            String why = "node " + localNode + " refused " + t + " " + h.id() + " from " + remoteName + ": more than "
                    + limit + " control requests per second from this peer (maxControlRequestsPerSecondPerPeer = "
                    + limit + "); the connection stays up, retry later";
            byte[] msg = why.getBytes(StandardCharsets.UTF_8);
            Frames.writeWithPayload(stream, new FrameHeader(FrameType.ERROR).id(h.id())
                    .arg(ErrorCode.TOO_MANY_REQUESTS.code()).aux(t.code()), Unpooled.wrappedBuffer(msg));
        }
        long refused = requestLimit.refusedToLog(now);
        if (refused > 0) {
            LOG.log(System.Logger.Level.WARNING, () -> localNode + ": refused " + refused + " control request(s) from "
                    + remoteName + " over its limit of " + limit + " a second (maxControlRequestsPerSecondPerPeer)");
        }
        return true;
    }

    private void onHello(Frame f, QuicStreamChannel stream) {
        if (helloDone.isDone()) {
            throw new FrameException(ErrorCode.PROTOCOL, "second HELLO on the control stream from " + remoteName);
        }
        FrameCodec.verifyCrc(f.header(), f.payload());
        Hello remote = Hello.decode(f.payload());
        if (remote.protocolVersion() != FrameCodec.VERSION) {
            throw new FrameException(ErrorCode.BAD_VERSION, "peer " + remote.nodeId() + " speaks protocol version "
                    + remote.protocolVersion() + ", " + localNode + " speaks " + FrameCodec.VERSION);
        }
        remoteName = remote.nodeId();
        if (!client) {
            control = stream;
            QuicConnectionListener l = transport.accept(this);
            this.listener = l;
            l.onHello(remote);
            sendHello(stream, l.localHello());
        } else {
            listener.onHello(remote);
        }
        helloDone.complete(this);
        listener.helloDone();
        startKeepAlive();
    }

    /**
     * Sends PING on the control stream every keepAliveInterval while the connection is up, so that an idle
     * connection outlives the QUIC idle timeout (Netty's QUIC API has no keep-alive of its own). Each side
     * pings: the idle timer restarts on every packet received.
     */
    private void startKeepAlive() {
        long every = transport.keepAliveMillis();
        if (every <= 0) {
            return;
        }
        try {
            var task = channel.eventLoop().scheduleAtFixedRate(() -> {
                QuicStreamChannel c = control;
                if (c != null && c.isActive() && !closed) {
                    Frames.write(c, new FrameHeader(FrameType.PING), null, true);
                }
            }, every, every, TimeUnit.MILLISECONDS);
            channel.closeFuture().addListener(f -> task.cancel(false));
        } catch (RejectedExecutionException e) {
            // the event loop is shutting down with the node
        }
    }

    private void onResume(FrameHeader h, QuicStreamChannel stream) {
        requireHello("RESUME");
        long id = h.id();
        if (h.hasFlag(FrameHeader.FLAG_REPLY)) {
            CompletableFuture<Long> f = pendingResumes.remove(id);
            if (f != null) {
                f.complete(h.offset());
            }
            return;
        }
        listener.onResume(id).whenComplete((next, err) -> {
            if (err != null) {
                Throwable c = err instanceof java.util.concurrent.CompletionException ? err.getCause() : err;
                new QuicReply(stream, remoteName).sendError(id, 0, c instanceof FrameException fe ? fe
                        : new FrameException(ErrorCode.INTERNAL, "RESUME of transfer " + id + " failed: " + c), false);
            } else {
                Frames.write(stream, new FrameHeader(FrameType.RESUME).id(id).flags(FrameHeader.FLAG_REPLY).offset(next),
                        null, true);
            }
        });
    }

    /**
     * PATH_CTL: a data path provider's message or the session's bring-up retry (request: answered by the listener;
     * reply: completes ours). Header {@code object} = the path epoch the message belongs to (0 = the bring-up of
     * HELLO, +1 per retry), {@code aux} = its kind ({@link #PATH_KIND_PROVIDER}, {@link #PATH_KIND_RETRY}).
     */
    private void onPathControl(Frame f, QuicStreamChannel stream) {
        requireHello("PATH_CTL");
        FrameHeader h = f.header();
        FrameCodec.verifyCrc(h, f.payload());
        long id = h.id();
        byte[] msg = io.netty.buffer.ByteBufUtil.getBytes(f.payload());
        if (h.hasFlag(FrameHeader.FLAG_REPLY)) {
            CompletableFuture<byte[]> p = pendingPathControl.remove(id);
            if (p != null) {
                p.complete(msg);
            }
            return;
        }
        CompletableFuture<byte[]> answer;
        try {
            answer = listener.onPathControl(h.object(), h.aux(), msg);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((r, err) -> {
            if (err != null) {
                LOG.log(System.Logger.Level.DEBUG, () -> localNode + ": no answer to PATH_CTL " + id + " from "
                        + remoteName + ": " + err);
            }
            byte[] out = err != null || r == null ? new byte[0] : r;
            Frames.writeWithPayload(stream, new FrameHeader(FrameType.PATH_CTL).id(id).flags(FrameHeader.FLAG_REPLY),
                    io.netty.buffer.Unpooled.wrappedBuffer(out));
        });
    }

    /**
     * Sends a data path provider's message to the peer's provider on the control stream (TLS-authenticated);
     * completes with its answer (empty if it had none).
     */
    public CompletableFuture<byte[]> pathControl(byte[] message) {
        return pathControl(0, PATH_KIND_PROVIDER, message);
    }

    /** A PATH_CTL kind: a data path provider's own message (e.g. an RDMA ring request). */
    public static final long PATH_KIND_PROVIDER = 0;
    /** A PATH_CTL kind: the session retries the path's bring-up (payload: the sender's new endpoint blob). */
    public static final long PATH_KIND_RETRY = 1;

    /** {@link #pathControl(byte[])} for path {@code epoch} and of {@code kind}. */
    public CompletableFuture<byte[]> pathControl(long epoch, long kind, byte[] message) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        QuicStreamChannel c = control;
        if (c == null || closed) {
            f.completeExceptionally(new ShardlinkClosedException("control stream to " + remoteName + " is closed"));
            return f;
        }
        long id = nextPathControl.getAndIncrement();
        pendingPathControl.put(id, f);
        Frames.writeWithPayload(c, new FrameHeader(FrameType.PATH_CTL).id(id).object(epoch).aux(kind),
                        io.netty.buffer.Unpooled.wrappedBuffer(message))
                .addListener(w -> {
                    if (!w.isSuccess()) {
                        pendingPathControl.remove(id, f);
                        f.completeExceptionally(w.cause());
                    }
                });
        if (closed && pendingPathControl.remove(id, f)) {
            f.completeExceptionally(new ShardlinkClosedException("control stream to " + remoteName + " is closed"));
        }
        return f;
    }

    private void onError(FrameHeader h, String message) {
        FrameException e = new FrameException(h.errorCode(), "peer " + remoteName + " reported: " + message);
        if (!helloDone.isDone()) {
            helloDone.completeExceptionally(e);
            close(e);
            return;
        }
        if (h.aux() == FrameType.PATH_CTL.code()) { // a PATH_CTL request of ours that the peer refused
            CompletableFuture<byte[]> p = pendingPathControl.remove(h.id());
            if (p != null) {
                p.completeExceptionally(e);
                return;
            }
        }
        CompletableFuture<Long> f = pendingResumes.remove(h.id());
        if (f != null) {
            f.completeExceptionally(e);
        } else {
            LOG.log(System.Logger.Level.WARNING, () -> localNode + ": ERROR on the control stream: " + e.getMessage());
        }
    }

    void requireHello(String what) {
        if (!helloComplete()) {
            throw new FrameException(ErrorCode.PROTOCOL, what + " from " + remoteName + " before the HELLO exchange");
        }
    }

    /** Sends RESUME for a transfer we send; completes with the peer's next expected offset. */
    public CompletableFuture<Long> resume(long transferId) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        QuicStreamChannel c = control;
        if (c == null || closed) {
            f.completeExceptionally(new ShardlinkClosedException("control stream to " + remoteName + " is closed"));
            return f;
        }
        CompletableFuture<Long> prev = pendingResumes.put(transferId, f);
        if (prev != null) {
            prev.completeExceptionally(new IllegalStateException("superseded by a newer RESUME"));
        }
        Frames.write(c, new FrameHeader(FrameType.RESUME).id(transferId), null, true).addListener(w -> {
            if (!w.isSuccess()) {
                pendingResumes.remove(transferId, f);
                f.completeExceptionally(w.cause());
            }
        });
        return f;
    }

    /** A control-stream protocol error: tell the peer, then close the connection (the control plane is broken). */
    void controlFailure(QuicStreamChannel stream, FrameException e) {
        LOG.log(System.Logger.Level.WARNING, () -> localNode + ": closing connection to " + remoteName + ": "
                + e.getMessage());
        ByteBuf b = stream.alloc().buffer();
        FrameCodec.encodeError(0, 0, e.code(), e.getMessage(), b);
        stream.writeAndFlush(b).addListener((ChannelFutureListener) w -> close(e));
        if (!helloDone.isDone()) {
            helloDone.completeExceptionally(e);
        }
    }

    /**
     * Closes the connection with an application CONNECTION_CLOSE carrying an error code and a short reason
     * (so that the peer learns of it at once and why); idempotent. The first cause is kept.
     */
    public void close(Throwable cause) {
        if (closeCause == null) {
            closeCause = cause;
        }
        Throwable c = closeCause;
        ErrorCode code = c instanceof FrameException fe ? fe.code()
                : c == null || c instanceof ShardlinkClosedException ? ErrorCode.SHUTTING_DOWN : ErrorCode.INTERNAL;
        String why = c == null || c.getMessage() == null ? "closed by " + localNode : c.getMessage();
        byte[] reason = why.getBytes(StandardCharsets.UTF_8);
        if (reason.length > MAX_CLOSE_REASON) {
            reason = java.util.Arrays.copyOf(reason, MAX_CLOSE_REASON);
        }
        byte[] closeReason = reason;
        int closeCode = code.code();
        try {
            channel.eventLoop().execute(() -> closeWhenQuiet(closeCode, closeReason,
                    System.nanoTime() + CLOSE_QUIET_WAIT_NANOS, -1, -1, false));
        } catch (RejectedExecutionException e) {
            channel.close(); // the event loop is gone: nothing can be sent any more
        }
    }

    /**
     * Sends the CONNECTION_CLOSE once the connection has stopped sending data (event loop). Netty's QUIC channel
     * asks quiche for the close packet once and frees the connection right away; quiche does not build a packet
     * while the congestion window is full of unacknowledged data, so closing in the middle of a copy would send
     * nothing and the peer would learn of it only at its idle timeout. The callers have already stopped the
     * copies and reads on this connection; their streams are reset here so that quiche drops the data still
     * queued on them. Then wait (up to {@link #CLOSE_QUIET_WAIT_NANOS}) for a window of about one and a half
     * round trips in which less than {@link #QUIET_BYTES} went out (acknowledgements only) although
     * acknowledgements came in, or two such windows in a row: the data in flight was acknowledged and the
     * congestion window has room for the close.
     */
    private void closeWhenQuiet(int code, byte[] reason, long deadline, long lastSentBytes, long lastRecv,
                                boolean quietBefore) {
        if (!channel.isOpen()) {
            return;
        }
        QuicConnectionPathStats st = null;
        try {
            io.netty.util.concurrent.Future<QuicConnectionPathStats> f = channel.collectPathStats(0);
            st = f.isSuccess() ? f.getNow() : null;
        } catch (RuntimeException e) {
            // no stats: close now
        }
        if (lastSentBytes < 0) {
            // the connection is going away: reset the data streams (RESET_STREAM) so that quiche drops the data
            // still queued on them instead of sending it first
            for (QuicStreamChannel s : new ArrayList<>(streams)) {
                s.shutdownOutput(ErrorCode.SHUTTING_DOWN.code());
            }
            for (QuicStreamChannel s : new ArrayList<>(sharedReadStreams)) {
                s.shutdownOutput(ErrorCode.SHUTTING_DOWN.code()); // answers still queued are moot too
            }
        }
        long now = System.nanoTime();
        if (st != null && now - deadline < 0) {
            // a window without data packets (acknowledgements only) after acknowledgements came in, or two in a row
            boolean quiet = lastSentBytes >= 0 && st.sentBytes() - lastSentBytes < QUIET_BYTES;
            if (!quiet || !(st.recv() > lastRecv || quietBefore)) {
                long window = Math.max(TimeUnit.MILLISECONDS.toNanos(5), st.rtt() * 3 / 2);
                long sent = st.sentBytes();
                long recv = st.recv();
                try {
                    channel.eventLoop().schedule(() -> closeWhenQuiet(code, reason, deadline, sent, recv, quiet),
                            Math.min(window, deadline - now), TimeUnit.NANOSECONDS);
                    return;
                } catch (RejectedExecutionException e) {
                    // the event loop is shutting down: close now
                }
            }
        }
        channel.close(true, code, Unpooled.wrappedBuffer(reason));
    }

    /** Tracks a data or read stream until it closes, so that closing the connection can reset it. */
    void track(QuicStreamChannel s) {
        streams.add(s);
        s.closeFuture().addListener(f -> streams.remove(s));
    }

    /** A long-lived shared read stream (ours or the peer's), counted apart from the per-operation streams. */
    void trackShared(QuicStreamChannel s) {
        streams.remove(s);
        sharedReadStreams.add(s);
        s.closeFuture().addListener(f -> sharedReadStreams.remove(s));
    }

    /** Shared read streams open on this connection now (both directions). */
    public int openSharedReadStreams() {
        return sharedReadStreams.size();
    }

    java.util.concurrent.atomic.AtomicInteger sharedReadsInFlight() {
        return sharedReadsInFlight;
    }

    /** Reads the peer has in flight on this node over shared read streams. */
    public int peerReadsInFlight() {
        return sharedReadsInFlight.get();
    }

    /** The stream the peer opened turned out to be the control stream (not a data stream). */
    void untrack(QuicStreamChannel s) {
        streams.remove(s);
    }

    /** Data and read streams open on this connection now (the control stream not counted; 0 when idle). */
    public int openStreams() {
        return streams.size();
    }

    /** The peer closed the connection (CONNECTION_CLOSE received; event loop): remember who and why. */
    void onPeerClose(QuicConnectionCloseEvent e) {
        if (closeCause != null) {
            return;
        }
        String reason = e.reason() == null || e.reason().length == 0 ? ""
                : ": " + new String(e.reason(), StandardCharsets.UTF_8);
        String code = e.isApplicationClose() ? ErrorCode.of(e.error()).name()
                : e.isTlsError() ? "TLS error " + QuicConnectionCloseEvent.extractTlsError(e.error())
                : "QUIC transport error " + e.error();
        closeCause = new ShardlinkClosedException("peer " + remoteName + " closed the QUIC connection to " + localNode
                + " [" + code + "]" + reason);
    }

    /** The QuicChannel went inactive (event loop). */
    void onInactive() {
        if (closed) {
            return;
        }
        closed = true;
        Throwable cause = closeCause != null ? closeCause
                : new ShardlinkClosedException("QUIC connection between " + localNode + " and " + remoteName + " closed"
                + (channel.isTimedOut() ? " (idle timeout)" : "")
                + (helloDone.isDone() ? "" : " before the HELLO exchange completed (e.g. the peer refused our TLS "
                + "certificate, or it is not a shardlink node)"));
        helloDone.completeExceptionally(cause);
        for (CompletableFuture<Long> f : new ArrayList<>(pendingResumes.values())) {
            f.completeExceptionally(cause);
        }
        pendingResumes.clear();
        for (CompletableFuture<byte[]> f : new ArrayList<>(pendingPathControl.values())) {
            f.completeExceptionally(cause);
        }
        pendingPathControl.clear();
        QuicConnectionListener l = listener;
        if (l != null) {
            l.onClosed(cause);
        }
        transport.forget(this);
    }

    @Override
    public String toString() {
        return "QuicConnection{" + localNode + (client ? " -> " : " <- ") + remoteName + "}";
    }
}
