package io.shardlink.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures the log records of every shardlink class (System.Logger goes to java.util.logging here) while
 * open, so a test can assert what was logged and how often.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger = Logger.getLogger("io.shardlink");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    public LogCapture() {
        handler.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    /** Records at WARNING or above whose message (or thrown's message) matches. */
    public List<LogRecord> warnings(Predicate<String> message) {
        return records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                .filter(r -> message.test(String.valueOf(r.getMessage())))
                .toList();
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
