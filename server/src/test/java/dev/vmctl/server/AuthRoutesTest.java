package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.engine.Tokens;
import dev.vmctl.image.ImageCatalog;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens, users, the session cookie, CSRF with a cookie and the audit log on the real server (random port, temporary
 * data directory, real SQLite); nothing boots (a VM is created, not started; its image is a catalog entry only).
 */
class AuthRoutesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient(); // follows no redirects: the tests read them
    static Path dir;
    static VmctlServer server;
    static String base;

    record Answer(int status, JsonNode json, HttpResponse<String> raw) {
        String header(String name) { return raw.headers().firstValue(name).orElse(null); }
        String error() { return json == null ? null : json.path("error").asText(); }
    }

    @BeforeAll
    static void up() throws Exception {
        dir = Files.createTempDirectory("vmctl-auth-");
        Path images = dir.resolve("images");
        Files.createDirectories(images);
        Files.writeString(images.resolve("vmlinux"), "not a kernel");
        Files.writeString(images.resolve("initrd"), "not an initrd");
        new ImageCatalog(images).put(new ImageInfo("tiny", "test", "0", images.resolve("vmlinux").toString(), "00",
                images.resolve("initrd").toString(), "00", null, null, 1, "2026-12-01T00:00:00Z"));
        server = new VmctlServer(new VmctlServer.Options(dir, "127.0.0.1", 0, VmSpec.Accel.TCG, Duration.ofSeconds(30))).start();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void down() throws Exception {
        if (server != null) server.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** The admin's token as the file holds it now (a test may rotate it). */
    static String admin() throws Exception {
        return Files.readString(dir.resolve("admin.token")).strip();
    }

    static Answer call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null && !List.of(headers).contains("Content-Type")) b.header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j = r.headers().firstValue("Content-Type").orElse("").contains("json") && !r.body().isBlank() ? JSON.readTree(r.body()) : null;
        return new Answer(r.statusCode(), j, r);
    }

    static Answer as(String token, String method, String path, String body) throws Exception {
        return call(method, path, body, "Authorization", "Bearer " + token);
    }

    @Test
    void theAdminTokenFileIsTheOwnersOnlyAndHoldsAToken() throws Exception {
        Path f = dir.resolve("admin.token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        assertThat(admin()).startsWith("vmctl_").matches(Tokens::wellFormed);
        // stored hashed: the token itself is nowhere in the database
        byte[] db = Files.readAllBytes(dir.resolve("vmctl.db"));
        assertThat(new String(db, StandardCharsets.ISO_8859_1)).doesNotContain(admin());
    }

    @Test
    void withoutATokenEveryRouteButTheGuiShellIsRefusedWith401AndNothingChanges() throws Exception {
        for (String[] mp : new String[][]{{"GET", "/api/v1/vms"}, {"GET", "/api/v1/events"}, {"GET", "/metrics"}, {"GET", "/api/v1/host"},
                {"POST", "/run/echo/x"}, {"GET", "/api/v1/openapi.json"}, {"GET", "/api/v1/no-such-route"}}) {
            Answer r = call(mp[0], mp[1], null);
            assertThat(r.status()).as(mp[0] + " " + mp[1] + " → " + r.raw().body()).isEqualTo(401);
            assertThat(r.error()).startsWith("missing token");
            assertThat(r.json().path("detail").asText()).contains("Authorization: Bearer").contains("DATA/admin.token").contains("vmctl user add");
            assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
        }
        Answer create = call("POST", "/api/v1/vms", "{\"name\":\"anon\",\"image\":\"tiny\"}");
        assertThat(create.status()).isEqualTo(401);
        assertThat(as(admin(), "GET", "/api/v1/vms/anon", null).status()).isEqualTo(404);
        // the shell sends a visitor without a session to the login page; assets and the login page need no token
        Answer shell = call("GET", "/", null);
        assertThat(shell.status()).isEqualTo(302);
        assertThat(shell.header("Location")).isEqualTo("/login");
        assertThat(call("GET", "/login", null).raw().body()).contains("<form method=\"post\" action=\"/login\"");
        assertThat(call("GET", "/assets/no-such.js", null).status()).isEqualTo(404);
    }

    @Test
    void aWrongTokenOrSchemeIs401() throws Exception {
        Answer unknown = call("GET", "/api/v1/vms", null, "Authorization", "Bearer " + Tokens.generate());
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.error()).contains("invalid token");
        for (String h : List.of("Bearer nonsense", "Basic YWRtaW46YWRtaW4=", admin())) {
            Answer r = call("GET", "/api/v1/vms", null, "Authorization", h);
            assertThat(r.status()).as(h).isEqualTo(401);
            assertThat(r.error()).as(h).contains("invalid Authorization header");
        }
        assertThat(call("GET", "/api/v1/vms", null, "Authorization", "bearer " + admin()).status()).isEqualTo(200);
        Answer badCookie = call("GET", "/api/v1/vms", null, "Cookie", Auth.COOKIE + "=" + Tokens.generate());
        assertThat(badCookie.status()).isEqualTo(401);
        assertThat(badCookie.error()).contains("session expired");
    }

    @Test
    void openingTheGuiWithTheTokenSetsAStrictHttpOnlySessionCookieAndDropsTheTokenFromTheUrl() throws Exception {
        String t = admin();
        Answer open = call("GET", "/?token=" + t, null);
        assertThat(open.status()).isEqualTo(302);
        assertThat(open.header("Location")).isEqualTo("/");
        String cookie = open.header("Set-Cookie");
        assertThat(cookie).startsWith(Auth.COOKIE + "=" + t + ";").contains("HttpOnly").contains("SameSite=Strict").contains("Path=/");
        String session = Auth.COOKIE + "=" + t;
        Answer shell = call("GET", "/", null, "Cookie", session);
        assertThat(shell.status()).isEqualTo(200);
        assertThat(shell.header("Content-Type")).startsWith("text/html");
        assertThat(call("GET", "/api/v1/vms", null, "Cookie", session).status()).isEqualTo(200);
        // the event stream works with the cookie
        HttpResponse<InputStream> sse = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/events"))
                .header("Accept", "text/event-stream").header("Cookie", session).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = sse.body()) {
            assertThat(sse.statusCode()).isEqualTo(200);
            assertThat(new String(in.readNBytes(": connected".length()), StandardCharsets.UTF_8)).isEqualTo(": connected");
        }
        // a wrong token gets the login page and no cookie
        Answer wrong = call("GET", "/?token=" + Tokens.generate(), null);
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.header("Set-Cookie")).isNull();
        assertThat(wrong.raw().body()).contains("not valid");
    }

    @Test
    void theLoginFormSetsTheSessionAndLogoutClearsIt() throws Exception {
        String t = admin();
        Answer ok = call("POST", "/login", "token=" + URLEncoder.encode(t, StandardCharsets.UTF_8),
                "Content-Type", "application/x-www-form-urlencoded", "Origin", base);
        assertThat(ok.status()).isEqualTo(303);
        assertThat(ok.header("Location")).isEqualTo("/");
        assertThat(ok.header("Set-Cookie")).startsWith(Auth.COOKIE + "=" + t + ";").contains("HttpOnly").contains("SameSite=Strict");
        Answer bad = call("POST", "/login", "token=vmctl_wrong", "Content-Type", "application/x-www-form-urlencoded", "Origin", base);
        assertThat(bad.status()).isEqualTo(401);
        assertThat(bad.header("Set-Cookie")).isNull();
        Answer out = call("POST", "/logout", "", "Content-Type", "application/x-www-form-urlencoded", "Origin", base);
        assertThat(out.status()).isEqualTo(303);
        assertThat(out.header("Set-Cookie")).contains("Max-Age=0");
    }

    @Test
    void aCrossOriginPostWithTheSessionCookieIsRefusedAndASameOriginOneIsNot() throws Exception {
        String session = Auth.COOKIE + "=" + admin();
        Answer evil = call("POST", "/api/v1/vms", "{\"name\":\"csrf-cookie\",\"image\":\"tiny\"}", "Cookie", session, "Origin", "http://evil.example");
        assertThat(evil.status()).isEqualTo(403);
        assertThat(as(admin(), "GET", "/api/v1/vms/csrf-cookie", null).status()).isEqualTo(404);
        Answer own = call("POST", "/api/v1/vms", "{\"name\":\"gui-cookie\",\"image\":\"tiny\"}", "Cookie", session, "Origin", base);
        assertThat(own.status()).as(own.raw().body()).isEqualTo(201);
        assertThat(as(admin(), "DELETE", "/api/v1/vms/gui-cookie", null).status()).isEqualTo(200);
    }

    @Test
    void usersGetTokensOnlyAdminsManageUsersAndRemovedOrRotatedTokensStopWorking() throws Exception {
        Answer add = as(admin(), "POST", "/api/v1/users", "{\"name\":\"bob\",\"role\":\"user\"}");
        assertThat(add.status()).as(add.raw().body()).isEqualTo(201);
        String bob = add.json().path("token").asText();
        assertThat(bob).matches(Tokens::wellFormed);
        assertThat(add.json().path("role").asText()).isEqualTo("user");
        Answer me = as(bob, "GET", "/api/v1/token", null);
        assertThat(me.json().path("name").asText()).isEqualTo("bob");
        assertThat(me.json().has("token")).isFalse();
        assertThat(as(bob, "GET", "/api/v1/vms", null).status()).isEqualTo(200);
        // a user cannot manage users
        for (String[] mp : new String[][]{{"GET", "/api/v1/users", null}, {"POST", "/api/v1/users", "{\"name\":\"mallory\",\"role\":\"admin\"}"},
                {"DELETE", "/api/v1/users/admin", null}}) {
            Answer r = as(bob, mp[0], mp[1], mp[2]);
            assertThat(r.status()).as(mp[0] + " " + mp[1]).isEqualTo(403);
            assertThat(r.error()).contains("only admins");
        }
        List<String> names = new ArrayList<>();
        as(admin(), "GET", "/api/v1/users", null).json().forEach(u -> names.add(u.path("name").asText()));
        assertThat(names).contains("admin", "bob").doesNotContain("mallory");
        // bad input names the field; a second bob is a conflict; the admin of admin.token stays
        Answer badRole = as(admin(), "POST", "/api/v1/users", "{\"name\":\"carol\",\"role\":\"root\"}");
        assertThat(badRole.status()).isEqualTo(400);
        assertThat(badRole.error()).contains("role");
        assertThat(badRole.json().path("detail").asText()).contains("admin, user");
        assertThat(as(admin(), "POST", "/api/v1/users", "{\"name\":\"Bad Name\"}").error()).contains("name");
        assertThat(as(admin(), "POST", "/api/v1/users", "{\"name\":\"bob\"}").status()).isEqualTo(409);
        assertThat(as(admin(), "DELETE", "/api/v1/users/admin", null).status()).isEqualTo(409);
        // rotate: the old token stops working, the new one works
        Answer rotated = as(bob, "POST", "/api/v1/token/rotate", null);
        assertThat(rotated.status()).isEqualTo(200);
        String bob2 = rotated.json().path("token").asText();
        assertThat(bob2).isNotEqualTo(bob).matches(Tokens::wellFormed);
        assertThat(as(bob, "GET", "/api/v1/vms", null).status()).isEqualTo(401);
        assertThat(as(bob2, "GET", "/api/v1/vms", null).status()).isEqualTo(200);
        // removed: refused
        assertThat(as(admin(), "DELETE", "/api/v1/users/bob", null).status()).isEqualTo(200);
        assertThat(as(bob2, "GET", "/api/v1/vms", null).status()).isEqualTo(401);
        assertThat(as(admin(), "DELETE", "/api/v1/users/bob", null).status()).isEqualTo(404);
    }

    @Test
    void theAdminRotatingRewritesAdminTokenAndASessionFollowsItsRotation() throws Exception {
        String old = admin();
        Answer r = call("POST", "/api/v1/token/rotate", null, "Cookie", Auth.COOKIE + "=" + old, "Origin", base);
        assertThat(r.status()).isEqualTo(200);
        String fresh = r.json().path("token").asText();
        assertThat(admin()).isEqualTo(fresh);
        assertThat(r.header("Set-Cookie")).startsWith(Auth.COOKIE + "=" + fresh + ";");
        assertThat(as(old, "GET", "/api/v1/vms", null).status()).isEqualTo(401);
        assertThat(as(fresh, "GET", "/api/v1/vms", null).status()).isEqualTo(200);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("admin.token")))).isEqualTo("rw-------");
    }

    @Test
    void theAuditLogRecordsStateChangingRequestsWithUserRouteAndOutcome() throws Exception {
        Answer add = as(admin(), "POST", "/api/v1/users", "{\"name\":\"dave\"}");
        String dave = add.json().path("token").asText();
        as(dave, "POST", "/api/v1/vms", "{\"name\":\"audited\",\"image\":\"tiny\"}");
        as(dave, "DELETE", "/api/v1/vms/audited", null);
        call("DELETE", "/api/v1/vms/whatever", null); // no token: recorded without a user
        as(dave, "GET", "/api/v1/vms", null);        // reads are not recorded

        JsonNode all = as(admin(), "GET", "/api/v1/audit?limit=50", null).json();
        assertThat(all.isArray()).isTrue();
        JsonNode created = find(all, "dave", "POST", "/api/v1/vms");
        assertThat(created.path("status").asInt()).isEqualTo(201);
        assertThat(created.path("route").asText()).isEqualTo("/api/v1/vms");
        assertThat(created.path("at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        JsonNode removed = find(all, "dave", "DELETE", "/api/v1/vms/audited");
        assertThat(removed.path("route").asText()).isEqualTo("/api/v1/vms/{id}");
        assertThat(removed.path("status").asInt()).isEqualTo(200);
        JsonNode anon = find(all, null, "DELETE", "/api/v1/vms/whatever");
        assertThat(anon.path("status").asInt()).isEqualTo(401);
        assertThat(find(all, "admin", "POST", "/api/v1/users").path("status").asInt()).isEqualTo(201);
        for (JsonNode e : all) assertThat(e.path("method").asText()).isNotEqualTo("GET");
        // newest first
        assertThat(all.get(0).path("id").asLong()).isGreaterThan(all.get(all.size() - 1).path("id").asLong());

        // filters: user, limit, since
        JsonNode daves = as(admin(), "GET", "/api/v1/audit?user=dave", null).json();
        assertThat(daves).hasSize(2);
        assertThat(as(admin(), "GET", "/api/v1/audit?limit=1", null).json()).hasSize(1);
        assertThat(as(admin(), "GET", "/api/v1/audit?since=2999-01-01T00:00:00Z", null).json()).isEmpty();
        assertThat(as(admin(), "GET", "/api/v1/audit?since=" + created.path("at").asText(), null).json().size()).isGreaterThanOrEqualTo(2);
        Answer badSince = as(admin(), "GET", "/api/v1/audit?since=yesterday", null);
        assertThat(badSince.status()).isEqualTo(400);
        assertThat(badSince.error()).contains("since");
        assertThat(as(admin(), "GET", "/api/v1/audit?limit=0", null).error()).contains("limit");
        // a user sees its own entries only
        JsonNode own = as(dave, "GET", "/api/v1/audit", null).json();
        assertThat(own).isNotEmpty();
        for (JsonNode e : own) assertThat(e.path("user").asText()).isEqualTo("dave");
        assertThat(as(dave, "GET", "/api/v1/audit?user=admin", null).status()).isEqualTo(403);
        as(admin(), "DELETE", "/api/v1/users/dave", null);
    }

    @Test
    void aUserSeesAndChangesOnlyItsOwnVmsAndAdminsSeeEverything() throws Exception {
        String erin = as(admin(), "POST", "/api/v1/users", "{\"name\":\"erin\"}").json().path("token").asText();
        String frank = as(admin(), "POST", "/api/v1/users", "{\"name\":\"frank\"}").json().path("token").asText();
        try {
            Answer mine = as(erin, "POST", "/api/v1/vms", "{\"name\":\"erin-vm\",\"image\":\"tiny\"}");
            assertThat(mine.status()).as(mine.raw().body()).isEqualTo(201);
            String id = mine.json().path("id").asText();
            assertThat(as(admin(), "POST", "/api/v1/vms", "{\"name\":\"admin-vm\",\"image\":\"tiny\"}").status()).isEqualTo(201);

            assertThat(names(as(erin, "GET", "/api/v1/vms", null).json())).containsExactly("erin-vm");
            assertThat(names(as(frank, "GET", "/api/v1/vms", null).json())).isEmpty();
            assertThat(names(as(admin(), "GET", "/api/v1/vms", null).json())).contains("erin-vm", "admin-vm");
            assertThat(as(erin, "GET", "/api/v1/vms/erin-vm", null).status()).isEqualTo(200);
            assertThat(as(erin, "GET", "/api/v1/vms/" + id, null).status()).isEqualTo(200);
            // another's VM is not there, by name or id, for reading or changing; nothing changes
            for (String[] mp : new String[][]{{"GET", "/api/v1/vms/erin-vm"}, {"GET", "/api/v1/vms/" + id}, {"DELETE", "/api/v1/vms/erin-vm"},
                    {"POST", "/api/v1/vms/erin-vm/start"}, {"GET", "/api/v1/vms/erin-vm/console"}}) {
                Answer r = as(frank, mp[0], mp[1], null);
                assertThat(r.status()).as(mp[0] + " " + mp[1] + " → " + r.raw().body()).isEqualTo(404);
                assertThat(r.error()).isEqualTo("vm not found: " + mp[1].split("/")[4]);
            }
            assertThat(as(frank, "POST", "/api/v1/vms/erin-vm/exec", "{\"argv\":[\"true\"]}").status()).isEqualTo(404);
            assertThat(as(frank, "POST", "/api/v1/snapshots", "{\"vm\":\"erin-vm\",\"name\":\"stolen\"}").status()).isEqualTo(404);
            assertThat(as(erin, "GET", "/api/v1/vms/admin-vm", null).status()).isEqualTo(404);
            assertThat(as(admin(), "GET", "/api/v1/vms/erin-vm", null).json().path("state").asText()).isEqualTo("REQUESTED");
            // the owner removes it
            assertThat(as(erin, "DELETE", "/api/v1/vms/erin-vm", null).status()).isEqualTo(200);
            assertThat(as(admin(), "DELETE", "/api/v1/vms/admin-vm", null).status()).isEqualTo(200);
        } finally {
            as(admin(), "DELETE", "/api/v1/users/erin", null);
            as(admin(), "DELETE", "/api/v1/users/frank", null);
        }
    }

    @Test
    void quotasRefuseAVmThatWouldNotFitAndCreateNothing() throws Exception {
        Answer add = as(admin(), "POST", "/api/v1/users", "{\"name\":\"gina\",\"maxVms\":1,\"maxMemory\":\"256M\"}");
        assertThat(add.status()).as(add.raw().body()).isEqualTo(201);
        assertThat(add.json().path("maxVms").asInt()).isEqualTo(1);
        assertThat(add.json().path("maxMemoryMiB").asInt()).isEqualTo(256);
        String gina = add.json().path("token").asText();
        try {
            Answer big = as(gina, "POST", "/api/v1/vms", "{\"name\":\"gina-big\",\"image\":\"tiny\",\"memory\":\"512M\"}");
            assertThat(big.status()).isEqualTo(403);
            assertThat(big.error()).contains("quota").contains("memory").contains("512 MiB").contains("256 MiB");
            assertThat(as(admin(), "GET", "/api/v1/vms/gina-big", null).status()).isEqualTo(404);
            assertThat(as(gina, "POST", "/api/v1/vms", "{\"name\":\"gina-1\",\"image\":\"tiny\",\"memory\":\"128M\"}").status()).isEqualTo(201);
            Answer second = as(gina, "POST", "/api/v1/vms", "{\"name\":\"gina-2\",\"image\":\"tiny\",\"memory\":\"64M\"}");
            assertThat(second.status()).isEqualTo(403);
            assertThat(second.error()).contains("quota").contains("at most 1 VMs");
            assertThat(as(admin(), "GET", "/api/v1/vms/gina-2", null).status()).isEqualTo(404);
            Answer badQuota = as(admin(), "POST", "/api/v1/users", "{\"name\":\"hank\",\"maxMemory\":\"lots\"}");
            assertThat(badQuota.status()).isEqualTo(400);
            assertThat(badQuota.error()).contains("maxMemory");
        } finally {
            as(admin(), "DELETE", "/api/v1/vms/gina-1", null);
            as(admin(), "DELETE", "/api/v1/users/gina", null);
        }
    }

    private static List<String> names(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(v -> out.add(v.path("name").asText()));
        return out;
    }

    private static JsonNode find(JsonNode entries, String user, String method, String path) {
        for (JsonNode e : entries) {
            boolean who = user == null ? e.path("user").isNull() : user.equals(e.path("user").asText());
            if (who && method.equals(e.path("method").asText()) && path.equals(e.path("path").asText())) return e;
        }
        throw new AssertionError("no audit entry " + user + " " + method + " " + path + " in " + entries);
    }
}
