package io.shardlink.seaweedfs;

/**
 * One live needle as {@code shardlink volumes} lists it: what its header says and whether its checksum matches.
 *
 * @param dataSize -1 when the header could not be read
 * @param problem  null when the needle would be served; otherwise why not (checksum mismatch, truncation ...)
 */
public record NeedleReport(long volumeId, long needleId, int cookie, long position, int dataSize, int flags,
                           String problem) {
    public boolean checksumOk() {
        return problem == null;
    }

    /** SeaweedFS's file id: volume, comma, needle id in hex (no leading zeros), 8 hex digits of cookie. */
    public String fileId() {
        return FileId.format(volumeId, needleId, cookie);
    }
}
