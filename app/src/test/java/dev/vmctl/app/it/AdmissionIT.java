package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Admission control for guest memory on a real server and real QEMU: the server runs as if the host had 1536 MiB
 * available besides vmctl's own VMs ({@code -Dvmctl.memory.available}, the test's way to make a small host of a big
 * one) with {@code --memory-reserve 256M}. A VM that fits boots; a create, a clone of many, a topology deploy that do
 * not fit are refused with a 409 naming memory, the requested and the available amounts, and leave nothing behind (no
 * VM, no folder, no tap, no network, no topology); of two creates at once that fit only one at a time, one boots and
 * the other is refused; a restore of a running VM (which replaces its own QEMU) is admitted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdmissionIT {
    static Fixture f;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-admission-", List.of("-Dvmctl.memory.available=1536M"), List.of("--memory-reserve", "256M"));
        Cli.Result r = f.cli.run("net", "create", "admnet", "--subnet", "198.18.96.0/24");
        assertThat(r.code()).as(r.toString()).isZero();
    }

    @AfterAll
    static void down() throws Exception {
        if (f != null) f.close();
    }

    static JsonNode memory() {
        Api.Response r = f.api.get("/api/v1/host");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().path("memory");
    }

    /** What a refused call must not have left: VM rows, VM folders, taps in the fabric namespace. */
    record Footprint(List<String> vms, List<String> folders, List<String> links, List<String> networks) {}

    static Footprint footprint() throws Exception {
        List<String> vms = new ArrayList<>();
        for (JsonNode v : f.api.get("/api/v1/vms").json()) vms.add(v.path("name").asText());
        List<String> folders;
        try (Stream<Path> s = Files.list(f.dataDir.resolve("vms"))) {
            folders = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        String fabric = dev.vmctl.engine.LinuxHostNet.fabricName(f.dataDir);
        List<String> links = new ArrayList<>();
        for (String line : Cmd.run("ip", "-n", fabric, "-o", "link").stdout().split("\n")) {
            if (!line.isBlank()) links.add(line.split(":\\s+")[1].split("@")[0]);
        }
        List<String> networks = new ArrayList<>();
        for (JsonNode n : f.api.get("/api/v1/networks").json()) networks.add(n.path("name").asText());
        return new Footprint(vms, folders, links, networks);
    }

    static void assertRefusedForMemory(Api.Response r, long requested) {
        assertThat(r.status()).as(r.body()).isEqualTo(409);
        String error = r.json().path("error").asText();
        assertThat(error).contains("not enough memory").contains("requested " + requested + " MiB").containsPattern("available \\d+ MiB");
        assertThat(r.json().path("detail").asText()).contains("--memory-reserve");
    }

    @Test
    @Order(1)
    void theHostViewShowsTheBudget() {
        JsonNode m = memory();
        assertThat(m.path("reserve").asText()).isEqualTo("256M");
        assertThat(m.path("reserveMiB").asLong()).isEqualTo(256);
        assertThat(m.path("availableMiB").asLong()).isBetween(1L, 1536L);
        assertThat(m.path("freeMiB").asLong()).isEqualTo(m.path("availableMiB").asLong() - 256 - m.path("committedMiB").asLong()
                - m.path("reservedMiB").asLong());
        assertThat(m.path("source").asText()).contains("capped at 1536 MiB");
        Cli.Result doctor = f.cli.run("doctor");
        assertThat(doctor.code()).as(doctor.toString()).isZero();
        assertThat(doctor.out()).contains("memory:").contains("free MiB:").contains("256M");
    }

    @Test
    @Order(2)
    void aVmThatFitsBootsAndOneThatDoesNotIsRefusedLeavingNothing() throws Exception {
        Api.Response ok = f.api.post("/api/v1/vms?wait=true", Map.of("name", "small", "image", "tiny", "memory", "128M", "start", true,
                "nics", List.of(Map.of("network", "admnet"))));
        assertThat(ok.status()).as(ok.body()).isEqualTo(201);
        assertThat(ok.json().path("state").asText()).as(ok.body()).isEqualTo("RUNNING");

        Footprint before = footprint();
        Api.Response big = f.api.post("/api/v1/vms?wait=true", Map.of("name", "big", "image", "tiny", "memory", "2G", "start", true,
                "nics", List.of(Map.of("network", "admnet"))));
        assertRefusedForMemory(big, 2048);
        assertThat(f.api.get("/api/v1/vms/big").status()).isEqualTo(404);
        assertThat(footprint()).isEqualTo(before);
        // the CLI says so and exits 1 (an API error)
        Cli.Result cli = f.cli.run("vm", "create", "big", "--image", "tiny", "--memory", "2G", "--start", "--wait");
        assertThat(cli.code()).as(cli.toString()).isEqualTo(1);
        assertThat(cli.err()).contains("not enough memory").contains("requested 2048 MiB");
        assertThat(footprint()).isEqualTo(before);
        // a warm create (from the boot snapshot the first boot recorded) is admitted as well
        Api.Response warm = f.api.post("/api/v1/vms?wait=true", Map.of("name", "small2", "image", "tiny", "memory", "128M", "start", true));
        assertThat(warm.status()).as(warm.body()).isEqualTo(201);
        assertThat(warm.json().path("state").asText()).as(warm.body()).isEqualTo("RUNNING");
        // a VM created without start uses no memory; its start is what is checked
        Api.Response idle = f.api.post("/api/v1/vms", Map.of("name", "idle", "image", "tiny", "memory", "4G"));
        assertThat(idle.status()).as(idle.body()).isEqualTo(201);
        Api.Response start = f.api.post("/api/v1/vms/idle/start?wait=true", null);
        assertRefusedForMemory(start, 4096);
        assertThat(f.api.get("/api/v1/vms/idle").json().path("state").asText()).isEqualTo("REQUESTED");
        assertThat(f.api.delete("/api/v1/vms/idle").status()).isEqualTo(200);
    }

    @Test
    @Order(3)
    void ofTwoCreatesAtOnceThatFitOnlyOneAtATimeOneIsRefused() throws Exception {
        long free = memory().path("freeMiB").asLong();
        long each = free / 2 + 64; // one fits, two do not
        List<Callable<Api.Response>> calls = new ArrayList<>();
        for (String n : List.of("para1", "para2")) {
            calls.add(() -> f.api.post("/api/v1/vms?wait=true", Map.of("name", n, "image", "tiny", "memory", each + "M", "start", true)));
        }
        List<Api.Response> answers = new ArrayList<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<Api.Response> fu : ex.invokeAll(calls)) answers.add(fu.get());
        }
        List<Integer> statuses = answers.stream().map(Api.Response::status).sorted().toList();
        assertThat(statuses).as(answers.toString()).containsExactly(201, 409);
        Api.Response refused = answers.stream().filter(a -> a.status() == 409).findFirst().orElseThrow();
        assertRefusedForMemory(refused, each);
        Api.Response booted = answers.stream().filter(a -> a.status() == 201).findFirst().orElseThrow();
        assertThat(booted.json().path("state").asText()).as(booted.body()).isEqualTo("RUNNING");
        assertThat(f.api.delete("/api/v1/vms/" + booted.json().path("name").asText() + "?force=true").status()).isIn(200, 202);
    }

    @Test
    @Order(4)
    void aCloneOfManyThatDoesNotFitIsRefusedAndARestoreIsAdmitted() throws Exception {
        Api.Response snap = f.api.post("/api/v1/snapshots", Map.of("vm", "small", "name", "adm-s1"));
        assertThat(snap.status()).as(snap.body()).isEqualTo(201);
        Footprint before = footprint();
        Api.Response clone = f.api.post("/api/v1/snapshots/adm-s1/clone", Map.of("count", 40, "name", "cl-{n}", "network", "admnet"));
        assertRefusedForMemory(clone, 40 * 128);
        assertThat(footprint()).isEqualTo(before);
        // a restore replaces the VM's own QEMU: what that one uses comes back
        Api.Response restore = f.api.post("/api/v1/vms/small/restore?wait=true", Map.of("snapshot", "adm-s1"));
        assertThat(restore.status()).as(restore.body()).isIn(200, 202);
        assertThat(f.api.get("/api/v1/vms/small").json().path("state").asText()).isEqualTo("RUNNING");
    }

    @Test
    @Order(5)
    void aTopologyThatDoesNotFitIsRefusedUpFrontAndNothingIsCreated(@TempDir Path tmp) throws Exception {
        Footprint before = footprint();
        String yaml = """
                apiVersion: vmctl/v1
                kind: Topology
                name: toobig
                networks:
                  - {name: net, subnet: 198.18.97.0/24}
                nodes:
                  - name: n
                    vms:
                      - {name: a, image: tiny, memory: 512M, nics: [net]}
                      - {name: b, image: tiny, memory: 512M, nics: [net]}
                      - {name: c, image: tiny, memory: 512M, nics: [net]}
                """;
        Path file = tmp.resolve("toobig.yaml");
        Files.writeString(file, yaml);
        Cli.Result r = f.cli.run("up", "-f", file.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("deploy topology toobig (3 VM(s))").contains("not enough memory").contains("requested 1536 MiB");
        assertThat(f.api.get("/api/v1/topologies/toobig").status()).isEqualTo(404);
        assertThat(footprint()).isEqualTo(before);
    }
}
