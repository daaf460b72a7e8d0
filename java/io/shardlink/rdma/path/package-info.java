/**
 * The RDMA data path of shardlink: {@link io.shardlink.rdma.path.RdmaDataPathProvider}, found by
 * {@link java.util.ServiceLoader} as the node's {@link io.shardlink.transfer.DataPathProvider}, built on the owning
 * verbs classes of {@code io.shardlink.rdma}. Frames are the {@code io.shardlink.wire} envelope byte for byte, so
 * the copy and read logic above (copy driver, copy receiver, read service) is the same as over QUIC.
 *
 * <h2>Bring-up</h2>
 * Per peer connection, {@code prepare} creates an RC queue pair (send and receive depth {@code qpDepth}, remote
 * access WRITE only: no peer ever READs this node's memory) on the completion queue of one of the node's shared
 * completion pollers (the {@code RdmaEngine}: a few threads for any number of peers; busy,
 * adaptive or event polling), a control buffer and the read reply ring, and posts the receives; the endpoint blob
 * in HELLO carries the queue pair's address and the reply ring's descriptor. {@code connect} moves the queue pair
 * to RTS and sends PATH_READY over the QUIC control stream; the path is CONNECTED once both ends said so (neither
 * sends before the other can receive). Small frames (READ_REQ, ACK, control) are sent inline where the device
 * can.
 *
 * <h2>Copies</h2>
 * The sender asks for a receive ring for this transfer (RING_REQ on the QUIC control stream). The receiver
 * registers {@code numMemoryRegions} slots of header + {@code maxSendSize} bytes (LOCAL_WRITE | MW_BIND: no remote
 * rights of its own) if its pinned-memory budget has room, binds a type-2 memory window to it through this peer's
 * queue pair (the node's protection domain is shared by all peers: the window's rkey works on this queue pair
 * only), and once the bind completed answers with the descriptor (address, the window's rkey, slot size, slots,
 * ring index and generation) on the same TLS stream; otherwise it declines with the reason and that copy goes over QUIC without
 * failing the path. COPY_BEGIN then goes by SEND; each chunk by one RDMA WRITE WITH IMMEDIATE of [header][payload]
 * (the header from the sender's control buffer, the payload from the node's registered chunk pool: no copy, no
 * per-chunk registration) into the next slot, immediate = ring index, generation, slot. The receiver's poller
 * decodes the frame in place and gives it to the copy receiver; the ACK (next expected offset, credits) goes back
 * by SEND after the sink consumed the bytes, and the sender reuses a slot only when the chunk in it is
 * acknowledged. The ring is deregistered when COPY_DONE is sent, when the sender gives the copy up (its ERROR,
 * after which it writes nothing more), and when the path fails or the peer goes away.
 *
 * <h2>Reads</h2>
 * The reader takes pages of its reply ring and sends READ_REQ (SEND with the first page as immediate). The serving
 * node reads the blob into a registered staging buffer (local access only) and writes [READ_RESP][bytes], or an
 * ERROR frame, with WRITE WITH IMMEDIATE into those pages; the reader checks the CRC and completes the read. Reads
 * beyond the ring's room wait in a queue; a read whose path breaks is asked again over QUIC (unless RDMA_ONLY).
 *
 * <h2>Failure</h2>
 * An error completion, a failed post or the peer's PATH_DOWN fails the path once: every transfer on it gets
 * {@code onPathFailure} (the copy driver resumes over QUIC from the receiver's next expected offset), the peer
 * moves to FAILED with the cause, the other end is told, and the poller drains the flushed work requests and tears
 * the queue pair, rings and buffers down.
 */
package io.shardlink.rdma.path;
