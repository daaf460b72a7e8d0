package com.example.storage;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.FileShardSink;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A storage server's use of shardlink, built from the published artifact alone: two nodes, one shard copy and one
 * blob read between them, bytes verified, and the transport that did the work printed (and checked with
 * --expect). No -Dshardlink.native.path: the JNI library comes out of the jar.
 *
 * <pre>
 * ConsumerMain --tls DIR --store DIR [--expect QUIC|RDMA] [--devices A,B] [--connect-timeout SECONDS]
 * </pre>
 * DIR for --tls comes from {@code shardlink certs --dir DIR --name source,target}. Exit 0 when everything held.
 */
public final class ConsumerMain {
    private static final int SHARD_BYTES = 8 << 20;
    private static final int READ_BYTES = 4096;

    private ConsumerMain() {}

    public static void main(String[] args) throws Exception {
        Path tls = null;
        Path store = null;
        Transport expect = null;
        String[] devices = {"auto", "auto"};
        int connectTimeout = 10;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--tls" -> tls = Path.of(args[i + 1]);
                case "--store" -> store = Path.of(args[i + 1]);
                case "--expect" -> expect = Transport.valueOf(args[i + 1]);
                case "--devices" -> devices = args[i + 1].split(",", 2);
                case "--connect-timeout" -> connectTimeout = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (tls == null || store == null || devices.length != 2) {
            System.err.println("usage: ConsumerMain --tls DIR --store DIR [--expect QUIC|RDMA] [--devices A,B] "
                    + "[--connect-timeout SECONDS]");
            System.exit(2);
        }
        System.exit(run(tls, store, expect, devices, connectTimeout) ? 0 : 1);
    }

    static boolean run(Path tls, Path store, Transport expect, String[] devices, int connectTimeout) throws Exception {
        boolean ok = true;
        // the optional Micrometer binder must not drag Micrometer into a server that does not use it
        try {
            Class.forName("io.micrometer.core.instrument.MeterRegistry");
            System.out.println("consumer: FAIL micrometer-core is on the classpath, yet this project does not ask for it");
            ok = false;
        } catch (ClassNotFoundException expected) {
            System.out.println("consumer: micrometer-core not on the classpath (optional dependency), ok");
        }
        // one Netty version across the artifacts shardlink brought in (a mixed set breaks at run time)
        java.util.Set<String> netty = new java.util.TreeSet<>();
        io.netty.util.Version.identify().values().forEach(v -> netty.add(v.artifactVersion()));
        System.out.println("consumer: Netty " + netty + (netty.size() == 1 ? ", ok" : ": FAIL mixed versions "
                + io.netty.util.Version.identify().keySet()));
        ok &= netty.size() == 1;
        Files.createDirectories(store);
        ShardlinkConfig.Builder common = ShardlinkConfig.builder().trustCertsPem(tls.resolve("ca.pem"))
                .connectTimeout(Duration.ofSeconds(connectTimeout))
                .requestTimeout(Duration.ofSeconds(Math.max(30, connectTimeout)));
        try (ShardlinkNode target = ShardlinkNode.start(common.nodeId("consumer-target").device(devices[1])
                     .keyPem(tls.resolve("target.crt.pem"), tls.resolve("target.key.pem")).build());
             ShardlinkNode source = ShardlinkNode.start(common.nodeId("consumer-source").device(devices[0])
                     .keyPem(tls.resolve("source.crt.pem"), tls.resolve("source.key.pem")).build())) {
            target.onShardCopy(FileShardSink.inDirectory(store));
            target.blobSource((volume, needle, offset, length, dst) -> {
                for (int i = 0; i < length; i++) {
                    dst.put(pattern(needle, offset + i));
                }
                return length;
            });
            String why = source.rdmaUnavailableReason();
            System.out.println("consumer: " + (why == null ? "RDMA available here" : why));

            Peer peer = source.connect(target.localAddress());
            ByteBuffer shard = ByteBuffer.allocateDirect(SHARD_BYTES);
            for (int i = 0; i < SHARD_BYTES; i++) {
                shard.put(i, pattern(42, i));
            }
            CopyResult copy = peer.copyShard(42, shard, CopyProgressListener.NONE).get(300, TimeUnit.SECONDS);
            byte[] stored = Files.readAllBytes(store.resolve("shard-42"));
            boolean copyOk = copy.bytes() == SHARD_BYTES && stored.length == SHARD_BYTES
                    && ByteBuffer.wrap(stored).equals(shard.clear());
            ReadResult read = peer.read(7, 1001, 512, READ_BYTES).get(60, TimeUnit.SECONDS);
            boolean readOk = read.length() == READ_BYTES;
            for (int i = 0; readOk && i < READ_BYTES; i++) {
                readOk = read.data().get(read.data().position() + i) == pattern(1001, 512 + i);
            }
            System.out.printf("consumer: copy %d bytes over %s, %s; read %d bytes over %s, %s; peer %s%n",
                    copy.bytes(), copy.transports(), copyOk ? "verified" : "WRONG BYTES", read.length(),
                    read.transport(), readOk ? "verified" : "WRONG BYTES", peer.state());
            ok &= copyOk && readOk;
            if (expect != null) {
                boolean as = copy.transports().equals(List.of(expect)) && read.transport() == expect;
                System.out.println("consumer: " + (as ? "transport " + expect + " as expected"
                        : "FAIL expected " + expect + " for both (fallbacks: " + copy.fallbackCauses() + ")"));
                ok &= as;
            }
        }
        System.out.println(ok ? "consumer: OK" : "consumer: FAILED");
        return ok;
    }

    private static byte pattern(long needle, long offset) {
        return (byte) (needle * 31 + offset * 7 + (offset >>> 8));
    }
}
