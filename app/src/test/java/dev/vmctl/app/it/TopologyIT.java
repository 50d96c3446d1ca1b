package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The two examples deployed for real: connectivity, re-apply, changes, node lifecycle, down, broken files, roll-back. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TopologyIT {
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    static Fixture f;
    static String fabric;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-topo-");
        fabric = f.api.get("/api/v1/host").json().path("fabricNamespace").asText();
    }

    @AfterAll
    static void down() throws Exception {
        if (f != null) f.close();
    }

    static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }

    static JsonNode vm(String name) {
        return f.api.get("/api/v1/vms/" + name).json();
    }

    static boolean pings(String from, String ip) {
        Api.Response r = f.api.post("/api/v1/vms/" + from + "/exec", Map.of("argv", List.of("ping", "-c", "2", "-W", "2", ip)));
        return r.status() == 200 && r.json().path("exitCode").asInt() == 0;
    }

    static String ip(String vm, int nic) {
        return vm(vm).path("nics").get(nic).path("ip").asText();
    }

    @Test
    @Order(1)
    void shopDeploysAsWrittenAndReapplyIsANoOp() {
        Cli.Result r = f.cli.run("up", "-f", EXAMPLES.resolve("shop.yaml").toString());
        ok(r);
        for (String n : List.of("shop-svc-api", "shop-svc-cache", "shop-svc-gateway")) {
            assertThat(vm(n).path("state").asText()).as(n).isEqualTo("RUNNING");
        }
        assertThat(vm("shop-svc-api").path("nics")).hasSize(2);
        // cache was RUNNING before api was started (startBefore)
        JsonNode topo = f.api.get("/api/v1/topologies/shop").json();
        assertThat(topo.path("nodes")).hasSize(1);
        assertThat(topo.path("nodes").get(0).path("vms")).hasSize(3);
        assertThat(topo.path("networks").toString()).contains("public").contains("internal");
        // connectivity inside the node, isolation where there is no route
        assertThat(pings("shop-svc-api", ip("shop-svc-cache", 0))).as("api → cache on internal").isTrue();
        assertThat(pings("shop-svc-api", ip("shop-svc-gateway", 0))).as("api → gateway on public").isTrue();
        assertThat(pings("shop-svc-gateway", ip("shop-svc-cache", 0))).as("gateway → cache: no route").isFalse();

        r = f.cli.run("up", "-f", EXAMPLES.resolve("shop.yaml").toString());
        ok(r);
        assertThat(r.out()).contains("nothing to do");
        Cli.Result ls = f.cli.run("topo", "ls");
        ok(ls);
        assertThat(ls.out()).contains("shop");
        Cli.Result show = f.cli.run("topo", "show", "shop", "-o", "json");
        ok(show);
        assertThat(show.out()).contains("shop-svc-api");
    }

    @Test
    @Order(2)
    void startOrderIsHonoured() {
        Instant cacheUp = Instant.parse(vm("shop-svc-cache").path("updatedAt").asText());
        // api's REQUESTED→PREPARING came after cache's PREPARING→RUNNING: the node stop/start below re-checks it live
        ok(f.cli.run("node", "stop", "shop/svc"));
        for (String n : List.of("shop-svc-api", "shop-svc-cache", "shop-svc-gateway")) {
            assertThat(vm(n).path("state").asText()).as(n).isEqualTo("STOPPED");
        }
        try (Sse sse = new Sse(f.server.url(), f.token())) {
            ok(f.cli.run("node", "start", "shop/svc"));
            List<String> order = new ArrayList<>();
            for (JsonNode e : sse.events()) {
                if ("vm.state".equals(e.path("type").asText())) order.add(e.path("name").asText() + ":" + e.path("state").asText());
            }
            assertThat(order.indexOf("shop-svc-cache:RUNNING")).as(order.toString())
                    .isLessThan(order.indexOf("shop-svc-api:PREPARING")).isGreaterThanOrEqualTo(0);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        for (String n : List.of("shop-svc-api", "shop-svc-cache", "shop-svc-gateway")) {
            assertThat(vm(n).path("state").asText()).as(n).isEqualTo("RUNNING");
        }
        assertThat(cacheUp).isNotNull();
    }

    @Test
    @Order(3)
    void aChangedFileAddsAndRemovesExactlyWhatChanged(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        long apiPid = vm("shop-svc-api").path("pid").asLong();
        long cachePid = vm("shop-svc-cache").path("pid").asLong();
        String changed = Files.readString(EXAMPLES.resolve("shop.yaml"))
                .replace("      - {name: gateway, role: external-gw, image: tiny, memory: 128M, nics: [public]}",
                        "      - {name: worker,  role: batch,       image: tiny, memory: 96M,  nics: [internal]}");
        assertThat(changed).contains("worker");
        Path file = tmp.resolve("shop.yaml");
        Files.writeString(file, changed);
        Cli.Result dry = f.cli.run("up", "-f", file.toString(), "--dry-run", "-o", "json");
        ok(dry);
        JsonNode plan = Api.JSON.readTree(dry.out());
        List<String> planned = new ArrayList<>();
        for (JsonNode s : plan.path("steps")) planned.add(s.path("verb").asText() + " " + s.path("type").asText() + " " + s.path("name").asText());
        assertThat(planned).containsExactlyInAnyOrder("delete vm shop-svc-gateway", "create vm shop-svc-worker");
        assertThat(vm("shop-svc-gateway").path("state").asText()).as("dry run changes nothing").isEqualTo("RUNNING");

        ok(f.cli.run("up", "-f", file.toString()));
        assertThat(f.api.get("/api/v1/vms/shop-svc-gateway").status()).isEqualTo(404);
        assertThat(vm("shop-svc-worker").path("state").asText()).isEqualTo("RUNNING");
        assertThat(vm("shop-svc-api").path("pid").asLong()).as("untouched").isEqualTo(apiPid);
        assertThat(vm("shop-svc-cache").path("pid").asLong()).as("untouched").isEqualTo(cachePid);
    }

    @Test
    @Order(4)
    void aNodeSnapshotRestoresAllItsVms() {
        Api.Response r = f.api.post("/api/v1/nodes/shop/svc/snapshot", Map.of("name", "svc-warm"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("members").size()).isEqualTo(3);
        for (String vm : List.of("shop-svc-api", "shop-svc-cache", "shop-svc-worker")) {
            assertThat(vm(vm).path("state").asText()).as(vm + " keeps running").isEqualTo("RUNNING");
            f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of("sh", "-c", "echo after > /tmp/after")));
        }
        r = f.api.post("/api/v1/nodes/shop/svc/restore", Map.of("snapshot", "svc-warm"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        for (String vm : List.of("shop-svc-api", "shop-svc-cache", "shop-svc-worker")) {
            assertThat(vm(vm).path("state").asText()).as(vm).isEqualTo("RUNNING");
            Api.Response e = f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of("sh", "-c", "test -e /tmp/after && echo yes || echo no")));
            assertThat(e.json().path("stdout").asText().trim()).as(vm + " rolled back").isEqualTo("no");
        }
        assertThat(pings("shop-svc-api", ip("shop-svc-cache", 0))).as("the node still talks after the restore").isTrue();
        Api.Response wrong = f.api.post("/api/v1/nodes/shop/svc/restore", Map.of("snapshot", "nope"));
        assertThat(wrong.status()).isEqualTo(404);
    }

    @Test
    @Order(5)
    void downRemovesEverything() {
        Cli.Result r = f.cli.run("down", "shop");
        ok(r);
        assertThat(f.api.get("/api/v1/vms").json()).isEmpty();
        assertThat(f.api.get("/api/v1/networks").json()).isEmpty();
        assertThat(f.api.get("/api/v1/topologies").json()).isEmpty();
        assertThat(f.qemuProcesses()).isEmpty();
        assertThat(Cmd.run("ip", "netns", "list").stdout()).doesNotContain(fabric);
    }

    @Test
    @Order(6)
    void aBrokenFileGetsAPreciseErrorAndCreatesNothing(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("broken.yaml");
        Files.writeString(file, Files.readString(EXAMPLES.resolve("shop.yaml")).replace("memory: 128M, nics: [internal]", "memory: 12X, nics: [internal]"));
        Cli.Result r = f.cli.run("up", "-f", file.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("broken.yaml:").contains("memory").contains("12X");
        Files.writeString(file, Files.readString(EXAMPLES.resolve("shop.yaml")).replace("nics: [public]}", "nics: [nowhere]}"));
        r = f.cli.run("up", "-f", file.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("nowhere");
        assertThat(f.api.get("/api/v1/vms").json()).isEmpty();
        assertThat(f.api.get("/api/v1/networks").json()).isEmpty();
    }

    @Test
    @Order(7)
    void aFailingVmIsReportedAndRolledBackOnRequest(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // an image whose kernel cannot boot: QEMU exits while loading it
        JsonNode tiny = f.api.get("/api/v1/images").json().get(0);
        Path catalog = f.dataDir.resolve("images").resolve("catalog.json");
        Path badKernel = f.dataDir.resolve("images").resolve("broken-vmlinux");
        Files.writeString(badKernel, "not a kernel");
        JsonNode cat = Api.JSON.readTree(catalog.toFile());
        var broken = ((com.fasterxml.jackson.databind.node.ObjectNode) tiny.deepCopy()).put("name", "broken").put("kernel", badKernel.toString());
        ((com.fasterxml.jackson.databind.node.ArrayNode) cat.path("images")).add(broken);
        Files.writeString(catalog, Api.JSON.writeValueAsString(cat));
        String yaml = """
                apiVersion: vmctl/v1
                kind: Topology
                name: fail
                networks:
                  - {name: net, subnet: 198.18.70.0/24}
                nodes:
                  - name: n
                    vms:
                      - {name: first,  role: ok,     image: tiny,   memory: 96M, nics: [net], startBefore: [second]}
                      - {name: second, role: broken, image: broken, memory: 96M, nics: [net], startBefore: [third]}
                      - {name: third,  role: never,  image: tiny,   memory: 96M, nics: [net]}
                """;
        Path file = tmp.resolve("fail.yaml");
        Files.writeString(file, yaml);
        Cli.Result r = f.cli.run("up", "-f", file.toString(), "-o", "json");
        assertThat(r.code()).isNotZero();
        JsonNode report = Api.JSON.readTree(r.out());
        Map<String, String> status = new java.util.HashMap<>();
        for (JsonNode s : report.path("steps")) status.put(s.path("name").asText(), s.path("status").asText());
        assertThat(status).containsEntry("fail-n-first", "done").containsEntry("fail-n-second", "failed").containsEntry("fail-n-third", "skipped");
        assertThat(vm("fail-n-first").path("state").asText()).as("kept without --rollback-on-error").isEqualTo("RUNNING");
        ok(f.cli.run("down", "fail"));
        assertThat(f.api.get("/api/v1/vms").json()).isEmpty();

        r = f.cli.run("up", "-f", file.toString(), "--rollback-on-error", "-o", "json");
        assertThat(r.code()).isNotZero();
        report = Api.JSON.readTree(r.out());
        assertThat(report.path("rolledBack").asBoolean()).isTrue();
        assertThat(f.api.get("/api/v1/vms").json()).as("rolled back").isEmpty();
        assertThat(f.api.get("/api/v1/networks").json()).isEmpty();
        assertThat(f.qemuProcesses()).isEmpty();
    }

    @Test
    @Order(8)
    void theRoutedLabDeploysWithRoutingAndIsolation() {
        Cli.Result r = f.cli.run("up", "-f", EXAMPLES.resolve("routed-lab.yaml").toString());
        ok(r);
        for (JsonNode v : f.api.get("/api/v1/vms").json()) assertThat(v.path("state").asText()).as(v.path("name").asText()).isEqualTo("RUNNING");
        assertThat(pings("lab-web-web-1", "198.18.12.10")).as("web → db primary through the router").isTrue();
        assertThat(pings("lab-db-replica", "198.18.11.11")).as("db replica → web-2").isTrue();
        assertThat(pings("lab-web-web-1", "198.18.11.11")).as("web-1 → web-2 on seg-a").isTrue();
        assertThat(pings("lab-quarantine-lone", "198.18.11.10")).as("isolated segment has no route").isFalse();
        assertThat(pings("lab-web-web-1", "198.18.13.10")).as("nor into it").isFalse();
        ok(f.cli.run("down", "lab"));
        assertThat(f.api.get("/api/v1/vms").json()).isEmpty();
        assertThat(f.api.get("/api/v1/routers").json()).isEmpty();
        assertThat(f.qemuProcesses()).isEmpty();
    }
}
