package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A tiny REST client for the tests (the CLI has its own; tests check the wire format directly). */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();

    record Response(int status, JsonNode json, String body, java.net.http.HttpHeaders headers) {
        /** The first value of a response header, or null. */
        String header(String name) {
            return headers == null ? null : headers.firstValue(name).orElse(null);
        }

        /** The operation id from Operation-Location, or null. */
        String operation() {
            String loc = header("Operation-Location");
            return loc == null ? null : loc.substring(loc.lastIndexOf('/') + 1);
        }
    }

    private final String base;
    private final java.util.function.Supplier<String> token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A client with the admin's token, read from the server's DATA/admin.token at each request (a test may rotate it). */
    Api(String base, java.nio.file.Path dataDir) {
        this(base, () -> ServerProcess.readToken(dataDir));
    }

    /** A client with the given token (null: none). */
    private Api(String base, java.util.function.Supplier<String> token) {
        this.base = base;
        this.token = token;
    }

    /** The same server with another token (null: no token at all). */
    Api as(String otherToken) {
        return new Api(base, () -> otherToken);
    }

    Response get(String path) { return send("GET", path, null); }
    Response post(String path, Object body) { return send("POST", path, body); }
    Response delete(String path) { return send("DELETE", path, null); }

    Response send(String method, String path, Object body) {
        return send(method, path, body, Duration.ofMinutes(4));
    }

    Response send(String method, String path, Object body, Duration timeout) {
        try {
            String b = body == null ? "" : body instanceof String s ? s : JSON.writeValueAsString(body);
            HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .method(method, b.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(b));
            String t = token.get();
            if (t != null) rb.header("Authorization", "Bearer " + t);
            HttpResponse<String> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode j = null;
            if (r.headers().firstValue("Content-Type").orElse("").contains("json")) j = JSON.readTree(r.body());
            return new Response(r.statusCode(), j, r.body(), r.headers());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
