package io.shardlink.transfer;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.config.Transport;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Calls one copy's {@link CopyProgressListener} so that a listener that throws can neither fail the copy
 * nor flood the log (it may be called for every chunk): its first exception is logged once per copy
 * (WARNING, naming the copy, with the stack trace); later ones are only counted.
 */
final class ProgressNotifier {
    private static final System.Logger LOG = System.getLogger(ProgressNotifier.class.getName());

    private final CopyProgressListener listener;
    private final Supplier<String> copy;
    private final AtomicInteger thrown = new AtomicInteger();

    ProgressNotifier(CopyProgressListener listener, Supplier<String> copy) {
        this.listener = listener == null ? CopyProgressListener.NONE : listener;
        this.copy = copy;
    }

    void onProgress(long bytesAcked, long totalLength, Transport transport) {
        try {
            listener.onProgress(bytesAcked, totalLength, transport);
        } catch (RuntimeException e) {
            threw("onProgress", e);
        }
    }

    void onFallback(Transport from, Transport to, long resumeOffset, Throwable cause) {
        try {
            listener.onFallback(from, to, resumeOffset, cause);
        } catch (RuntimeException e) {
            threw("onFallback", e);
        }
    }

    private void threw(String method, RuntimeException e) {
        if (thrown.getAndIncrement() == 0) {
            LOG.log(System.Logger.Level.WARNING, "the progress listener of " + copy.get() + " threw from " + method
                    + " (ignored; this is logged once per copy)", e);
        }
    }

    /** Exceptions the listener threw so far. */
    int thrown() {
        return thrown.get();
    }
}
