package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.image.ImageCatalog;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real server on a random port ({@code start(0)}) over a temporary data directory: routes, answers,
 * Operation-Location and the operation journal, for calls that boot nothing (a VM is created, not started;
 * its image is a catalog entry only). End-to-end behaviour on real VMs is in app's *IT tests.
 */
class ServerRoutesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;
    static VmctlServer server;
    static HttpClient http = HttpClient.newHttpClient();
    /** The admin's token, from DATA/admin.token (every route needs a token). */
    static String token;

    record Answer(int status, JsonNode json, HttpResponse<String> raw) {
        String operation() {
            return raw.headers().firstValue("Operation-Location").orElse(null);
        }
    }

    @BeforeAll
    static void up() throws Exception {
        dir = Files.createTempDirectory("vmctl-routes-");
        Path images = dir.resolve("images");
        Files.createDirectories(images);
        Files.writeString(images.resolve("vmlinux"), "not a kernel");
        Files.writeString(images.resolve("initrd"), "not an initrd");
        new ImageCatalog(images).put(new ImageInfo("tiny", "test", "0", images.resolve("vmlinux").toString(), "00",
                images.resolve("initrd").toString(), "00", null, null, 1, "2026-12-01T00:00:00Z"));
        server = new VmctlServer(new VmctlServer.Options(dir, "127.0.0.1", 0, VmSpec.Accel.TCG, Duration.ofSeconds(30))).start();
        token = Files.readString(dir.resolve("admin.token")).strip();
    }

    @AfterAll
    static void down() throws Exception {
        if (server != null) server.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static Answer call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j = r.body().isBlank() || !r.headers().firstValue("Content-Type").orElse("").contains("json") ? null : JSON.readTree(r.body());
        return new Answer(r.statusCode(), j, r);
    }

    static String raw(String request) throws Exception {
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", server.port())) {
            sock.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sock.getOutputStream().flush();
            return new String(sock.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void aRebindingHostHeaderIsRefused() throws Exception {
        String r = raw("GET /api/v1/vms HTTP/1.1\r\nHost: evil.example:" + server.port() + "\r\nAuthorization: Bearer " + token + "\r\nConnection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 403").contains("\"error\"").contains("evil.example").contains("DNS rebinding");
        String ok = raw("GET /api/v1/vms HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\nAuthorization: Bearer " + token + "\r\nConnection: close\r\n\r\n");
        assertThat(ok).startsWith("HTTP/1.1 200");
    }

    @Test
    void crossSiteStateChangesAreRefusedAndChangeNothing() throws Exception {
        String own = "http://127.0.0.1:" + server.port();
        for (String[] h : new String[][]{{"Origin", "http://evil.example"}, {"Origin", "null"}, {"Sec-Fetch-Site", "cross-site"}}) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(own + "/api/v1/vms")).header("Content-Type", "text/plain").header(h[0], h[1])
                    .header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"csrf\",\"image\":\"tiny\"}")).build();
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(h[0] + ": " + h[1] + " → " + r.body()).isEqualTo(403);
            assertThat(JSON.readTree(r.body()).path("error").asText()).contains("refused");
        }
        assertThat(call("GET", "/api/v1/vms/csrf", null).status()).isEqualTo(404);
        // the server's own pages (same origin) may
        HttpRequest same = HttpRequest.newBuilder(URI.create(own + "/api/v1/vms")).header("Content-Type", "application/json")
                .header("Origin", own).header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"same-origin\",\"image\":\"tiny\"}")).build();
        assertThat(http.send(same, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(201);
        assertThat(call("DELETE", "/api/v1/vms/same-origin", null).status()).isEqualTo(200);
    }

    @Test
    void aSecondServerOnTheSameDataDirFailsAtOnceNamingTheFirst() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        new VmctlServer(new VmctlServer.Options(dir, "127.0.0.1", 0, VmSpec.Accel.TCG, Duration.ofSeconds(30))))
                .isInstanceOf(dev.vmctl.model.VmctlException.class)
                .hasMessageContaining("in use by another vmctl server (pid " + ProcessHandle.current().pid() + ")");
    }

    @Test
    void createAndRemoveAnswerWithTheirOperations() throws Exception {
        Answer created = call("POST", "/api/v1/vms", "{\"name\":\"r1\",\"image\":\"tiny\"}");
        assertThat(created.status()).as(created.raw().body()).isEqualTo(201);
        assertThat(created.json().path("state").asText()).isEqualTo("REQUESTED");
        assertThat(created.operation()).startsWith("/api/v1/operations/");
        Answer op = call("GET", created.operation() + "?wait=10", null);
        assertThat(op.json().path("kind").asText()).isEqualTo("vm.create");
        assertThat(op.json().path("state").asText()).isEqualTo("succeeded");
        String id = created.json().path("id").asText();
        assertThat(op.json().path("targets").get(0).asText()).isEqualTo("vm:" + id);

        // listing by the VM's name finds its operations (targets name it by id)
        Answer byName = call("GET", "/api/v1/operations?target=r1", null);
        assertThat(byName.json()).hasSize(1);

        // wrong state: a 409 at once, recorded as a failed operation
        Answer stop = call("POST", "/api/v1/vms/r1/stop", null);
        assertThat(stop.status()).isEqualTo(409);
        assertThat(stop.json().path("detail").asText()).contains("current state: REQUESTED");
        assertThat(call("GET", "/api/v1/operations?target=vm:" + id + "&state=failed", null).json().get(0).path("kind").asText())
                .isEqualTo("vm.stop");

        Answer rm = call("DELETE", "/api/v1/vms/r1", null);
        assertThat(rm.status()).isEqualTo(200);
        assertThat(rm.json().path("state").asText()).isEqualTo("DESTROYED");
        Answer rmOp = call("GET", rm.operation(), null);
        assertThat(rmOp.json().path("kind").asText()).isEqualTo("vm.destroy");
        assertThat(rmOp.json().path("state").asText()).isEqualTo("succeeded");
        Answer cancel = call("POST", rm.operation() + "/cancel", null);
        assertThat(cancel.status()).isEqualTo(409);
        assertThat(cancel.json().path("error").asText()).contains("already finished");
    }

    @Test
    void badQueryParametersAreRefusedBeforeAnythingIsDone() throws Exception {
        Answer r = call("POST", "/api/v1/vms?wait=maybe", "{\"name\":\"never\",\"image\":\"tiny\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().path("error").asText()).contains("wait");
        assertThat(call("GET", "/api/v1/vms/never", null).status()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/operations?state=sleeping", null).status()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/operations?limit=0", null).status()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/operations/x?wait=999", null).status()).isEqualTo(400);
    }

    @Test
    void inputErrorsCreateNoOperation() throws Exception {
        int before = call("GET", "/api/v1/operations?limit=1000", null).json().size();
        Answer r = call("POST", "/api/v1/vms", "{\"name\":\"Bad Name\",\"image\":\"tiny\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.operation()).isNull();
        r = call("POST", "/api/v1/vms", "{\"name\":\"x1\",\"image\":\"nope\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/operations?limit=1000", null).json().size()).isEqualTo(before);
    }

    @Test
    void jsonIsTakenAsWrittenAndErrorsNameTheField() throws Exception {
        int before = call("GET", "/api/v1/vms", null).json().size();
        String[][] cases = {
                {"null", "body"},
                {"{\"name\":123,\"image\":\"tiny\"}", "name"},
                {"{\"name\":\"j1\",\"image\":\"tiny\",\"start\":5}", "start"},
                {"{\"name\":\"j1\",\"image\":\"tiny\",\"cpus\":1.5}", "cpus"},
                {"{\"name\":\"j1\",\"image\":\"tiny\",\"cpus\":99999999999}", "cpus"},
                {"{\"name\":\"j1\",\"image\":\"tiny\",\"nics\":[{\"network\":\"n\",\"bogus\":1}]}", "nics[0].bogus"},
                {"{\"name\":\"j1\",\"image\":\"tiny\"} {}", "body"},
        };
        for (String[] c : cases) {
            Answer r = call("POST", "/api/v1/vms", c[0]);
            assertThat(r.status()).as(c[0] + " → " + r.raw().body()).isEqualTo(400);
            assertThat(r.json().path("error").asText()).as(c[0]).startsWith("invalid " + c[1] + ":");
        }
        assertThat(call("POST", "/api/v1/networks", "null").status()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/snapshots", "null").status()).isEqualTo(400);
        assertThat(call("GET", "/api/v1/vms", null).json().size()).as("nothing was created").isEqualTo(before);
        // a topology without a name: a 400 naming the field, not a 500
        Answer t = call("POST", "/api/v1/topologies", "apiVersion: vmctl/v1\nkind: Topology\nnodes: []\n");
        assertThat(t.status()).as(t.raw().body()).isEqualTo(400);
        assertThat(t.json().path("error").asText() + t.json().path("detail").asText()).contains("name");
    }

    /** Segments' input errors: a 400 naming the field, no operation, no namespace (a created segment is app's SegmentIT). */
    @Test
    void segmentInputErrorsNameTheFieldAndCreateNothing() throws Exception {
        int before = call("GET", "/api/v1/operations?limit=1000", null).json().size();
        String[][] cases = {
                {"{\"name\":\"s1\",\"ttl\":\"soon\"}", "ttl"},
                {"{\"name\":\"s1\",\"subnet\":\"198.18.0.1/24\"}", "subnet"},
                {"{\"name\":\"S 1\"}", "name"},
                {"{\"name\":\"s1\",\"bogus\":1}", "bogus"},
                {"{\"name\":\"s1\",\"router\":\"maybe\"}", "router"},
        };
        for (String[] c : cases) {
            Answer r = call("POST", "/api/v1/segments", c[0]);
            assertThat(r.status()).as(c[0] + " → " + r.raw().body()).isEqualTo(400);
            assertThat(r.json().path("error").asText()).as(c[0]).startsWith("invalid " + c[1] + ":");
            assertThat(r.operation()).isNull();
        }
        assertThat(call("POST", "/api/v1/segments/nope/vpn", "{\"peer\":\"x\"}").json().path("error").asText()).startsWith("invalid peer:");
        assertThat(call("GET", "/api/v1/segments/nope", null).status()).isEqualTo(404);
        assertThat(call("DELETE", "/api/v1/segments/nope", null).status()).isEqualTo(404);
        assertThat(call("GET", "/api/v1/segments", null).json()).isEmpty();
        assertThat(call("POST", "/api/v1/topologies?segment=nope", "apiVersion: vmctl/v1\nkind: Topology\nname: t\nnodes:\n  - name: n\n    vms:\n      - {name: a, image: tiny}\n").json()
                .path("error").asText()).startsWith("invalid segment:");
        assertThat(call("GET", "/api/v1/operations?limit=1000", null).json().size()).isEqualTo(before);
    }

    @Test
    void unknownOperationIs404() throws Exception {
        Answer r = call("GET", "/api/v1/operations/0000", null);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().path("error").asText()).isEqualTo("operation not found: 0000");
        assertThat(call("POST", "/api/v1/operations/0000/cancel", null).status()).isEqualTo(404);
    }
}
