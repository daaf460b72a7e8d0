package io.shardlink.rdma;

import java.util.Set;

/** Memory-region and queue-pair access rights ({@code SL_ACCESS_*}, equal to the verbs bits). */
public enum Access {
    /** The local HCA may write into the region (receives, READ targets). */
    LOCAL_WRITE(1),
    /** Peers may RDMA WRITE into the region (needs LOCAL_WRITE). */
    REMOTE_WRITE(2),
    /** Peers may RDMA READ from the region. */
    REMOTE_READ(4),
    /** Memory windows may be bound to the region ({@link MemoryWindow}); grants nothing remote by itself. */
    MW_BIND(16);

    private final int bit;

    Access(int bit) {
        this.bit = bit;
    }

    /** The flag bit ({@code SL_ACCESS_*}). */
    public int bit() {
        return bit;
    }

    /** The flag word for a set of rights. */
    public static int flags(Set<Access> access) {
        int flags = 0;
        for (Access a : access) {
            flags |= a.bit;
        }
        return flags;
    }

    /** LOCAL_WRITE | REMOTE_WRITE | REMOTE_READ: what a queue pair can grant. */
    public static final int ALL = 7;
    /** Every flag a memory region can be registered with: {@link #ALL} | MW_BIND. */
    public static final int REGION_ALL = ALL | 16;
}
