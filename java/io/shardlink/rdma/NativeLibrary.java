package io.shardlink.rdma;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

import io.shardlink.rdma.RdmaAvailability.Cause;

/**
 * Loads libshardlink_jni.so, once, tolerantly: every failure becomes an {@link RdmaAvailability}
 * (see {@link #status()}), never an UnsatisfiedLinkError at the caller.
 *
 * <p>Where from, in order:
 * <ol>
 * <li>{@code -Dshardlink.native.path=FILE-or-DIRECTORY} (a build tree; the Maven build sets it for
 * tests to {@code target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so});</li>
 * <li>the class path resource {@code META-INF/native/linux-x86_64/libshardlink_jni.so} (inside the
 * jar), copied to a private temporary file (in {@code -Dshardlink.native.workdir}, default
 * {@code java.io.tmpdir}) that is deleted right after loading.</li>
 * </ol>
 * After loading, the library's version and struct layouts are compared with this Java code
 * ({@link Layout}); a mismatch makes RDMA unavailable instead of corrupting memory.
 */
public final class NativeLibrary {
    /** System property: a file or directory to load libshardlink_jni.so from. */
    public static final String PATH_PROPERTY = "shardlink.native.path";
    /** System property: where to extract the library from the jar (must not be mounted noexec). */
    public static final String WORKDIR_PROPERTY = "shardlink.native.workdir";
    public static final String LIBRARY_FILE = "libshardlink_jni.so";
    public static final String RESOURCE = "META-INF/native/linux-x86_64/" + LIBRARY_FILE;

    /** The shim API version this code was written for (SL_VERSION_MAJOR). */
    static final int EXPECTED_MAJOR = 0;

    private static final String INSTALL_VERBS =
            "libibverbs.so.1 not found: install rdma-core (apt-get install rdma-core ibverbs-providers)";
    private static final String NOT_BUILT = "native library not built: install libibverbs-dev and rebuild";

    private NativeLibrary() {
    }

    private static final class Holder {
        static final Result RESULT = load();
    }

    /** The outcome of loading: {@code available()} is true when the library is loaded and matches. */
    record Result(RdmaAvailability availability, String loadedFrom) {
    }

    /**
     * Whether the native library is loaded and usable. Does not look at devices: see
     * {@link Rdma#availability(String, int, long)} for the full check.
     */
    public static RdmaAvailability status() {
        return Holder.RESULT.availability();
    }

    public static boolean isLoaded() {
        return Holder.RESULT.availability().available();
    }

    /** Where the library was loaded from (a path, or "jar:..." for an extracted copy); null if not. */
    public static String loadedFrom() {
        return Holder.RESULT.loadedFrom();
    }

    /** Throws RdmaException (SL_ENODEV, with the availability reason) unless the library is loaded. */
    static void ensureLoaded() throws RdmaException {
        RdmaAvailability a = Holder.RESULT.availability();
        if (!a.available()) {
            throw new RdmaException(RdmaException.ENODEV, 0, a.reason());
        }
    }

    /** The library's layout table (see {@link Layout}); the library must be loaded. */
    static int[] layout() throws RdmaException {
        ensureLoaded();
        return nativeLayout();
    }

    /** The shim's name for a status code, e.g. "SL_EFULL"; the library must be loaded. */
    static String statusName(int status) throws RdmaException {
        ensureLoaded();
        return nativeStatusName(status);
    }

    /** ibv_wc_status_str for a completion status; a Java fallback when the library is not loaded. */
    static String wcStatusText(int status) {
        if (isLoaded()) {
            return nativeWcStatusText(status);
        }
        return "completion status " + status;
    }

    // ------------------------------------------------------------------ loading

