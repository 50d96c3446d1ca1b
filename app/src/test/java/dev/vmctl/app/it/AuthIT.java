package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tokens end to end on the real server process (the shared one: nothing here boots a VM): the admin token file, 401
 * without or with a wrong token on the API and the event stream, users added and removed and tokens rotated with the
 * real CLI, the GUI's cookie login, a cross-origin POST with that cookie, and the audit log.
 */
@ExtendWith(Fixture.class)
class AuthIT {
    static final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theAdminTokenFileIsOnlyTheServersUsersAndEveryRouteWantsAToken(Fixture f) throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f.dataDir.resolve("admin.token")))).isEqualTo("rw-------");
        assertThat(f.token()).startsWith("vmctl_");
        Api anonymous = f.api.as(null);
        for (String path : new String[]{"/api/v1/vms", "/api/v1/events", "/metrics", "/run/none/x"}) {
            Api.Response r = anonymous.get(path);
            assertThat(r.status()).as(path).isEqualTo(401);
            assertThat(r.json().path("error").asText()).as(path).startsWith("missing token");
            assertThat(r.json().path("detail").asText()).contains("DATA/admin.token");
        }
        Api.Response wrong = f.api.as("vmctl_" + "x".repeat(43)).get("/api/v1/vms");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().path("error").asText()).contains("invalid token");
        assertThatThrownBy(() -> new Sse(f.server.url(), "vmctl_" + "y".repeat(43)).close()).hasMessageContaining("HTTP 401");
        // the CLI without any token says where it looked
        Cli.Result none = new Cli(f.server.url(), f.dataDir.resolve("elsewhere")).run("vm", "ls");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("missing token").contains("VMCTL_TOKEN (unset)").contains("elsewhere/admin.token (absent)");
    }

    @Test
    void usersGetTokensFromTheCliTheirTokensWorkUntilRotatedOrRemovedAndTheAuditSaysWhoDidWhat(Fixture f) throws Exception {
        Cli.Result add = f.cli.run("user", "add", "alice", "--role", "user");
        assertThat(add.code()).as(add.toString()).isZero();
        String alice = add.out().strip();
        assertThat(alice).startsWith("vmctl_").hasSize(49);
        Cli asAlice = f.cli.withToken(alice);
        try {
            Cli.Result ls = asAlice.run("vm", "ls");
            assertThat(ls.code()).as(ls.toString()).isZero();
            Cli.Result who = asAlice.run("token", "show");
            assertThat(who.out()).contains("user alice (role user)").contains("VMCTL_TOKEN");
            // a user cannot manage users
            Cli.Result users = asAlice.run("user", "ls");
            assertThat(users.code()).isEqualTo(1);
            assertThat(users.err()).contains("only admins");
            assertThat(asAlice.run("user", "add", "mallory", "--role", "admin").err()).contains("only admins");
            Cli.Result list = f.cli.run("user", "ls");
            assertThat(list.out()).contains("alice").contains("admin").doesNotContain("mallory").doesNotContain("vmctl_");
            // the event stream with alice's token
            try (Sse sse = new Sse(f.server.url(), alice)) {
                assertThat(sse.events()).isNotNull();
            }

            Cli.Result rotated = asAlice.run("token", "rotate");
            assertThat(rotated.code()).as(rotated.toString()).isZero();
            String alice2 = rotated.out().strip();
            assertThat(alice2).startsWith("vmctl_").isNotEqualTo(alice);
            Cli.Result old = asAlice.run("vm", "ls");
            assertThat(old.code()).isEqualTo(1);
            assertThat(old.err()).contains("invalid token").contains("VMCTL_TOKEN was refused");
            asAlice = f.cli.withToken(alice2);
            assertThat(asAlice.run("vm", "ls").code()).isZero();

            // the audit log: alice's rotation and her refused user add, the admin's user add
            Cli.Result audit = f.cli.run("audit", "--user", "alice", "-o", "json");
            assertThat(audit.code()).as(audit.toString()).isZero();
            JsonNode entries = Api.JSON.readTree(audit.out());
            assertThat(entries.toString()).contains("\"path\":\"/api/v1/token/rotate\"");
            boolean refused = false;
            for (JsonNode e : entries) {
                assertThat(e.path("user").asText()).isEqualTo("alice");
                if (e.path("path").asText().equals("/api/v1/users") && e.path("status").asInt() == 403) refused = true;
            }
            assertThat(refused).as("alice's refused user add is in the audit log: " + entries).isTrue();
            Cli.Result table = f.cli.run("audit", "--since", "10m");
            assertThat(table.out()).contains("TIME").contains("admin").contains("POST").contains("/api/v1/users").contains("201");
            Cli.Result own = asAlice.run("audit", "--user", "admin");
            assertThat(own.code()).isEqualTo(1);
            assertThat(own.err()).contains("their own entries");
        } finally {
            Cli.Result rm = f.cli.run("user", "rm", "alice");
            assertThat(rm.code()).as(rm.toString()).isZero();
        }
        assertThat(asAlice.run("vm", "ls").err()).contains("invalid token");
    }

    @Test
    void theGuiLogsInWithTheTokenOnceAndACrossOriginPostWithItsCookieIsRefused(Fixture f) throws Exception {
        HttpResponse<String> open = http.send(HttpRequest.newBuilder(URI.create(f.server.url() + "/?token=" + f.token())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(open.statusCode()).isEqualTo(302);
        assertThat(open.headers().firstValue("Location")).hasValue("/");
        String cookie = open.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict");
        String session = cookie.substring(0, cookie.indexOf(';'));

        HttpResponse<String> shell = http.send(HttpRequest.newBuilder(URI.create(f.server.url() + "/")).header("Cookie", session).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(shell.statusCode()).isEqualTo(200);
        assertThat(shell.body()).contains("<div id=\"root\"");

        String body = Api.JSON.writeValueAsString(Map.of("name", "csrf-vm", "image", "tiny"));
        HttpResponse<String> evil = http.send(HttpRequest.newBuilder(URI.create(f.server.url() + "/api/v1/vms")).header("Cookie", session)
                .header("Origin", "http://evil.example").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(evil.statusCode()).as(evil.body()).isEqualTo(403);
        assertThat(f.api.get("/api/v1/vms/csrf-vm").status()).isEqualTo(404);
        // the same cookie from the server's own page may (then the VM is removed again: it was never started)
        HttpResponse<String> own = http.send(HttpRequest.newBuilder(URI.create(f.server.url() + "/api/v1/vms")).header("Cookie", session)
                .header("Origin", f.server.url()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(own.statusCode()).as(own.body()).isEqualTo(201);
        assertThat(f.api.delete("/api/v1/vms/csrf-vm").status()).isEqualTo(200);
    }

    @Test
    void twoUsersSeeOnlyTheirOwnNetworksAndSegmentsAndAdminsSeeBoth(Fixture f) throws Exception {
        String alice = f.api.post("/api/v1/users", Map.of("name", "own-alice")).json().path("token").asText();
        String bob = f.api.post("/api/v1/users", Map.of("name", "own-bob")).json().path("token").asText();
        Api a = f.api.as(alice);
        Api b = f.api.as(bob);
        try (Sse aliceSse = new Sse(f.server.url(), alice); Sse bobSse = new Sse(f.server.url(), bob)) {
            Api.Response net = a.post("/api/v1/networks", Map.of("name", "own-net", "subnet", "198.18.240.0/24"));
            assertThat(net.status()).isEqualTo(201);
            // the event stream and the operations: alice's, not bob's (bob's own event proves his stream is live)
            String op = net.header("Operation-Location").substring(net.header("Operation-Location").lastIndexOf('/') + 1);
            aliceSse.await(e -> "network.created".equals(e.path("type").asText()) && "own-net".equals(e.path("name").asText()),
                    java.time.Duration.ofSeconds(10));
            assertThat(b.post("/api/v1/networks", Map.of("name", "own-bnet", "subnet", "198.18.243.0/24")).status()).isEqualTo(201);
            bobSse.await(e -> "network.created".equals(e.path("type").asText()) && "own-bnet".equals(e.path("name").asText()),
                    java.time.Duration.ofSeconds(10));
            assertThat(bobSse.events()).noneMatch(e -> e.toString().contains("own-net\"") || e.toString().contains(op));
            assertThat(aliceSse.events()).noneMatch(e -> e.toString().contains("own-bnet"));
            assertThat(a.get("/api/v1/operations").json().toString()).contains(op).doesNotContain("network:own-bnet");
            assertThat(b.get("/api/v1/operations").json().toString()).doesNotContain(op).contains("network:own-bnet");
            assertThat(b.get("/api/v1/operations/" + op).status()).isEqualTo(404);
            assertThat(a.get("/api/v1/operations/" + op).status()).isEqualTo(200);
            assertThat(f.api.get("/api/v1/operations/" + op).status()).isEqualTo(200);
            assertThat(b.delete("/api/v1/networks/own-bnet").status()).isEqualTo(200);
            // the segment's owner is the caller; a user cannot create one for another
            Api.Response seg = a.post("/api/v1/segments", Map.of("name", "own-seg", "subnet", "198.18.241.0/24"));
            assertThat(seg.status()).as(seg.body()).isEqualTo(201);
            assertThat(seg.json().path("owner").asText()).isEqualTo("own-alice");
            Api.Response forOther = b.post("/api/v1/segments", Map.of("name", "own-seg2", "owner", "own-alice", "subnet", "198.18.242.0/24"));
            assertThat(forOther.status()).isEqualTo(403);
            assertThat(forOther.json().path("error").asText()).contains("owner");
            assertThat(f.api.get("/api/v1/segments/own-seg2").status()).isEqualTo(404);

            for (String kind : new String[]{"networks", "segments"}) {
                String name = kind.equals("networks") ? "own-net" : "own-seg";
                assertThat(names(a.get("/api/v1/" + kind))).as(kind).contains(name);
                assertThat(names(b.get("/api/v1/" + kind))).as(kind).doesNotContain(name);
                assertThat(names(f.api.get("/api/v1/" + kind))).as(kind).contains(name);
                assertThat(b.get("/api/v1/" + kind + "/" + name).status()).as(kind).isEqualTo(404);
                assertThat(b.delete("/api/v1/" + kind + "/" + name).status()).as(kind).isEqualTo(404);
                assertThat(a.get("/api/v1/" + kind + "/" + name).status()).as(kind).isEqualTo(200);
            }
            assertThat(b.post("/api/v1/segments/own-seg/vpn", Map.of("peer", "x")).status()).isEqualTo(404);
        } finally {
            f.api.delete("/api/v1/segments/own-seg");
            f.api.delete("/api/v1/networks/own-net");
            f.api.delete("/api/v1/users/own-alice");
            f.api.delete("/api/v1/users/own-bob");
        }
        assertThat(f.api.get("/api/v1/networks/own-net").status()).isEqualTo(404);
    }

    @Test
    void aTopologyAndWhatItMadeBelongToTheUserWhoAppliedIt(Fixture f) throws Exception {
        String alice = f.api.post("/api/v1/users", Map.of("name", "topo-alice")).json().path("token").asText();
        String bob = f.api.post("/api/v1/users", Map.of("name", "topo-bob")).json().path("token").asText();
        Api a = f.api.as(alice);
        Api b = f.api.as(bob);
        // JSON is a topology file too (the Api client sends application/json)
        String yaml = "{\"apiVersion\":\"vmctl/v1\",\"kind\":\"Topology\",\"name\":\"own-topo\","
                + "\"networks\":[{\"name\":\"lan\",\"subnet\":\"198.18.244.0/24\"}],"
                + "\"nodes\":[{\"name\":\"n\",\"vms\":[{\"name\":\"v\",\"image\":\"tiny\",\"memory\":\"128M\",\"nics\":[\"lan\"]}]}]}";
        try {
            Api.Response up = a.send("POST", "/api/v1/topologies", yaml);
            assertThat(up.status()).as(up.body()).isEqualTo(200);
            assertThat(names(a.get("/api/v1/topologies"))).contains("own-topo");
            assertThat(names(b.get("/api/v1/topologies"))).doesNotContain("own-topo");
            assertThat(b.get("/api/v1/topologies/own-topo").status()).isEqualTo(404);
            assertThat(b.delete("/api/v1/topologies/own-topo").status()).isEqualTo(404);
            // its VM, node and network are alice's too (through the topology), not bob's
            assertThat(a.get("/api/v1/vms/own-topo-n-v").status()).isEqualTo(200);
            assertThat(b.get("/api/v1/vms/own-topo-n-v").status()).isEqualTo(404);
            assertThat(b.send("POST", "/api/v1/vms/own-topo-n-v/exec", Map.of("argv", java.util.List.of("true"))).status()).isEqualTo(404);
            assertThat(names(a.get("/api/v1/vms"))).contains("own-topo-n-v");
            assertThat(names(b.get("/api/v1/vms"))).doesNotContain("own-topo-n-v");
            assertThat(a.get("/api/v1/nodes/own-topo/n").status()).isEqualTo(200);
            assertThat(b.get("/api/v1/nodes/own-topo/n").status()).isEqualTo(404);
            assertThat(b.get("/api/v1/nodes").json().toString()).doesNotContain("own-topo");
            java.util.List<String> hers = names(a.get("/api/v1/networks"));
            assertThat(hers).anyMatch(n -> n.contains("lan"));
            assertThat(names(b.get("/api/v1/networks"))).noneMatch(n -> n.contains("lan") && hers.contains(n));
            // bob cannot apply a file of the same name over it
            Api.Response over = b.send("POST", "/api/v1/topologies", yaml);
            assertThat(over.status()).as(over.body()).isEqualTo(409);
            assertThat(over.json().path("error").asText()).contains("not yours");
            Api.Response down = a.delete("/api/v1/topologies/own-topo");
            assertThat(down.status()).as(down.body()).isEqualTo(200);
        } finally {
            f.api.delete("/api/v1/topologies/own-topo");
            f.api.delete("/api/v1/users/topo-alice");
            f.api.delete("/api/v1/users/topo-bob");
        }
    }

    private static java.util.List<String> names(Api.Response list) {
        assertThat(list.status()).as(list.body()).isEqualTo(200);
        java.util.List<String> out = new java.util.ArrayList<>();
        list.json().forEach(x -> out.add(x.path("name").asText()));
        return out;
    }
}
