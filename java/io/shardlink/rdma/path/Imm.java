package io.shardlink.rdma.path;

/**
 * The 32-bit immediate of every message the RDMA path posts (all sends carry one). Bits 31..30 are the kind.
 *
 * <p>RDMA WRITE WITH IMMEDIATE (seen by the receiver as a RECV_IMM completion):
 * <pre>
 *   COPY_DATA  00 gggg rrrrrrrrrr ssssssssssssssss   a DATA frame in slot s of ring r, generation g
 *   READ_REPLY 01 pppppppppppppppppppppppppppppp     a READ_RESP / ERROR frame at page p of the reply ring
 * </pre>
 * SEND WITH IMMEDIATE (a RECV completion with immediate), the frame itself in the receive buffer:
 * <pre>
 *   TO_RECEIVER 00 0...0   COPY_BEGIN / COPY_END / the sender's ERROR, for the receiving side of a copy
 *   TO_SENDER   01 0...0   ACK / COPY_DONE / the receiver's ERROR, for the sending side of a copy
 *   READ_REQ    10 p...p   a READ_REQ whose answer goes to page p of the reader's reply ring
 * </pre>
 * The ring index and generation let the receiver find the ring without a lookup by transfer id and reject a
 * write meant for an earlier ring in the same index; the frame header's transfer id is checked as well.
 */
final class Imm {
    static final int W_COPY_DATA = 0;
    static final int W_READ_REPLY = 1;

    static final int S_TO_RECEIVER = 0;
    static final int S_TO_SENDER = 1;
    static final int S_READ_REQ = 2;

    static final int MAX_RINGS = 1 << 10;
    static final int GENERATIONS = 1 << 4;
    static final int MAX_SLOTS = 1 << 16;
    static final int MAX_PAGES = 1 << 30;

    private Imm() {}

    static int kind(int imm) {
        return imm >>> 30;
    }

    static int copyData(int ring, int generation, int slot) {
        return (generation & 0xF) << 26 | (ring & 0x3FF) << 16 | (slot & 0xFFFF);
    }

    static int ring(int imm) {
        return (imm >>> 16) & 0x3FF;
    }

    static int generation(int imm) {
        return (imm >>> 26) & 0xF;
    }

    static int slot(int imm) {
        return imm & 0xFFFF;
    }

    static int readReply(int page) {
        return W_READ_REPLY << 30 | (page & 0x3FFFFFFF);
    }

    static int send(int kind, int arg) {
        return kind << 30 | (arg & 0x3FFFFFFF);
    }

    /** The page (READ_REPLY, READ_REQ). */
    static int page(int imm) {
        return imm & 0x3FFFFFFF;
    }
}
