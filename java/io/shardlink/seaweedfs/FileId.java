package io.shardlink.seaweedfs;

/**
 * A SeaweedFS file id such as {@code 3,01637037d6}: volume id, a comma, then the needle id and the 4-byte cookie
 * in hex (the last 8 hex digits are the cookie; leading zero bytes of the id are dropped).
 */
public record FileId(long volumeId, long needleId, int cookie) {
    /** Parses a file id; a clear IllegalArgumentException on anything else. */
    public static FileId parse(String fid) {
        String s = fid == null ? "" : fid.trim();
        int comma = s.indexOf(',');
        String why = null;
        if (comma <= 0) {
            why = "no comma after the volume id";
        } else {
            String hex = s.substring(comma + 1);
            if (hex.length() < 8 || hex.length() > 24) {
                why = "after the comma expected up to 16 hex digits of needle id then 8 of cookie, got "
                        + hex.length() + " characters";
            } else if (!hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                why = "'" + hex + "' is not hex" + (hex.contains("_") ? " (ids with a _N chunk suffix are not supported)"
                        : "");
            } else {
                try {
                    long vol = Long.parseLong(s.substring(0, comma));
                    if (vol < 0 || vol > 0xFFFFFFFFL) {
                        why = "volume id " + vol + " out of range";
                    } else {
                        int cut = hex.length() - 8;
                        return new FileId(vol, cut == 0 ? 0 : Long.parseUnsignedLong(hex.substring(0, cut), 16),
                                (int) Long.parseLong(hex.substring(cut), 16));
                    }
                } catch (NumberFormatException e) {
                    why = "'" + s.substring(0, comma) + "' is not a volume id";
                }
            }
        }
        throw new IllegalArgumentException("bad SeaweedFS file id '" + fid + "': " + why + " (expected e.g. 3,01637037d6)");
    }

    /** As SeaweedFS writes it: the id's leading zero bytes (not nibbles) dropped, so needle 1 is "01". */
    static String format(long volumeId, long needleId, int cookie) {
        String id = needleId == 0 ? "" : Long.toHexString(needleId);
        if (id.length() % 2 == 1) {
            id = "0" + id;
        }
        return volumeId + "," + id + String.format("%08x", cookie);
    }

    /** The cookie as the unsigned value the read API takes. */
    public long cookieValue() {
        return Integer.toUnsignedLong(cookie);
    }

    @Override
    public String toString() {
        return format(volumeId, needleId, cookie);
    }
}
