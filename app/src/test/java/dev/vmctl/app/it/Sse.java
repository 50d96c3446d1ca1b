package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Listens on the server's SSE stream and keeps every event it receives. */
final class Sse implements AutoCloseable {
    private final List<JsonNode> events = new ArrayList<>();
    private final InputStream body;
    private final Thread reader;

    /** With {@code token} as Bearer (every route needs one). */
    Sse(String baseUrl, String token) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/events"))
                .header("Accept", "text/event-stream").header("Authorization", "Bearer " + token).build();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) throw new IllegalStateException("events: HTTP " + r.statusCode());
        body = r.body();
        reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("data:")) {
                        JsonNode n = Api.JSON.readTree(line.substring(5).trim());
                        synchronized (events) {
                            events.add(n);
                            events.notifyAll();
                        }
                    }
                }
            } catch (Exception ignored) {
                // closed by the test
            }
        });
    }

    List<JsonNode> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** Waits for an event matching the predicate. */
    JsonNode await(Predicate<JsonNode> p, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (events) {
            while (true) {
                for (JsonNode e : events) if (p.test(e)) return e;
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) throw new AssertionError("no matching event within " + timeout + "; got " + events);
                events.wait(left);
            }
        }
    }

    static Predicate<JsonNode> state(String vm, String state) {
        return e -> "vm.state".equals(e.path("type").asText()) && vm.equals(e.path("name").asText())
                && state.equals(e.path("state").asText());
    }

    @Override
    public void close() throws Exception {
        body.close();
        reader.interrupt();
    }
}
