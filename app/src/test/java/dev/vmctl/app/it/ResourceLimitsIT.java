package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.ProcStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node limited to 0.3 cores: its VM's QEMU sits in the node's cgroup (below the server's own), a guest busy-looping
 * for 6-7 s costs at most 0.4 core-seconds per second, and the groups go with the topology.
 */
@ExtendWith(Fixture.class)
class ResourceLimitsIT {
    @Test
    void nodeCpuLimitHoldsABusyGuest(Fixture f, @TempDir Path tmp) throws Exception {
        JsonNode cg = f.api.get("/api/v1/host").json().path("cgroups");
        org.junit.jupiter.api.Assumptions.assumeFalse(cg.path("mode").asText().equals("none"), "no cgroups here: " + cg);
        Path cpuDir = Path.of(cg.path("cpu").asText());
        Path file = tmp.resolve("lim.yaml");
        Files.writeString(file, """
                apiVersion: vmctl/v1
                kind: Topology
                name: lim
                nodes:
                  - name: n1
                    resources: {cpu: 0.3, memory: 512M}
                    vms:
                      - {name: a, image: tiny, memory: 128M}
                """);
        try {
            Cli.Result up = f.cli.run("up", "-f", file.toString());
            assertThat(up.code()).as(up.toString()).isZero();
            JsonNode vm = f.api.get("/api/v1/vms/lim-n1-a").json();
            long pid = vm.path("pid").asLong();
            Path node = cpuDir.resolve("node-lim-n1");
            Path group = node.resolve("vm-" + vm.path("id").asText());
            assertThat(Files.readString(group.resolve("cgroup.procs"))).contains(Long.toString(pid));
            if (cg.path("mode").asText().equals("v1")) {
                assertThat(Files.readString(node.resolve("cpu.cfs_quota_us")).trim()).isEqualTo("30000");
                Path mem = Path.of(cg.path("memory").asText()).resolve("node-lim-n1");
                assertThat(Files.readString(mem.resolve("memory.limit_in_bytes")).trim()).isEqualTo(Long.toString(512L << 20));
            } else {
                assertThat(Files.readString(node.resolve("cpu.max")).trim()).isEqualTo("30000 100000");
            }
            Cli.Result doctor = f.cli.run("doctor");
            assertThat(doctor.out()).as(doctor.toString()).contains("cgroup " + cg.path("mode").asText());

            // 6 s of busy loop in the guest, measured on the host from QEMU's /proc/PID/stat
            double cpu0 = ProcStats.cpuSeconds(ProcStats.read(pid, "stat").orElseThrow());
            long t0 = System.nanoTime();
            Api.Response ex = f.api.post("/api/v1/vms/lim-n1-a/exec", Map.of("argv", List.of("sh", "-c",
                    "end=$(( $(cut -d. -f1 /proc/uptime) + 7 )); while [ $(cut -d. -f1 /proc/uptime) -lt $end ]; do :; done"), "timeoutSec", 90));
            assertThat(ex.status()).as(ex.body()).isEqualTo(200);
            double wall = (System.nanoTime() - t0) / 1e9;
            double used = ProcStats.cpuSeconds(ProcStats.read(pid, "stat").orElseThrow()) - cpu0;
            System.out.printf("ResourceLimitsIT: busy guest in a node limited to 0.3 cores: %.2f core-s in %.2f s = %.3f core-s/s%n", used, wall, used / wall);
            assertThat(wall).isGreaterThan(5.0);
            assertThat(used / wall).as("core-seconds per second of a guest busy-looping in a node limited to 0.3 cores").isLessThanOrEqualTo(0.4);
        } finally {
            Cli.Result down = f.cli.run("down", "lim");
            assertThat(down.code()).as(down.toString()).isZero();
        }
        // the groups go with the VM's QEMU, vmctl's folder with its last group
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(cpuDir).doesNotExist());
    }

    @Test
    void aVmCreatedWithACpuLimitRunsInItsOwnGroup(Fixture f) {
        JsonNode cg = f.api.get("/api/v1/host").json().path("cgroups");
        org.junit.jupiter.api.Assumptions.assumeFalse(cg.path("mode").asText().equals("none"), "no cgroups here: " + cg);
        Path cpuDir = Path.of(cg.path("cpu").asText());
        // bad input names the field and changes nothing
        Cli.Result bad = f.cli.run("vm", "create", "lim-bad", "--image", "tiny", "--cpu-limit", "0");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("cpuLimit").contains("0.01 to 64");
        assertThat(f.api.get("/api/v1/vms/lim-bad").status()).isEqualTo(404);
        try {
            Cli.Result c = f.cli.run("vm", "create", "lim-own", "--image", "tiny", "--memory", "96M", "--cpu-limit", "0.3", "--start", "--wait");
            assertThat(c.code()).as(c.toString()).isZero();
            JsonNode vm = f.api.get("/api/v1/vms/lim-own").json();
            assertThat(vm.path("cpuLimit").asDouble()).isEqualTo(0.3);
            Path group = cpuDir.resolve("vm-" + vm.path("id").asText());
            assertThat(readQuietly(group.resolve("cgroup.procs"))).contains(Long.toString(vm.path("pid").asLong()));
            if (cg.path("mode").asText().equals("v1")) {
                assertThat(readQuietly(group.resolve("cpu.cfs_quota_us")).trim()).isEqualTo("30000");
            } else {
                assertThat(readQuietly(group.resolve("cpu.max")).trim()).isEqualTo("30000 100000");
            }
            Cli.Result show = f.cli.run("vm", "show", "lim-own");
            assertThat(show.out()).as(show.toString()).contains("cpuLimit").contains("0.3 cores");
        } finally {
            f.cli.run("vm", "rm", "lim-own", "--force");
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(cpuDir).doesNotExist());
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
