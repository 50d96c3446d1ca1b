package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.model.VmSpec;
import io.javalin.http.HttpResponseException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 15 #1 and strict input, on the real server (random port, temporary data dir, nothing boots): body limits per
 * route with and without Content-Length, content types per route, and Javalin's and Jetty's own errors, all in the
 * API's error shape.
 */
class ServerLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static VmctlServer server;
    static final HttpClient http = HttpClient.newHttpClient();

    record Answer(int status, String contentType, JsonNode json) {}

    @BeforeAll
    static void up() throws Exception {
        dir = Files.createTempDirectory("vmctl-limits-");
        server = new VmctlServer(new VmctlServer.Options(dir, "127.0.0.1", 0, VmSpec.Accel.TCG, Duration.ofSeconds(30))).start();
        token = Files.readString(dir.resolve("admin.token")).strip();
    }

    /** The admin's token (every route needs one: the limits apply to requests that got past it). */
    static String token;

    @AfterAll
    static void down() throws Exception {
        if (server != null) server.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static Answer send(String method, String path, String contentType, HttpRequest.BodyPublisher body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).method(method, body);
        if (contentType != null) b.header("Content-Type", contentType);
        b.header("Authorization", "Bearer " + token);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        String ct = r.headers().firstValue("Content-Type").orElse("");
        return new Answer(r.statusCode(), ct, ct.startsWith("application/json") ? JSON.readTree(r.body()) : null);
    }

    static void assertError(Answer a, int status, String error, String detail) {
        assertThat(a.status()).as(String.valueOf(a.json())).isEqualTo(status);
        assertThat(a.contentType()).startsWith("application/json");
        assertThat(a.json().path("error").asText()).contains(error);
        assertThat(a.json().path("detail").asText()).contains(detail);
    }

    @Test
    void aTopologyFileOverOneMebibyteIs413NamingTheLimit() throws Exception {
        String big = "name: x\n# " + "c".repeat(1 << 20);
        assertError(send("POST", "/api/v1/topologies", "application/yaml", HttpRequest.BodyPublishers.ofString(big)),
                413, "larger than the limit of POST /api/v1/topologies", "at most 1048576 bytes (1 MiB)");
        // the same without Content-Length (chunked): cut off while it is read
        InputStream chunked = new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8));
        assertError(send("POST", "/api/v1/scenarios", "application/yaml", HttpRequest.BodyPublishers.ofInputStream(() -> chunked)),
                413, "larger than the limit of POST /api/v1/scenarios", "at most 1048576 bytes");
        assertError(send("POST", "/api/v1/vms", "application/json", HttpRequest.BodyPublishers.ofString("{\"name\":\"" + big + "\"}")),
                413, "POST /api/v1/vms", "1 MiB");
        assertThat(server.vms().list()).isEmpty();
    }

    @Test
    void eachRouteTakesItsOwnContentTypes() throws Exception {
        assertError(send("POST", "/api/v1/vms", "text/plain", HttpRequest.BodyPublishers.ofString("{\"name\":\"a\",\"image\":\"tiny\"}")),
                415, "unsupported Content-Type 'text/plain' for POST /api/v1/vms", "allowed: application/json");
        assertError(send("POST", "/api/v1/networks", null, HttpRequest.BodyPublishers.ofString("{}")),
                415, "without Content-Type", "application/json");
        assertError(send("POST", "/api/v1/topologies", "application/x-www-form-urlencoded", HttpRequest.BodyPublishers.ofString("a=b")),
                415, "POST /api/v1/topologies", "application/yaml, application/x-yaml, text/yaml, text/x-yaml, application/json");
        assertError(send("POST", "/api/v1/snapshots/import", "application/json", HttpRequest.BodyPublishers.ofString("{}")),
                415, "POST /api/v1/snapshots/import", "application/zstd");
        // YAML types and charset parameters are fine (the file itself is then checked: 400, not 415)
        for (String ct : java.util.List.of("text/yaml", "application/x-yaml; charset=utf-8", "application/json")) {
            Answer a = send("POST", "/api/v1/topologies?dryRun=true", ct, HttpRequest.BodyPublishers.ofString("name: 5\n"));
            assertThat(a.status()).as(ct + " " + a.json()).isEqualTo(400);
        }
        // a route without a body: nothing, or JSON
        assertError(send("POST", "/api/v1/vms/nope/start", null, HttpRequest.BodyPublishers.noBody()), 404, "nope", "");
        assertError(send("POST", "/api/v1/vms/nope/start", "text/plain", HttpRequest.BodyPublishers.ofString("x")), 415, "start", "");
        assertThat(server.vms().list()).isEmpty();
    }

    @Test
    void javalinsAndJettysOwnErrorsAreInTheErrorShape() throws Exception {
        assertError(send("PUT", "/api/v1/vms", null, HttpRequest.BodyPublishers.noBody()), 405,
                "method PUT is not allowed on /api/v1/vms", "allowed: GET, POST");
        assertError(send("GET", "/api/v1/no-such-thing", null, HttpRequest.BodyPublishers.noBody()), 404,
                "no such endpoint: GET /api/v1/no-such-thing", "openapi.json");
        // a Host header Jetty cannot parse never reaches Javalin
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write("GET /api/v1/vms HTTP/1.1\r\nHost: %%\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 400").contains("application/json");
            JsonNode body = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
            assertThat(body.path("error").asText()).startsWith("HTTP 400");
        }
    }

    @Test
    void followersAreCappedAndGiveTheirPlaceBack() {
        Followers f = new Followers("test followers");
        for (int i = 0; i < Followers.MAX; i++) f.enter();
        assertThatThrownBy(f::enter).isInstanceOf(HttpResponseException.class)
                .hasMessageContaining("too many test followers (" + Followers.MAX + " at once)")
                .satisfies(e -> assertThat(((HttpResponseException) e).getStatus()).isEqualTo(429));
        f.leave();
        f.enter();
        assertThat(f.inUse()).isEqualTo(Followers.MAX);
    }

    @Test
    void routeRulesMatchTheMostLiteralRoute() {
        RouteRules r = new RouteRules("{\"paths\":{}}", java.util.Map.of("POST /api/v1/snapshots/import", 5L));
        r.add("POST", "/api/v1/snapshots/{name}/clone");
        r.add("POST", "/api/v1/snapshots/import");
        r.add("GET", "/run/{name}/<path>");
        assertThat(r.match("POST", "/api/v1/snapshots/import").maxBytes()).isEqualTo(5L);
        assertThat(r.match("POST", "/api/v1/snapshots/s1/clone").maxBytes()).isEqualTo(RouteRules.BODY_BYTES);
        assertThat(r.match("GET", "/run/t/a/b/c").path()).isEqualTo("/run/{name}/{path}");
        assertThat(r.match("GET", "/run/t")).isNull();
        assertThat(r.match("DELETE", "/api/v1/snapshots/import")).isNull();
    }
}
