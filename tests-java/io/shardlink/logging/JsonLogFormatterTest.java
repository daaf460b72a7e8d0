package io.shardlink.logging;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.testing.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Log records made through System.Logger (as shardlink's code makes them) come out as one JSON object per line. */
class JsonLogFormatterTest {
    private static final String NAME = "io.shardlink.test.JsonLogFormatterTest";

    /** Captures what a handler with the JSON formatter would write. */
    private static final class Capture extends Handler {
        final List<String> lines = new ArrayList<>();

        Capture(String defaultNode) {
            setFormatter(new JsonLogFormatter(defaultNode));
            setLevel(Level.ALL);
        }

        @Override
        public synchronized void publish(LogRecord r) {
            String s = getFormatter().format(r);
            assertThat(s).endsWith(System.lineSeparator());
            String body = s.substring(0, s.length() - System.lineSeparator().length());
            assertThat(body).doesNotContain("\n").doesNotContain("\r"); // one line per record
            lines.add(body);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    @Test
    void eventFieldsNodePeerAndExceptionsBecomeMembers() {
        Logger jul = Logger.getLogger(NAME);
        Capture c = new Capture("the-node");
        jul.addHandler(c);
        jul.setUseParentHandlers(false);
        jul.setLevel(Level.ALL);
        try {
            System.Logger log = System.getLogger(NAME);
            log.log(System.Logger.Level.WARNING, "copy of shard 7 moves from RDMA to QUIC\nafter a \"cut\"",
                    LogFields.of("node-a", "node-b").with("event", "copy.fallback").with("shard", 7L)
                            .with("bytes", 8_388_608L).with("transport", Transport.QUIC).with("ratio", 0.5)
                            .with("cause", new IllegalStateException("work completion error: retry exceeded")));
            log.log(System.Logger.Level.INFO, "plain {} text, no fields");
            log.log(System.Logger.Level.ERROR, "it broke", new RuntimeException("boom"));
            log.log(System.Logger.Level.DEBUG, "debug");
            log.log(System.Logger.Level.TRACE, "trace");

            assertThat(c.lines).hasSize(5);
            List<Map<String, Object>> objs = c.lines.stream().map(Json::object).toList();
            for (Map<String, Object> o : objs) {
                assertThat(o).containsKeys("time", "level", "logger", "message", "node", "peer");
                assertThat((String) o.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{3})?Z");
                assertThat(o.get("logger")).isEqualTo(NAME);
            }
            Map<String, Object> e = objs.get(0);
            assertThat(e).containsEntry("level", "WARN").containsEntry("node", "node-a").containsEntry("peer", "node-b")
                    .containsEntry("event", "copy.fallback").containsEntry("shard", 7L).containsEntry("bytes", 8_388_608L)
                    .containsEntry("transport", "QUIC").containsEntry("ratio", 0.5)
                    .containsEntry("cause", "work completion error: retry exceeded")
                    .containsEntry("message", "copy of shard 7 moves from RDMA to QUIC\nafter a \"cut\"");
            assertThat(objs.get(1)).containsEntry("level", "INFO").containsEntry("node", "the-node")
                    .containsEntry("peer", null).containsEntry("message", "plain {} text, no fields");
            assertThat(objs.get(2)).containsEntry("level", "ERROR").containsEntry("message", "it broke");
            assertThat((String) objs.get(2).get("exception")).startsWith("java.lang.RuntimeException: boom")
                    .contains("at io.shardlink.logging.JsonLogFormatterTest");
            assertThat(objs.get(3)).containsEntry("level", "DEBUG");
            assertThat(objs.get(4)).containsEntry("level", "TRACE");
        } finally {
            jul.removeHandler(c);
            jul.setUseParentHandlers(true);
            jul.setLevel(null);
        }
    }

    @Test
    void installPutsTheFormatterOnEveryRootHandler() {
        Logger root = Logger.getLogger("");
        List<java.util.logging.Formatter> before = new ArrayList<>();
        for (Handler h : root.getHandlers()) {
            before.add(h.getFormatter());
        }
        try {
            JsonLogFormatter f = JsonLogFormatter.install("n1");
            assertThat(root.getHandlers()).isNotEmpty();
            for (Handler h : root.getHandlers()) {
                assertThat(h.getFormatter()).isSameAs(f);
            }
        } finally {
            Handler[] hs = root.getHandlers();
            for (int i = 0; i < hs.length; i++) {
                hs[i].setFormatter(i < before.size() ? before.get(i) : new java.util.logging.SimpleFormatter());
            }
        }
    }
}
