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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Snapshots of a running VM: restore rolls back, clones get their own identity, damaged snapshots are refused. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotIT {
    static Fixture f;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-snap-");
        ok(f.cli.run("net", "create", "snapnet", "--subnet", "198.18.50.0/24"));
        ok(f.cli.run("vm", "create", "s1", "--image", "tiny", "--nic", "net=snapnet", "--start", "--wait"));
    }

    @AfterAll
    static void down() throws Exception {
        if (f != null) f.close();
    }

    static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }

    static String exec(String vm, String script) {
        Api.Response r = f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of("sh", "-c", script)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().path("stdout").asText().trim();
    }

    static int counter(String vm) {
        return Integer.parseInt(exec(vm, "cat /tmp/counter"));
    }

    @Test
    @Order(1)
    void restoreRollsBackAndTheCounterContinues() throws Exception {
        exec("s1", "echo kept > /tmp/file; i=0; (while :; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.2; done) </dev/null >/dev/null 2>&1 &");
        Thread.sleep(1000);
        int before = counter("s1");
        Cli.Result r = f.cli.run("snapshot", "create", "s1", "--name", "s1-warm");
        ok(r);
        JsonNode snap = f.api.get("/api/v1/snapshots/s1-warm").json();
        assertThat(snap.path("vm").asText()).isEqualTo("s1");
        assertThat(snap.path("ramMode").asText()).isEqualTo("file");
        assertThat(snap.path("files").size()).isGreaterThanOrEqualTo(3);
        assertThat(f.api.get("/api/v1/vms/s1").json().path("state").asText()).as("keeps running").isEqualTo("RUNNING");
        Thread.sleep(3000);
        int later = counter("s1");
        assertThat(later).isGreaterThan(before + 5);
        exec("s1", "rm /tmp/file");

        r = f.cli.run("vm", "restore", "s1", "--snapshot", "s1-warm");
        ok(r);
        assertThat(f.api.get("/api/v1/vms/s1").json().path("state").asText()).isEqualTo("RUNNING");
        assertThat(exec("s1", "cat /tmp/file")).isEqualTo("kept");
        int restored = counter("s1");
        assertThat(restored).as("rolled back to the snapshot's count").isLessThan(later).isGreaterThanOrEqualTo(before);
        Thread.sleep(1500);
        assertThat(counter("s1")).as("and counting again").isGreaterThan(restored);
        assertThat(exec("s1", "hostname")).isEqualTo("s1");
    }

    @Test
    @Order(2)
    void threeClonesEachWithItsOwnIdentityPingEachOther() {
        Cli.Result r = f.cli.run("vm", "clone", "s1-warm", "--count", "3", "--name", "web-{n}", "--net", "snapnet", "--start", "--wait");
        ok(r);
        Set<String> macs = new HashSet<>(), ips = new HashSet<>(), hosts = new HashSet<>(), machineIds = new HashSet<>();
        for (String n : List.of("web-1", "web-2", "web-3")) {
            JsonNode v = f.api.get("/api/v1/vms/" + n).json();
            assertThat(v.path("state").asText()).as(n + " " + v).isEqualTo("RUNNING");
            JsonNode nic = v.path("nics").get(0);
            macs.add(nic.path("mac").asText());
            ips.add(nic.path("ip").asText());
            assertThat(exec(n, "cat /sys/class/net/eth0/address")).isEqualTo(nic.path("mac").asText());
            assertThat(exec(n, "ip -4 addr show dev eth0")).contains(nic.path("ip").asText() + "/24");
            hosts.add(exec(n, "hostname"));
            machineIds.add(exec(n, "cat /etc/machine-id"));
            // memory came from the snapshot: the file written before it is there
            assertThat(exec(n, "cat /tmp/file")).isEqualTo("kept");
        }
        assertThat(hosts).containsExactlyInAnyOrder("web-1", "web-2", "web-3");
        assertThat(macs).hasSize(3);
        assertThat(ips).hasSize(3).doesNotContain(f.api.get("/api/v1/vms/s1").json().path("nics").get(0).path("ip").asText());
        assertThat(machineIds).hasSize(3);
        for (String ip : ips) {
            Api.Response p = f.api.post("/api/v1/vms/web-1/exec", Map.of("argv", List.of("ping", "-c", "2", "-W", "2", ip)));
            assertThat(p.json().path("exitCode").asInt()).as("web-1 → " + ip + ": " + p.body()).isZero();
        }
        assertThat(f.api.get("/api/v1/snapshots/s1-warm").json().path("clones")).hasSize(3);
    }

    @Test
    @Order(3)
    void aSnapshotInUseCannotBeRemoved() {
        Api.Response r = f.api.delete("/api/v1/snapshots/s1-warm");
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.body()).contains("s1-warm");
        assertThat(f.api.get("/api/v1/snapshots/s1-warm").status()).isEqualTo(200);
    }

    @Test
    @Order(4)
    void exportImportThenCloneAndATamperedCopyIsRefused() throws Exception {
        Path archive = Files.createTempFile("vmctl-snap-", ".tar.zst");
        Files.delete(archive);
        try {
            ok(f.cli.run("snapshot", "export", "s1-warm", "-o", archive.toString()));
            assertThat(Files.size(archive)).isGreaterThan(1000);
            ok(f.cli.run("snapshot", "import", archive.toString(), "--name", "copy"));
            ok(f.cli.run("snapshot", "import", archive.toString(), "--name", "tampered"));
        } finally {
            Files.deleteIfExists(archive);
        }
        Api.Response c = f.api.post("/api/v1/snapshots/copy/clone?wait=true", Map.of("name", "imported", "network", "snapnet"));
        assertThat(c.status()).as(c.body()).isEqualTo(201);
        assertThat(c.json().get(0).path("state").asText()).as(c.body()).isEqualTo("RUNNING");
        assertThat(exec("imported", "cat /tmp/file")).isEqualTo("kept");

        // flip one byte of the tampered copy's device state
        Path state = f.dataDir.resolve("snapshots").resolve("tampered").resolve("state");
        byte[] b = Files.readAllBytes(state);
        b[b.length / 2] ^= 0x5a;
        Files.write(state, b);
        Api.Response bad = f.api.post("/api/v1/snapshots/tampered/clone", Map.of("name", "never", "network", "snapnet"));
        assertThat(bad.status()).as(bad.body()).isEqualTo(400);
        assertThat(bad.json().path("error").asText()).contains("tampered").contains("damaged");
        assertThat(f.api.get("/api/v1/vms/never").status()).as("nothing created").isEqualTo(404);
        Api.Response restoreBad = f.api.post("/api/v1/vms/s1/restore", Map.of("snapshot", "tampered"));
        assertThat(restoreBad.status()).isEqualTo(400);
        assertThat(f.api.get("/api/v1/vms/s1").json().path("state").asText()).isEqualTo("RUNNING");
    }

    @Test
    @Order(5)
    void removingClonesFreesTheSnapshot() {
        for (String n : List.of("web-1", "web-2", "web-3", "imported")) {
            assertThat(f.api.delete("/api/v1/vms/" + n + "?force=true").status()).isEqualTo(200);
        }
        for (String s : List.of("s1-warm", "copy", "tampered")) {
            Api.Response r = f.api.delete("/api/v1/snapshots/" + s);
            assertThat(r.status()).as(s + " " + r.body()).isEqualTo(200);
        }
        assertThat(f.api.get("/api/v1/snapshots").json()).isEmpty();
    }

    @Test
    @Order(6)
    void aVmRestoredFromADeletedSnapshotCanBeSnapshottedAgain() {
        // s1 was restored from s1-warm (order 1), which is gone now (order 5): its QEMU runs from its own links
        Cli.Result r = f.cli.run("snapshot", "create", "s1", "--name", "s1-again");
        ok(r);
        assertThat(f.api.get("/api/v1/snapshots/s1-again").json().path("vm").asText()).isEqualTo("s1");
        assertThat(f.api.delete("/api/v1/snapshots/s1-again").status()).isEqualTo(200);
    }
}
