package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A stand-in for the vmctl server on a random port: canned answers per route, every request recorded. */
final class FakeServer implements AutoCloseable {
    /** {@code body} is the request body as UTF-8 text, {@code bytes} the same body as it came. */
    record Request(String method, String path, String query, Map<String, List<String>> headers, String body,
                   byte[] bytes) {
        JsonNode json() {
            try {
                return Json.parse(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        }
    }

    @FunctionalInterface
    interface Handler {
        void handle(Request req, HttpExchange ex) throws Exception;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Handler> routes = new ConcurrentHashMap<>();

    FakeServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::dispatch);
        server.setExecutor(executor);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    FakeServer on(String method, String path, Handler handler) {
        routes.put(method + " " + path, handler);
        return this;
    }

    /** Always the same answer. */
    FakeServer json(String method, String path, int status, String body) {
        return on(method, path, (req, ex) -> reply(ex, status, "application/json", body));
    }

    /** One answer per request, in order; the last one repeats. */
    FakeServer sequence(String method, String path, int status, String... bodies) {
        Deque<String> queue = new ArrayDeque<>(List.of(bodies));
        return on(method, path, (req, ex) -> {
            String body;
            synchronized (queue) {
                body = queue.size() > 1 ? queue.removeFirst() : queue.getFirst();
            }
            reply(ex, status, "application/json", body);
        });
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    List<Request> requests(String method, String path) {
        return requests.stream().filter(r -> r.method().equals(method) && r.path().equals(path)).toList();
    }

    static void reply(HttpExchange ex, int status, String contentType, String body) throws IOException {
        reply(ex, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    static void reply(HttpExchange ex, int status, String contentType, byte[] bytes) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(bytes);
        }
    }

    private void dispatch(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] bytes = ex.getRequestBody().readAllBytes();
            Request req = new Request(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                    ex.getRequestURI().getRawQuery(), Map.copyOf(ex.getRequestHeaders()),
                    new String(bytes, StandardCharsets.UTF_8), bytes);
            requests.add(req);
            Handler h = routes.get(req.method() + " " + req.path());
            if (h == null) {
                reply(ex, 404, "application/json",
                        "{\"error\":\"no route: " + req.method() + " " + req.path() + "\"}");
                return;
            }
            h.handle(req, ex);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
