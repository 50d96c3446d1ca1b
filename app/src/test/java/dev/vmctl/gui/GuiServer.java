package dev.vmctl.gui;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * Stands in for the vmctl server's GUI routes in the test: serves the built GUI (classpath layout
 * dev/vmctl/gui/ on disk) at / and /assets/…, and proxies /api/ to a vmctl server, streaming (SSE, console).
 */
final class GuiServer implements AutoCloseable {
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "js", "text/javascript", "css", "text/css", "svg", "image/svg+xml",
            "png", "image/png", "json", "application/json", "ico", "image/x-icon");
    private static final List<String> REQUEST_HEADERS = List.of("Content-Type", "Accept", "Last-Event-ID", "Cookie");

    private final HttpServer server;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Path root;
    private final URI api;

    GuiServer(Path root, URI api) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.api = api;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/api/", this::proxy);
        server.createContext("/", this::file);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void file(HttpExchange ex) throws IOException {
        try (ex) {
            String p = ex.getRequestURI().getPath();
            Path f = root.resolve(p.equals("/") ? "index.html" : p.substring(1)).normalize();
            if (!f.startsWith(root) || !Files.isRegularFile(f)) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String name = f.getFileName().toString();
            ex.getResponseHeaders().set("Content-Type", TYPES.getOrDefault(name.substring(name.lastIndexOf('.') + 1), "application/octet-stream"));
            byte[] body = Files.readAllBytes(f);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        }
    }

    private void proxy(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            HttpRequest.Builder rb = HttpRequest.newBuilder(api.resolve(ex.getRequestURI().getRawPath()
                            + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery())))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            for (String h : REQUEST_HEADERS) {
                String v = ex.getRequestHeaders().getFirst(h);
                if (v != null) rb.header(h, v);
            }
            HttpResponse<InputStream> r;
            try {
                r = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(502, -1);
                return;
            }
            r.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().set("Content-Type", v));
            r.headers().firstValue("Cache-Control").ifPresent(v -> ex.getResponseHeaders().set("Cache-Control", v));
            ex.sendResponseHeaders(r.statusCode(), 0);
            try (InputStream in = r.body(); OutputStream out = ex.getResponseBody()) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // the browser went away (closed EventSource, aborted console)
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
