package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.Procs;
import dev.vmctl.net.Wireguard;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Isolated segments on real namespaces, QEMU and WireGuard (wireguard-go here: the host kernel has no module). Segments sa
 * and sb each have a web server at 198.18.50.10 and a client at 198.18.50.20 — sa's from `vm create`, sb's from a
 * topology deployed with `up --segment sb` — and each client gets its own segment's page; a WireGuard client reaches sa's
 * VMs and nothing of sb; a TTL removes a segment with an event; `segment rm` removes its VMs. Own server: its VPN
 * endpoints listen in a test namespace (the "edge", -Dvmctl.vpn.netns) joined to a client namespace by a veth, so
 * nothing touches the host's own namespace; all addresses are in 198.18.0.0/15.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SegmentIT {
    static final long PID = ProcessHandle.current().pid();
    static final String EDGE = "vmctl-it" + PID + "-edge";
    static final String CLIENT = "vmctl-it" + PID + "-cli";
    static final String CLIENT_IF = "vwit" + (PID % 1_000_000) + "c";
    static final String TOPO = """
            apiVersion: vmctl/v1
            kind: Topology
            name: t
            networks:
              - {name: lan, subnet: 198.18.50.0/24}
            nodes:
              - name: n
                vms:
                  - {name: web, image: tiny, memory: 128M, nics: [{network: lan, ip: 198.18.50.10}]}
                  - {name: cli, image: tiny, memory: 128M, nics: [{network: lan, ip: 198.18.50.20}]}
            """;

    static Fixture f;
    static Process clientWg;
    static Path tmp;

    @BeforeAll
    static void up() throws Exception {
        for (String ns : List.of(EDGE, CLIENT)) {
            Cmd.check("ip", "netns", "add", ns);
            Cmd.check("ip", "-n", ns, "link", "set", "lo", "up");
        }
        Cmd.check("ip", "-n", EDGE, "link", "add", "name", "edge0", "type", "veth", "peer", "name", "cli0", "netns", CLIENT);
        Cmd.check("ip", "-n", EDGE, "addr", "add", "198.19.100.1/30", "dev", "edge0");
        Cmd.check("ip", "-n", EDGE, "link", "set", "edge0", "up");
        Cmd.check("ip", "-n", CLIENT, "addr", "add", "198.19.100.2/30", "dev", "cli0");
        Cmd.check("ip", "-n", CLIENT, "link", "set", "cli0", "up");
        tmp = Files.createTempDirectory("vmctl-seg-it-");
        f = Fixture.create("vmctl-seg-", List.of("-Dvmctl.vpn.netns=" + EDGE, "-Dvmctl.vpn.endpoint=198.19.100.1"));
    }

    @AfterAll
    static void down() throws Exception {
        String vpnPrefix = f == null ? null : "vw" + dev.vmctl.engine.LinuxHostNet.fabricName(f.dataDir).substring("vmctl-".length(), "vmctl-".length() + 4);
        try {
            if (clientWg != null) {
                clientWg.destroy();
                clientWg.waitFor();
            }
            if (f != null) f.close(); // checks that no namespace and no QEMU process of the server is left
        } finally {
            for (String ns : List.of(CLIENT, EDGE)) Cmd.run("ip", "netns", "delete", ns);
            if (tmp != null) Fixture.deleteTree(tmp);
        }
        if (vpnPrefix != null) {
            assertThat(Procs.findByArgs("wireguard-go")).as("wireguard-go processes of this test's server")
                    .noneMatch(pid -> Procs.cmdline(pid).orElse(List.of()).stream().anyMatch(a -> a.startsWith(vpnPrefix)));
        }
    }

    /** Whether a namespace of exactly this name exists. */
    static boolean namespaceExists(String name) {
        return Cmd.run("ip", "netns", "list").stdout().lines().anyMatch(l -> l.split(" ")[0].equals(name));
    }

    private static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }

    static Cli.Result exec(String vm, String... argv) {
        List<String> a = new ArrayList<>(List.of("vm", "exec", vm, "--timeout", "60s", "--"));
        a.addAll(List.of(argv));
        return f.cli.run(a.toArray(String[]::new));
    }

    private static JsonNode awaitRunning(String vm) throws InterruptedException {
        for (int i = 0; i < 1200; i++) {
            JsonNode v = f.api.get("/api/v1/vms/" + vm).json();
            String s = v.path("state").asText();
            if (!s.equals("PREPARING") && !s.equals("REQUESTED")) return v;
            Thread.sleep(100);
        }
        return f.api.get("/api/v1/vms/" + vm).json();
    }

    private static void serve(String vm, String page) {
        ok(exec(vm, "sh", "-c", "mkdir -p /tmp/w && echo " + page + " > /tmp/w/index.html && httpd -p 8080 -h /tmp/w"));
    }

    @Test
    @Order(1)
    void twoSegmentsWithTheSameAddressesServeTheirOwnPages() throws Exception {
        ok(f.cli.run("segment", "create", "sa", "--subnet", "198.18.50.0/24", "--router", "--owner", "alice"));
        ok(f.cli.run("segment", "create", "sb", "--subnet", "198.18.51.0/24", "--router"));
        for (String[] vm : new String[][]{{"sa-web", "198.18.50.10"}, {"sa-cli", "198.18.50.20"}}) {
            Api.Response r = f.api.post("/api/v1/vms", Map.of("name", vm[0], "image", "tiny", "start", true,
                    "nics", List.of(Map.of("network", "sa", "ip", vm[1]))));
            assertThat(r.status()).as(r.body()).isEqualTo(201);
        }
        // the whole topology inside sb: its network has sa's subnet, its VMs sa's addresses
        Path topo = tmp.resolve("t.yaml");
        Files.writeString(topo, TOPO);
        ok(f.cli.run("up", "-f", topo.toString(), "--segment", "sb"));
        for (String vm : List.of("sa-web", "sa-cli")) assertThat(awaitRunning(vm).path("state").asText()).as(vm).isEqualTo("RUNNING");

        JsonNode sa = f.api.get("/api/v1/segments/sa").json();
        JsonNode sb = f.api.get("/api/v1/segments/sb").json();
        assertThat(sa.path("owner").asText()).isEqualTo("alice");
        assertThat(sa.path("vms").toString()).contains("sa-web", "sa-cli");
        assertThat(sb.path("topologies").toString()).contains("\"t\"");
        assertThat(sb.path("networks").toString()).contains("t-lan");
        assertThat(f.api.get("/api/v1/networks/t-lan").json().path("segment").asText()).isEqualTo("sb");
        // each VM's QEMU runs in its segment's namespace (its taps are there), none in the fabric
        String tap = f.api.get("/api/v1/vms/t-n-web").json().path("nics").get(0).path("tap").asText();
        assertThat(Cmd.run("ip", "-n", sb.path("netns").asText(), "link", "show", "dev", tap).ok()).isTrue();
        assertThat(namespaceExists(f.api.get("/api/v1/host").json().path("fabricNamespace").asText())).as("the fabric namespace").isFalse();

        serve("sa-web", "segment-sa");
        serve("t-n-web", "segment-sb");
        assertThat(exec("sa-cli", "wget", "-q", "-O", "-", "http://198.18.50.10:8080/").out().strip()).isEqualTo("segment-sa");
        assertThat(exec("t-n-cli", "wget", "-q", "-O", "-", "http://198.18.50.10:8080/").out().strip()).isEqualTo("segment-sb");
        assertThat(exec("sa-cli", "ping", "-c", "1", "-W", "2", "198.18.51.1").code()).as("sa reaches nothing of sb").isNotZero();

        // a VM's NICs are in one place: a 400 naming the field
        Api.Response mixed = f.api.post("/api/v1/vms", Map.of("name", "mixed", "image", "tiny",
                "nics", List.of(Map.of("network", "sa"), Map.of("network", "t-lan"))));
        assertThat(mixed.status()).as(mixed.body()).isEqualTo(400);
        assertThat(mixed.json().path("error").asText()).startsWith("invalid nics:").contains("segment sa").contains("segment sb");
        Api.Response badTtl = f.api.post("/api/v1/segments", Map.of("name", "bad", "ttl", "soon"));
        assertThat(badTtl.status()).isEqualTo(400);
        assertThat(badTtl.json().path("error").asText()).startsWith("invalid ttl:");
    }

    @Test
    @Order(2)
    void aVpnPeerReachesItsSegmentAndNothingElse() throws Exception {
        Wireguard.Keys client = Wireguard.generateKeys();
        Cli.Result vpn = f.cli.run("segment", "vpn", "sa", "--peer", client.publicKey());
        ok(vpn);
        String config = vpn.out();
        assertThat(config).contains("AllowedIPs = 198.18.50.0/24").contains("Endpoint = 198.19.100.1:");
        String serverKey = line(config, "PublicKey");
        String endpoint = line(config, "Endpoint");
        String address = line(config, "Address");
        JsonNode v = f.api.get("/api/v1/segments/sa").json().path("vpn");
        assertThat(v.path("mechanism").asText()).isIn("wireguard-go", "kernel");
        assertThat(v.path("peers").get(0).path("publicKey").asText()).isEqualTo(client.publicKey());

        // the client: wireguard-go in its own namespace, reaching the edge over the veth; it even asks for all of
        // 198.18.0.0/15 through the tunnel, yet only sa answers (the tunnel comes out in sa's namespace only)
        Path log = tmp.resolve("client-wg.log");
        clientWg = new ProcessBuilder("ip", "netns", "exec", CLIENT, "wireguard-go", "-f", CLIENT_IF)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        for (int i = 0; i < 100 && !Cmd.run("ip", "-n", CLIENT, "link", "show", "dev", CLIENT_IF).ok(); i++) Thread.sleep(50);
        Thread.sleep(200); // its control socket follows the interface
        CmdResult set = Cmd.run(List.of("ip", "netns", "exec", CLIENT, "wg", "set", CLIENT_IF, "private-key", "/dev/stdin", "peer", serverKey,
                "endpoint", endpoint, "allowed-ips", "198.18.0.0/15", "persistent-keepalive", "5"),
                (client.privateKey() + "\n").getBytes(StandardCharsets.UTF_8), null, Duration.ofSeconds(10));
        assertThat(set.ok()).as(set + Files.readString(log)).isTrue();
        Cmd.check("ip", "-n", CLIENT, "addr", "add", address, "dev", CLIENT_IF);
        Cmd.check("ip", "-n", CLIENT, "link", "set", CLIENT_IF, "up");
        Cmd.check("ip", "-n", CLIENT, "route", "add", "198.18.0.0/15", "dev", CLIENT_IF);

        CmdResult page = Cmd.run("ip", "netns", "exec", CLIENT, "curl", "-s", "-m", "10", "--retry", "3", "--retry-all-errors",
                "http://198.18.50.10:8080/");
        assertThat(page.stdout().strip()).as(page.toString()).isEqualTo("segment-sa");
        assertThat(Cmd.run("ip", "netns", "exec", CLIENT, "ping", "-c", "2", "-W", "2", "198.18.50.20").ok()).as("sa-cli").isTrue();
        assertThat(Cmd.run("ip", "netns", "exec", CLIENT, "ping", "-c", "2", "-W", "2", "198.18.51.1").ok()).as("sb's gateway").isFalse();
        // and the VMs of sa see the peer's own address (their default route leads back through sa's namespace)
        assertThat(exec("sa-web", "ping", "-c", "1", "-W", "2", address.replace("/32", "")).code()).isZero();
    }

    @Test
    @Order(3)
    void aTtlRemovesASegmentWithAnEvent() throws Exception {
        try (Sse sse = new Sse(f.server.url(), f.token())) {
            Api.Response r = f.api.post("/api/v1/segments", Map.of("name", "st", "ttl", "3s"));
            assertThat(r.status()).as(r.body()).isEqualTo(201);
            assertThat(r.headers().firstValue("Operation-Location")).isPresent();
            String netns = r.json().path("netns").asText();
            assertThat(Cmd.run("ip", "-n", netns, "link", "show").ok()).isTrue();
            sse.await(e -> "segment.expired".equals(e.path("type").asText()) && "st".equals(e.path("name").asText()), Duration.ofSeconds(20));
            sse.await(e -> "segment.deleted".equals(e.path("type").asText()) && "st".equals(e.path("name").asText()), Duration.ofSeconds(10));
            assertThat(f.api.get("/api/v1/segments/st").status()).isEqualTo(404);
            assertThat(namespaceExists(netns)).isFalse();
        }
    }

    @Test
    @Order(4)
    void removingASegmentRemovesItsVmsAndEverythingElseInIt() throws Exception {
        JsonNode sa = f.api.get("/api/v1/segments/sa").json();
        Api.Response rm = f.api.delete("/api/v1/segments/sa");
        assertThat(rm.status()).as(rm.body()).isEqualTo(200);
        assertThat(rm.json().path("vms").toString()).contains("sa-web", "sa-cli");
        for (String vm : List.of("sa-web", "sa-cli")) assertThat(f.api.get("/api/v1/vms/" + vm).status()).isEqualTo(404);
        assertThat(f.api.get("/api/v1/networks/sa").status()).isEqualTo(404);
        assertThat(namespaceExists(sa.path("netns").asText())).isFalse();
        assertThat(Procs.findByArgs("wireguard-go", "vw")).as("the segment's wireguard-go")
                .noneMatch(pid -> Procs.cmdline(pid).orElse(List.of()).stream().anyMatch(a -> a.endsWith(sa.path("id").asText())));
        // the tunnel leads nowhere now
        assertThat(Cmd.run("ip", "netns", "exec", CLIENT, "ping", "-c", "1", "-W", "2", "198.18.50.10").ok()).isFalse();

        Cli.Result rmB = f.cli.run("segment", "rm", "sb");
        ok(rmB);
        assertThat(rmB.out()).contains("t-n-web").contains("t-n-cli");
        assertThat(f.api.get("/api/v1/topologies/t").status()).isEqualTo(404);
        assertThat(f.api.get("/api/v1/segments").json()).isEmpty();
        assertThat(f.qemuProcesses()).isEmpty();
    }

    @Test
    @Order(5)
    void startUpRemovesUnknownSegmentNamespacesAndExpiredSegments() throws Exception {
        Api.Response r = f.api.post("/api/v1/segments", Map.of("name", "sr", "ttl", "4s"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String netns = r.json().path("netns").asText();
        f.server.kill9();
        String orphan = dev.vmctl.net.NetNames.segmentNs(dev.vmctl.engine.LinuxHostNet.fabricName(f.dataDir), "0deadbee");
        Cmd.check("ip", "netns", "add", orphan);
        Thread.sleep(4500); // sr's TTL passes while the server is down
        f.server.start();
        for (int i = 0; i < 100 && f.api.get("/api/v1/segments/sr").status() != 404; i++) Thread.sleep(100);
        assertThat(f.api.get("/api/v1/segments/sr").status()).isEqualTo(404);
        assertThat(namespaceExists(orphan)).as("a segment namespace no row knows").isFalse();
        assertThat(namespaceExists(netns)).as("the expired segment's").isFalse();
    }

    private static String line(String config, String key) {
        for (String l : config.split("\n")) {
            if (l.startsWith(key + " = ")) return l.substring(key.length() + 3).strip();
        }
        throw new AssertionError("no " + key + " in " + config);
    }
}
