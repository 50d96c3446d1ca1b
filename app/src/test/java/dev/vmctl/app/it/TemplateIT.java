package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request-driven nodes on real QEMU, namespaces and segments: a template made from a running node whose busybox httpd
 * echoes request bodies (CGI); every request to /run/NAME/… is served by a fresh copy of the node in its own segment
 * (the copy keeps the template's address 198.18.61.10: each segment is its own namespace), then removed. Sequential
 * and concurrent requests get their own bodies back, the limit answers 429 with Retry-After, a slow service 504, a
 * broken one 502; the warm pool serves; the JSON invocation route; the template outlives its topology and owns its
 * snapshots; a kill -9 of the server in the middle of a request leaves nothing after the restart. Own server (it is
 * killed); the fixture's close checks that no namespace or QEMU process of it is left.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TemplateIT {
    static final String TOPO = """
            apiVersion: vmctl/v1
            kind: Topology
            name: tl
            networks:
              - {name: lan, subnet: 198.18.61.0/24}
            nodes:
              - name: web
                vms:
                  - {name: srv, image: tiny, memory: 128M, nics: [{network: lan, ip: 198.18.61.10}]}
            """;
    /** An echo CGI (the body back, or who and what was asked), a slow one, httpd on 8080, a port 8081 that hangs up at once. */
    static final String SETUP = """
            mkdir -p /www/cgi-bin
            cat > /www/cgi-bin/echo <<'X'
            #!/bin/sh
            printf 'Content-Type: text/plain\\r\\nX-Echo: yes\\r\\n\\r\\n'
            if [ -n "$CONTENT_LENGTH" ] && [ "$CONTENT_LENGTH" -gt 0 ]; then head -c "$CONTENT_LENGTH"; else echo "$(hostname) $REQUEST_METHOD $REQUEST_URI $HTTP_X_TEST"; fi
            X
            printf '#!/bin/sh\\nsleep 20\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nlate\\\\n"\\n' > /www/cgi-bin/slow
            chmod +x /www/cgi-bin/echo /www/cgi-bin/slow
            echo ok > /www/index.html
            httpd -p 8080 -h /www
            (while true; do nc -l -p 8081 -e /bin/true; done) </dev/null >/dev/null 2>&1 &
            echo ready
            """;

    static Fixture f;
    static Path tmp;
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void up() throws Exception {
        tmp = Files.createTempDirectory("vmctl-tpl-it-");
        f = Fixture.create("vmctl-tpl-");
        Path topo = tmp.resolve("tl.yaml");
        Files.writeString(topo, TOPO);
        ok(f.cli.run("up", "-f", topo.toString()));
        Cli.Result s = f.cli.run("vm", "exec", "tl-web-srv", "--timeout", "60s", "--", "sh", "-c", SETUP);
        ok(s);
        assertThat(s.out()).contains("ready");
        ok(f.cli.run("template", "create", "echo", "--from", "tl/web", "--port", "8080", "--max-concurrent", "5", "--timeout", "60s"));
        ok(f.cli.run("template", "create", "slow", "--from", "tl/web", "--port", "8080", "--timeout", "4s"));
        ok(f.cli.run("template", "create", "bad", "--from", "tl/web", "--port", "8081"));
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (f != null) {
                for (String t : List.of("echo", "slow", "bad")) f.api.delete("/api/v1/templates/" + t);
                f.close();
            }
        } finally {
            if (tmp != null) Fixture.deleteTree(tmp);
        }
    }

    private static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }

    static HttpResponse<String> run(String method, String path, String body, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(f.server.url() + "/run/" + path)).timeout(Duration.ofMinutes(2))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            headers.forEach(b::header);
            if (!headers.containsKey("Authorization")) b.header("Authorization", "Bearer " + f.token());
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(method + " /run/" + path + ": " + e, e);
        }
    }

    /** Waits until the server holds no segment (each request's is removed right after its answer). */
    static void awaitNoSegments() throws InterruptedException {
        JsonNode segs = null;
        for (int i = 0; i < 300; i++) {
            segs = f.api.get("/api/v1/segments").json();
            if (segs.isEmpty()) return;
            Thread.sleep(100);
        }
        assertThat(segs).as("segments left after the requests").isEmpty();
    }

    @Test
    @Order(1)
    void badInputIsRefusedNamingTheField() {
        Api.Response port = f.api.post("/api/v1/templates", Map.of("name", "x", "from", "tl/web", "port", 0));
        assertThat(port.status()).isEqualTo(400);
        assertThat(port.body()).contains("port").contains("1-65535");
        Api.Response from = f.api.post("/api/v1/templates", Map.of("name", "x", "from", "nonode", "port", 80));
        assertThat(from.status()).isEqualTo(400);
        assertThat(from.body()).contains("from").contains("TOPOLOGY/NODE");
        Api.Response ready = f.api.post("/api/v1/templates", Map.of("name", "x", "from", "tl/web", "port", 80, "ready", "udp"));
        assertThat(ready.status()).isEqualTo(400);
        assertThat(ready.body()).contains("ready").contains("http:/PATH");
        assertThat(f.api.post("/api/v1/templates", Map.of("name", "echo", "from", "tl/web", "port", 8080)).status()).isEqualTo(409);
        assertThat(f.api.get("/api/v1/templates/nope").status()).isEqualTo(404);
        assertThat(run("GET", "nope/x", null, Map.of()).statusCode()).isEqualTo(404);
        assertThat(f.api.get("/api/v1/templates").json()).hasSize(3);
    }

    @Test
    @Order(2)
    void twentySequentialRequestsEachGetAFreshNodeAndTheirOwnBody() throws Exception {
        for (int i = 0; i < 20; i++) {
            String body = "request " + i + " " + "x".repeat(i * 50);
            HttpResponse<String> r = run("POST", "echo/cgi-bin/echo", body, Map.of("Content-Type", "text/plain"));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(body);
            assertThat(r.headers().firstValue("X-Echo")).hasValue("yes");
            String timing = r.headers().firstValue("Server-Timing").orElse("");
            for (String part : List.of("queue;dur=", "segment;dur=", "restore;dur=", "ready;dur=", "upstream;dur=", "total;dur=")) {
                assertThat(timing).as("Server-Timing").contains(part);
            }
        }
        // method, path, query and headers reach the service; the copy has its own host name (not the template VM's)
        HttpResponse<String> get = run("GET", "echo/cgi-bin/echo?q=1", null, Map.of("X-Test", "forwarded"));
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).startsWith("run-").contains("GET /cgi-bin/echo?q=1 forwarded").doesNotContain("tl-web-srv");
        awaitNoSegments();
        JsonNode runs = f.api.get("/api/v1/templates/echo/invocations?limit=50").json();
        assertThat(runs).hasSizeGreaterThanOrEqualTo(21);
        for (JsonNode r : runs) {
            assertThat(r.path("status").asInt()).isEqualTo(200);
            assertThat(r.path("timings").has("restore")).isTrue();
        }
    }

    @Test
    @Order(3)
    void fiveConcurrentRequestsAreServedAndMoreThanTheLimitGet429() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int i = 0; i < 5; i++) {
            String body = "concurrent " + i;
            calls.add(CompletableFuture.supplyAsync(() -> {
                await(go);
                return run("POST", "echo/cgi-bin/echo", body, Map.of());
            }));
        }
        go.countDown();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = calls.get(i).get();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("concurrent " + i);
        }
        // 8 at once against a limit of 5: some are refused at once with Retry-After, the others served
        calls.clear();
        CountDownLatch go2 = new CountDownLatch(1);
        for (int i = 0; i < 8; i++) {
            String body = "burst " + i;
            calls.add(CompletableFuture.supplyAsync(() -> {
                await(go2);
                return run("POST", "echo/cgi-bin/echo", body, Map.of());
            }));
        }
        go2.countDown();
        int served = 0, refused = 0;
        for (int i = 0; i < 8; i++) {
            HttpResponse<String> r = calls.get(i).get();
            if (r.statusCode() == 200) {
                served++;
                assertThat(r.body()).isEqualTo("burst " + i);
            } else {
                refused++;
                assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
                assertThat(r.headers().firstValue("Retry-After")).isPresent();
                assertThat(r.body()).contains("limit of 5");
            }
        }
        assertThat(served).isBetween(5, 8);
        assertThat(refused).isEqualTo(8 - served).isGreaterThanOrEqualTo(1);
        awaitNoSegments();
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    @Order(4)
    void aSlowServiceGets504AndABrokenOne502AndBothNodesAreRemoved() throws Exception {
        HttpResponse<String> slow = run("GET", "slow/cgi-bin/slow", null, Map.of());
        assertThat(slow.statusCode()).as(slow.body()).isEqualTo(504);
        assertThat(slow.body()).contains("timeout");
        assertThat(slow.headers().firstValue("Server-Timing")).isPresent();
        HttpResponse<String> bad = run("GET", "bad/x", null, Map.of());
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(502);
        assertThat(bad.body()).contains("the service failed");
        awaitNoSegments();
        JsonNode runs = f.api.get("/api/v1/templates/slow/invocations").json();
        assertThat(runs.get(0).path("status").asInt()).isEqualTo(504);
        assertThat(runs.get(0).path("error").asText()).contains("timeout");
        for (int i = 0; i < 100 && !f.api.get("/api/v1/templates/slow/invocations").json().get(0).path("cleaned").asBoolean(); i++) Thread.sleep(50);
        assertThat(f.api.get("/api/v1/templates/slow/invocations").json().get(0).path("cleaned").asBoolean()).as("the 504's node and segment removed").isTrue();
    }

    @Test
    @Order(5)
    void theJsonInvocationRouteAnswersStatusHeadersBodyAndTimings() {
        Api.Response r = f.api.post("/api/v1/templates/echo/invocations",
                Map.of("method", "POST", "path", "/cgi-bin/echo", "headers", Map.of("Content-Type", "text/plain"), "body", "json body"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("status").asInt()).isEqualTo(200);
        assertThat(r.json().path("body").asText()).isEqualTo("json body");
        assertThat(r.json().path("headers").path("X-Echo").asText()).isEqualTo("yes");
        for (String t : List.of("queue", "segment", "restore", "ready", "upstream", "total")) {
            assertThat(r.json().path("timings").has(t)).as(t).isTrue();
        }
        Api.Response badMethod = f.api.post("/api/v1/templates/echo/invocations", Map.of("method", "BREW"));
        assertThat(badMethod.status()).isEqualTo(400);
        assertThat(badMethod.body()).contains("method");
        // the CLI: body to stdout, Server-Timing to stderr with --timing
        Cli.Result cli = f.cli.run("invoke", "echo", "--method", "POST", "--path", "/cgi-bin/echo", "--data", "from the cli", "--timing");
        ok(cli);
        assertThat(cli.out()).isEqualTo("from the cli");
        assertThat(cli.err()).contains("Server-Timing:").contains("restore;dur=");
    }

    @Test
    @Order(6)
    void theWarmPoolServesFromAPausedCopy() throws Exception {
        ok(f.cli.run("template", "pool", "echo", "--warm", "1"));
        JsonNode t = null;
        for (int i = 0; i < 600; i++) {
            t = f.api.get("/api/v1/templates/echo").json();
            if (t.path("poolReady").asInt() >= 1) break;
            Thread.sleep(100);
        }
        assertThat(t.path("poolReady").asInt()).as(t.toString()).isEqualTo(1);
        HttpResponse<String> r = run("POST", "echo/cgi-bin/echo", "pooled", Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("pooled");
        assertThat(r.headers().firstValue("Server-Timing").orElse("")).contains("resume;dur=");
        JsonNode last = f.api.get("/api/v1/templates/echo/invocations?limit=1").json().get(0);
        assertThat(last.path("pooled").asBoolean()).isTrue();
        ok(f.cli.run("template", "pool", "echo", "--warm", "0"));
        awaitNoSegments();
    }

    @Test
    @Order(7)
    void theTemplateOwnsItsSnapshotAndOutlivesItsTopology() throws Exception {
        String snap = f.api.get("/api/v1/templates/echo").json().path("members").get(0).path("snapshot").asText();
        Api.Response rm = f.api.delete("/api/v1/snapshots/" + snap);
        assertThat(rm.status()).as(rm.body()).isEqualTo(409);
        assertThat(rm.body()).contains("template echo");
        ok(f.cli.run("down", "tl"));
        HttpResponse<String> r = run("POST", "echo/cgi-bin/echo", "after down", Map.of());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("after down");
        awaitNoSegments();
    }

    @Test
    @Order(8)
    void aKillOfTheServerInTheMiddleOfARequestLeavesNothingAfterTheRestart() throws Exception {
        CompletableFuture<Void> call = CompletableFuture.runAsync(() -> {
            try {
                run("POST", "echo/cgi-bin/echo", "crash", Map.of());
            } catch (RuntimeException expected) {
                // the server died under it
            }
        });
        // wait until the request's segment exists, then kill the server
        for (int i = 0; i < 200 && f.api.get("/api/v1/segments").json().isEmpty(); i++) Thread.sleep(20);
        Thread.sleep(150);
        f.server.kill9();
        call.get();
        f.server.start();
        awaitNoSegments();
        for (int i = 0; i < 100 && !f.qemuProcesses().isEmpty(); i++) Thread.sleep(100);
        assertThat(f.qemuProcesses()).as("qemu processes after the restart (the topology is down)").isEmpty();
        // and it still serves
        HttpResponse<String> r = run("POST", "echo/cgi-bin/echo", "after the crash", Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("after the crash");
        awaitNoSegments();
    }

    @Test
    @Order(9)
    void removingATemplateRemovesItsSnapshots() {
        String snap = f.api.get("/api/v1/templates/bad").json().path("members").get(0).path("snapshot").asText();
        ok(f.cli.run("template", "rm", "bad"));
        assertThat(f.api.get("/api/v1/templates/bad").status()).isEqualTo(404);
        assertThat(f.api.get("/api/v1/snapshots/" + snap).status()).isEqualTo(404);
        assertThat(run("GET", "bad/x", null, Map.of()).statusCode()).isEqualTo(404);
    }
}
