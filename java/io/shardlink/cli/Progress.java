package io.shardlink.cli;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.config.Transport;
import java.io.PrintWriter;
import io.shardlink.logging.LogFields;
import java.util.Locale;
import java.util.logging.Level;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Copy progress on stderr: a redrawn bar when stderr is a terminal, otherwise a line every 10% (at most one
 * every 2 s... and at least the final one). The launcher tells whether stderr is a terminal
 * ({@code -Dshardlink.stderr.tty=true}); without it, {@link System#console()} decides.
 */
final class Progress implements CopyProgressListener, AutoCloseable {
    private final PrintWriter err;
    private final String label;
    private final long total;
    private final boolean tty;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService timer;
    private volatile long acked;
    private volatile Transport transport;
    private volatile String fallback;
    private int lastDecile = -1;
    private boolean done;

    Progress(PrintWriter err, String label, long total, boolean quiet) {
        this.err = err;
        this.label = label;
        this.total = total;
        this.tty = !quiet && stderrIsTty() && !CliLog.json(); // JSON logs: lines only
        this.timer = quiet ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shardlink-progress");
            t.setDaemon(true);
            return t;
        });
        if (timer != null) {
            timer.scheduleAtFixedRate(this::render, tty ? 100 : 500, tty ? 200 : 500, TimeUnit.MILLISECONDS);
        }
    }

    static boolean stderrIsTty() {
        String p = System.getProperty("shardlink.stderr.tty");
        if (p != null) {
            return Boolean.parseBoolean(p);
        }
        return System.console() != null;
    }

    @Override
    public void onProgress(long bytesAcked, long totalLength, Transport t) {
        acked = bytesAcked;
        transport = t;
    }

    @Override
    public void onFallback(Transport from, Transport to, long resumeOffset, Throwable cause) {
        fallback = from + " -> " + to + " at " + Units.bytes(resumeOffset) + " (" + Errors.describe(cause) + ")";
    }

    private synchronized void render() {
        if (done) {
            return;
        }
        long a = acked;
        long nanos = System.nanoTime() - start;
        double pct = total == 0 ? 100 : 100.0 * a / total;
        String rate = String.format(Locale.ROOT, "%.1f MB/s", Units.mbPerSecond(a, nanos));
        String tr = transport == null ? "" : " " + transport;
        String fb = fallback;
        if (tty) {
            int width = 30;
            int filled = (int) Math.round(pct / 100 * width);
            String bar = "#".repeat(filled) + ".".repeat(width - filled);
            err.print(String.format(Locale.ROOT, "\r%s [%s] %5.1f%%  %s / %s  %s%s   ", label, bar, pct,
                    Units.bytes(a), Units.bytes(total), rate, tr));
            if (fb != null) {
                err.print("\n" + label + ": fallback " + fb + "\n");
                fallback = null;
            }
            err.flush();
        } else {
            int decile = (int) (pct / 10);
            if (decile > lastDecile && a > 0) {
                lastDecile = decile;
                String line = String.format(Locale.ROOT, "%s: %3.0f%%  %s / %s  %s%s", label, pct, Units.bytes(a),
                        Units.bytes(total), rate, tr);
                CliLog.line(err, Level.INFO, "io.shardlink.cli." + label, line, line.substring(label.length() + 2),
                        LogFields.of(null, null).with("event", label + ".progress").with("bytes", a)
                                .with("total_bytes", total).with("transport", transport)
                                .with("mb_per_s", Units.mbPerSecond(a, nanos)));
            }
            if (fb != null) {
                CliLog.line(err, Level.WARNING, "io.shardlink.cli." + label, label + ": fallback " + fb, "fallback " + fb,
                        LogFields.of(null, null).with("event", label + ".fallback").with("cause", fb));
                fallback = null;
            }
            err.flush();
        }
    }

    /** Stops the display, drawing the final state. */
    @Override
    public void close() {
        if (timer == null) {
            return;
        }
        timer.shutdownNow();
        try {
            timer.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (done) {
                return;
            }
            if (tty) {
                render();
                err.println();
            } else if (acked == total && lastDecile < 10) {
                lastDecile = 9;
                render();
            }
            done = true;
            err.flush();
        }
    }
}
