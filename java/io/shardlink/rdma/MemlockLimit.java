package io.shardlink.rdma;

/**
 * The process's RLIMIT_MEMLOCK: how much memory memory-region registration may pin.
 *
 * @param soft bytes, or {@link #UNLIMITED}
 * @param hard bytes, or {@link #UNLIMITED}
 */
public record MemlockLimit(long soft, long hard) {
    /** RLIM_INFINITY. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    static MemlockLimit fromNative(long soft, long hard) {
        return new MemlockLimit(soft == -1L ? UNLIMITED : soft, hard == -1L ? UNLIMITED : hard);
    }

    public boolean isUnlimited() {
        return soft == UNLIMITED;
    }

    /** True if {@code bytes} may be pinned under the soft limit. */
    public boolean allows(long bytes) {
        return soft == UNLIMITED || bytes <= soft;
    }

    static String format(long bytes) {
        if (bytes == UNLIMITED) {
            return "unlimited";
        }
        if (bytes >= (1L << 30) && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        if (bytes >= (1L << 20) && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= (1L << 10) && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " bytes";
    }

    @Override
    public String toString() {
        return "MemlockLimit[soft=" + format(soft) + ", hard=" + format(hard) + "]";
    }
}
