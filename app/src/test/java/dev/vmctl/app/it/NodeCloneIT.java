package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node cloned from its node snapshot into a new node of the same topology: its VMs run with their own identity
 * and talk to each other, the originals go on, --net puts the clone on another network, bad requests create
 * nothing, a re-apply of the file leaves the clone, node rm removes it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeCloneIT {
    static final String YAML = """
            apiVersion: vmctl/v1
            kind: Topology
            name: nc
            networks:
              - {name: a, subnet: 198.18.90.0/24}
            nodes:
              - name: svc
                vms:
                  - {name: api, image: tiny, memory: 96M, nics: [a]}
                  - {name: db,  image: tiny, memory: 96M, nics: [a], startBefore: [api]}
            """;
    static Fixture f;
    static Path file;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-nclone-");
        file = Files.createTempFile("nc-", ".yaml");
        Files.writeString(file, YAML);
        ok(f.cli.run("up", "-f", file.toString()));
        ok(f.cli.run("node", "snapshot", "nc/svc", "--name", "warm"));
    }

    @AfterAll
    static void down() throws Exception {
        if (file != null) Files.deleteIfExists(file);
        if (f != null) f.close();
    }

    static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }

    static JsonNode vm(String name) {
        return f.api.get("/api/v1/vms/" + name).json();
    }

    static String exec(String vm, String script) {
        Api.Response r = f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of("sh", "-c", script)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().path("stdout").asText().trim();
    }

    static boolean pings(String from, String ip) {
        Api.Response r = f.api.post("/api/v1/vms/" + from + "/exec", Map.of("argv", List.of("ping", "-c", "2", "-W", "2", ip)));
        return r.status() == 200 && r.json().path("exitCode").asInt() == 0;
    }

    static String ip(String vm) {
        return vm(vm).path("nics").get(0).path("ip").asText();
    }

    @Test
    @Order(1)
    void aCloneRunsWithItsOwnIdentityBesideTheOriginal() throws Exception {
        long apiPid = vm("nc-svc-api").path("pid").asLong();
        Cli.Result r = f.cli.run("node", "clone", "nc/svc", "--snapshot", "warm", "--name", "svc2", "--wait", "-o", "json");
        ok(r);
        JsonNode node = Api.JSON.readTree(r.out());
        assertThat(node.path("state").asText()).as(r.out()).isEqualTo("RUNNING");
        assertThat(node.path("vms")).hasSize(2);
        for (String vm : List.of("api", "db")) {
            String orig = "nc-svc-" + vm, clone = "nc-svc2-" + vm;
            JsonNode o = vm(orig), c = vm(clone);
            assertThat(c.path("state").asText()).isEqualTo("RUNNING");
            assertThat(o.path("state").asText()).as("the original runs on").isEqualTo("RUNNING");
            assertThat(exec(clone, "hostname")).isEqualTo(clone);
            assertThat(exec(clone, "cat /etc/machine-id")).isNotEqualTo(exec(orig, "cat /etc/machine-id"));
            String mac = c.path("nics").get(0).path("mac").asText();
            assertThat(mac).isNotEqualTo(o.path("nics").get(0).path("mac").asText());
            assertThat(exec(clone, "cat /sys/class/net/eth0/address")).isEqualTo(mac);
            assertThat(ip(clone)).startsWith("198.18.90.").isNotEqualTo(ip(orig));
            assertThat(exec(clone, "ip -4 addr show dev eth0")).contains(ip(clone) + "/24");
        }
        assertThat(pings("nc-svc2-api", ip("nc-svc2-db"))).as("clone api → clone db").isTrue();
        assertThat(pings("nc-svc-api", ip("nc-svc-db"))).as("original api → original db").isTrue();
        assertThat(vm("nc-svc-api").path("pid").asLong()).as("the original was not touched").isEqualTo(apiPid);

        // a real node of the topology: GET, topo show; one node.clone operation with a vm.clone child per VM, db first
        assertThat(f.api.get("/api/v1/nodes/nc/svc2").status()).isEqualTo(200);
        Cli.Result show = f.cli.run("topo", "show", "nc");
        ok(show);
        assertThat(show.out()).contains("svc2", "nc-svc2-api", "nc-svc2-db");
        JsonNode op = f.api.get("/api/v1/operations?kind=node.clone").json().get(0);
        assertThat(op.path("state").asText()).isEqualTo("succeeded");
        assertThat(op.path("targets").get(0).asText()).isEqualTo("node:nc/svc2");
        List<String> children = new ArrayList<>();
        for (JsonNode c : f.api.get("/api/v1/operations?kind=vm.clone").json()) {
            if (op.path("id").asText().equals(c.path("parent").asText())) children.add(c.path("id").asText());
        }
        assertThat(children).hasSize(2);

        // the file does not list svc2: a re-apply plans nothing for it and leaves it running
        Cli.Result dry = f.cli.run("up", "-f", file.toString(), "--dry-run", "-o", "json");
        ok(dry);
        List<String> planned = new ArrayList<>();
        for (JsonNode s : Api.JSON.readTree(dry.out()).path("steps")) planned.add(s.path("verb").asText() + " " + s.path("name").asText());
        assertThat(planned).containsExactly("keep nc/svc2");
        Cli.Result again = f.cli.run("up", "-f", file.toString());
        ok(again);
        assertThat(again.out()).contains("nothing to do", "keep node svc2");
        assertThat(vm("nc-svc2-api").path("state").asText()).isEqualTo("RUNNING");
    }

    @Test
    @Order(2)
    void netRemapsTheCloneToAnotherNetwork() {
        ok(f.cli.run("net", "create", "nc-other", "--subnet", "198.18.91.0/24"));
        Api.Response r = f.api.post("/api/v1/nodes/nc/svc/clone?wait=true",
                Map.of("snapshot", "warm", "name", "svc3", "nets", Map.of("a", "nc-other")));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.headers().firstValue("Operation-Location")).isPresent();
        assertThat(r.json().path("state").asText()).isEqualTo("RUNNING");
        assertThat(ip("nc-svc3-api")).startsWith("198.18.91.");
        assertThat(ip("nc-svc3-db")).startsWith("198.18.91.");
        assertThat(pings("nc-svc3-api", ip("nc-svc3-db"))).as("on the other network together").isTrue();
        assertThat(pings("nc-svc3-api", ip("nc-svc-db"))).as("not on the original's").isFalse();
        ok(f.cli.run("node", "rm", "nc/svc3"));
    }

    @Test
    @Order(3)
    void badRequestsAreRefusedAndCreateNothing() {
        int vms = f.api.get("/api/v1/vms").json().size();
        Api.Response r = f.api.post("/api/v1/nodes/nc/svc/clone", Map.of("snapshot", "cold", "name", "svc4"));
        assertThat(r.status()).as(r.body()).isEqualTo(404);
        assertThat(r.json().path("error").asText()).isEqualTo("node snapshot not found: cold");
        r = f.api.post("/api/v1/nodes/nc/svc/clone", Map.of("snapshot", "warm", "name", "svc2"));
        assertThat(r.status()).as(r.body()).isEqualTo(409);
        r = f.api.post("/api/v1/nodes/nc/svc/clone", Map.of("snapshot", "warm", "name", "Svc 4"));
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().path("error").asText()).startsWith("invalid name:");
        r = f.api.post("/api/v1/nodes/nc/svc/clone", Map.of("snapshot", "warm", "name", "svc4", "nets", Map.of("a", "nowhere")));
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().path("error").asText()).isEqualTo("invalid nets.a: unknown network 'nowhere'");
        assertThat(r.json().path("detail").asText()).contains("nc-a", "nc-other");
        Cli.Result c = f.cli.run("node", "clone", "nc/svc", "--snapshot", "warm", "--name", "svc4", "--net", "b=nc-other");
        assertThat(c.code()).isEqualTo(1);
        assertThat(c.err()).contains("invalid nets: 'b' is not a network of node nc/svc", "a (nc-a)");
        assertThat(f.api.get("/api/v1/vms").json()).hasSize(vms);
        assertThat(f.api.get("/api/v1/nodes/nc/svc4").status()).isEqualTo(404);
    }

    @Test
    @Order(4)
    void nodeRmRemovesTheClone() {
        ok(f.cli.run("node", "rm", "nc/svc2"));
        assertThat(f.api.get("/api/v1/nodes/nc/svc2").status()).isEqualTo(404);
        assertThat(f.api.get("/api/v1/vms/nc-svc2-api").status()).isEqualTo(404);
        List<String> names = new ArrayList<>();
        for (JsonNode v : f.api.get("/api/v1/vms").json()) names.add(v.path("name").asText());
        assertThat(names).containsExactlyInAnyOrder("nc-svc-api", "nc-svc-db");
        assertThat(f.qemuProcesses()).hasSize(2);
        ok(f.cli.run("down", "nc"));
        ok(f.cli.run("net", "rm", "nc-other"));
        assertThat(f.qemuProcesses()).isEmpty();
    }
}
