/**
 * RDMA verbs for the JVM: Java objects that own the native shim's objects (include/shardlink.h)
 * through the JNI bridge in native/jni (libshardlink_jni.so).
 *
 * <h2>Start here</h2>
 * {@link io.shardlink.rdma.Rdma#availability(String, int, long)} says whether RDMA can be used and,
 * if not, why (never throws). Then:
 * {@link io.shardlink.rdma.RdmaDevice#open(String, int)},
 * {@link io.shardlink.rdma.ProtectionDomain#create(RdmaDevice)},
 * {@link io.shardlink.rdma.CompletionQueue#create(RdmaDevice, int)},
 * {@link io.shardlink.rdma.QueuePair#create(ProtectionDomain, CompletionQueue, CompletionQueue, QueuePairOptions)},
 * {@link io.shardlink.rdma.MemoryRegion#register(ProtectionDomain, java.nio.ByteBuffer, java.util.Set)};
 * exchange {@link io.shardlink.rdma.QueuePair#localEndpoint()} blobs out of band and
 * {@link io.shardlink.rdma.QueuePair#connect(byte[], ConnectOptions)}.
 *
 * <h2>Data path: no allocation</h2>
 * Work requests are written into a reusable {@link io.shardlink.rdma.WorkRequestBatch} (a direct
 * buffer of sl_wr structs) and posted with one JNI call; completions are polled into a reusable
 * {@link io.shardlink.rdma.CompletionBatch}. Neither allocates per request or per completion.
 *
 * <h2>Lifecycle</h2>
 * Every owning class closes its native object exactly once; close() is idempotent, waits for calls
 * in flight on other threads, and use after close throws IllegalStateException ("QueuePair
 * closed"), never a JVM crash. Close children before parents (QPs and MRs, then PD and CQs, then
 * the device): closing a parent with live children throws IllegalStateException and changes
 * nothing. Objects are not closed by the garbage collector.
 *
 * <h2>Sanitizer builds</h2>
 * A libshardlink_jni.so built with -DSHARDLINK_SANITIZE=ON needs the sanitizer runtime preloaded
 * into the JVM (LD_PRELOAD=$(gcc -print-file-name=libasan.so)); the normal build does not.
 */
package io.shardlink.rdma;
