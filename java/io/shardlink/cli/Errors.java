package io.shardlink.cli;

import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** Turns exceptions into one readable line. */
final class Errors {
    private Errors() {}

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException
                || t instanceof InvocationTargetException || t instanceof UncheckedIOException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static String describe(Throwable t) {
        t = unwrap(t);
        if (t instanceof CliException) {
            return t.getMessage();
        }
        if (t instanceof NoSuchFileException e) {
            return "no such file: " + e.getFile();
        }
        if (t instanceof AccessDeniedException e) {
            return "permission denied: " + e.getFile();
        }
        if (t instanceof FileAlreadyExistsException e) {
            return "file exists: " + e.getFile();
        }
        if (t instanceof TimeoutException) {
            return "timed out" + (t.getMessage() != null ? ": " + t.getMessage() : "");
        }
        if (t instanceof IllegalArgumentException && t.getMessage() != null) {
            return t.getMessage();
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return t.getClass().getSimpleName();
        }
        if (m.endsWith(": null")) {
            // a cause without a message (e.g. CompletableFuture.orTimeout's TimeoutException): say what it was
            m = m.substring(0, m.length() - ": null".length()) + ": " + causeWithoutMessage(t);
        }
        return t instanceof io.shardlink.api.ShardlinkException || t instanceof java.io.IOException
                ? oneLine(m) : t.getClass().getSimpleName() + ": " + oneLine(m);
    }

    private static String causeWithoutMessage(Throwable t) {
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
            if (c instanceof TimeoutException) {
                return "no answer in time (is a shardlink node listening there, and is UDP allowed? a slow host may need "
                        + "--connect-timeout)";
            }
            if (c.getMessage() != null) {
                return c.getMessage();
            }
        }
        return t.getCause() != null ? t.getCause().getClass().getSimpleName() : "unknown cause";
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
