package io.shardlink.status;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * The status page on a node's HTTP server: {@code GET /} (the page), {@code GET /status.json} (what it
 * polls), and its assets under {@code /assets/}: the page's own script and style, and uPlot (the charting
 * library, from its WebJar on the class path). Everything comes from the jar: no CDN, no internet.
 * Any other path under {@code /} is a 404 naming the endpoints.
 */
public final class StatusHttp {
    static final String UPLOT_POM = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
    private static final String OWN = "io/shardlink/status/";

    private StatusHttp() {}

    /** Registers {@code /} and {@code /status.json} on {@code http}; {@code json} renders the document. */
    public static void install(HttpServer http, Supplier<String> json) {
        String uplot = "META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
        Map<String, Asset> assets = Map.of(
                "/", new Asset(OWN + "index.html", "text/html; charset=utf-8"),
                "/index.html", new Asset(OWN + "index.html", "text/html; charset=utf-8"),
                "/assets/status.js", new Asset(OWN + "status.js", "text/javascript; charset=utf-8"),
                "/assets/status.css", new Asset(OWN + "status.css", "text/css; charset=utf-8"),
                "/assets/uPlot.iife.min.js", new Asset(uplot + "uPlot.iife.min.js", "text/javascript; charset=utf-8"),
                "/assets/uPlot.min.css", new Asset(uplot + "uPlot.min.css", "text/css; charset=utf-8"));
        for (Asset a : assets.values()) {
            a.load(); // fail at start, not on the first request, if the jar lacks one
        }
        http.createContext("/status.json", ex -> {
            if (!ex.getRequestURI().getPath().equals("/status.json")) {
                notFound(ex);
                return;
            }
            respond(ex, 200, "application/json; charset=utf-8", json.get().getBytes(StandardCharsets.UTF_8));
        });
        http.createContext("/", ex -> {
            Asset a = assets.get(ex.getRequestURI().getPath());
            if (a == null) {
                notFound(ex);
            } else {
                respond(ex, 200, a.type, a.load());
            }
        });
    }

    /** The uPlot WebJar's version (from its Maven metadata on the class path). */
    static String uplotVersion() {
        try (InputStream in = StatusHttp.class.getClassLoader().getResourceAsStream(UPLOT_POM)) {
            if (in == null) {
                throw new IllegalStateException("the uPlot WebJar (org.webjars.npm:uplot) is not on the class path");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void notFound(HttpExchange ex) throws IOException {
        respond(ex, 404, "text/plain; charset=utf-8",
                "not found: try / (status page), /status.json, /health or /metrics\n".getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        try (ex) {
            ex.getResponseHeaders().set("Content-Type", type);
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(code, -1);
                return;
            }
            ex.sendResponseHeaders(code, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        }
    }

    /** A file from the class path, read once. */
    private static final class Asset {
        final String resource;
        final String type;
        private volatile byte[] bytes;

        Asset(String resource, String type) {
            this.resource = resource;
            this.type = type;
        }

        byte[] load() {
            byte[] b = bytes;
            if (b == null) {
                try (InputStream in = StatusHttp.class.getClassLoader().getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IllegalStateException("status page asset " + resource + " is not on the class path");
                    }
                    b = in.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                bytes = b;
            }
            return b;
        }
    }
}