    private static Result load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return failed(Cause.UNSUPPORTED_PLATFORM, "RDMA unavailable: no native library for " + os + "/" + arch
                    + " (only linux-x86_64 is built); using QUIC");
        }
        String missing = "";
        String explicit = System.getProperty(PATH_PROPERTY, "").trim();
        if (!explicit.isEmpty()) {
            Path p = Paths.get(explicit);
            if (Files.isDirectory(p)) {
                p = p.resolve(LIBRARY_FILE);
            }
            if (Files.isRegularFile(p)) {
                return loadFile(p.toAbsolutePath(), p.toAbsolutePath().toString());
            }
            missing = ", nor at " + p + " (-D" + PATH_PROPERTY + ")";
        }
        URL resource = NativeLibrary.class.getClassLoader() != null
                ? NativeLibrary.class.getClassLoader().getResource(RESOURCE)
                : ClassLoader.getSystemResource(RESOURCE);
        if (resource == null) {
            return failed(Cause.NATIVE_LIBRARY_NOT_BUILT, "RDMA unavailable: " + NOT_BUILT + " (" + LIBRARY_FILE
                    + " is not in the jar at " + RESOURCE + missing + "); using QUIC");
        }
        Path dir = Paths.get(System.getProperty(WORKDIR_PROPERTY, System.getProperty("java.io.tmpdir", "/tmp")));
        Path tmp = null;
        try {
            try {
                tmp = Files.createTempFile(dir, "libshardlink_jni-", ".so",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                tmp = Files.createTempFile(dir, "libshardlink_jni-", ".so");
            }
            tmp.toFile().deleteOnExit();
            try (InputStream in = resource.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return loadFile(tmp, "jar:" + resource);
        } catch (IOException | RuntimeException e) {
            return failed(Cause.NATIVE_LIBRARY_BROKEN, "RDMA unavailable: cannot extract " + RESOURCE + " to " + dir
                    + " (" + e + "); set -D" + WORKDIR_PROPERTY + " to a writable directory; using QUIC");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp); // the mapping stays valid on Linux
                } catch (IOException ignored) {
                    // deleteOnExit will retry
                }
            }
        }
    }

    private static Result loadFile(Path file, String from) {
        try {
            System.load(file.toString());
        } catch (UnsatisfiedLinkError e) {
            return failed(classifyLinkError(e.getMessage()), reasonForLinkError(file, e.getMessage()));
        } catch (LinkageError | SecurityException e) {
            return failed(Cause.NATIVE_LIBRARY_BROKEN, "RDMA unavailable: cannot load " + file + ": " + e
                    + "; rebuild the native library (native/jni/build.sh); using QUIC");
        }
        try {
            int version = nativeVersion();
            if ((version >>> 16) != EXPECTED_MAJOR) {
                return failed(Cause.NATIVE_LIBRARY_BROKEN, "RDMA unavailable: " + file + " implements shim API "
                        + (version >>> 16) + "." + (version & 0xffff) + ", this Java code needs " + EXPECTED_MAJOR
                        + ".x: rebuild the native library; using QUIC");
            }
            String diff = Layout.compare(nativeLayout());
            if (diff != null) {
                return failed(Cause.NATIVE_LIBRARY_BROKEN, "RDMA unavailable: " + file
                        + " does not match this Java code (" + diff + "): rebuild the native library; using QUIC");
            }
        } catch (LinkageError e) {
            return failed(Cause.NATIVE_LIBRARY_BROKEN, "RDMA unavailable: " + file + " is not a shardlink JNI library ("
                    + e + "): rebuild the native library; using QUIC");
        }
        return new Result(RdmaAvailability.up(null, 0, "native library loaded from " + from), from);
    }

    /** The cause for an UnsatisfiedLinkError's message (package-private for tests). */
    static Cause classifyLinkError(String message) {
        return message != null && message.contains("libibverbs") ? Cause.VERBS_LIBRARY_MISSING
                : Cause.NATIVE_LIBRARY_BROKEN;
    }

    /** The reason for an UnsatisfiedLinkError from System.load (package-private for tests). */
    static String reasonForLinkError(Path file, String message) {
        String m = message == null ? "" : message;
        if (m.contains("libibverbs")) {
            return "RDMA unavailable: " + INSTALL_VERBS + "; using QUIC (" + m + ")";
        }
        if (m.contains("failed to map segment") || m.contains("operation not permitted")) {
            return "RDMA unavailable: cannot load " + file + " (" + m + "): is its directory mounted noexec? set -D"
                    + WORKDIR_PROPERTY + " to another directory; using QUIC";
        }
        return "RDMA unavailable: cannot load " + file + " (" + m
                + "): rebuild the native library (native/jni/build.sh); using QUIC";
    }

    private static Result failed(Cause cause, String reason) {
        return new Result(RdmaAvailability.down(cause, reason, null, 0), null);
    }

    // ------------------------------------------------------------------ natives (jni_library.c)

    private static native int[] nativeLayout();

    private static native int nativeVersion();

    private static native String nativeStatusName(int status);

    private static native String nativeWcStatusText(int status);
}
