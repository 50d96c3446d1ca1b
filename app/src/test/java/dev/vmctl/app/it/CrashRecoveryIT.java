package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Procs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the server, QEMU killed from outside, leftovers from a crash: the server re-attaches to
 * running VMs, marks dead ones as ERROR with a reason, and removes what the database does not know.
 * Uses its own server and data directory because it kills the server.
 */
class CrashRecoveryIT {
    static Fixture f;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-crash-");
    }

    @AfterAll
    static void down() throws Exception {
        if (f != null) f.close();
    }

    @Test
    void serverKill9ReattachesAndQemuDeathIsAnError() throws Exception {
        JsonNode vm = f.runningVm("survivor");
        long qemuPid = vm.path("pid").asLong();
        f.runningVm("dies-while-down");
        long doomedPid = f.api.get("/api/v1/vms/dies-while-down").json().path("pid").asLong();
        f.api.post("/api/v1/vms/survivor/exec", Map.of("argv", List.of("sh", "-c", "echo before > /tmp/state")));

        String kernel = f.api.get("/api/v1/images").json().get(0).path("kernel").asText();
        f.server.kill9();
        assertThat(ProcessHandle.of(qemuPid).map(ProcessHandle::isAlive)).as("VM outlives the server").contains(true);

        // while the server is down: one VM's QEMU dies, and leftovers of an unknown VM appear
        Procs.terminate(doomedPid, Duration.ofSeconds(5));
        Path orphanDir = f.dataDir.resolve("vms").resolve("0000deadbeef");
        Files.createDirectories(orphanDir);
        Files.writeString(orphanDir.resolve("console.log"), "left over\n");
        Process orphan = startOrphanQemu(orphanDir, kernel);
        try {
            f.server.start();
            // re-attached: same process, still answers exec, its state is intact
            JsonNode again = f.api.get("/api/v1/vms/survivor").json();
            assertThat(again.path("state").asText()).isEqualTo("RUNNING");
            assertThat(again.path("pid").asLong()).isEqualTo(qemuPid);
            Api.Response ex = f.api.post("/api/v1/vms/survivor/exec", Map.of("argv", List.of("cat", "/tmp/state")));
            assertThat(ex.status()).as(ex.body()).isEqualTo(200);
            assertThat(ex.json().path("stdout").asText()).isEqualTo("before\n");

            // the VM whose QEMU died while the server was down is ERROR with a reason
            JsonNode dead = f.api.get("/api/v1/vms/dies-while-down").json();
            assertThat(dead.path("state").asText()).isEqualTo("ERROR");
            assertThat(dead.path("error").asText()).contains("exited while the server was down");
            assertThat(dead.path("pid").isNull()).isTrue();

            // what the database does not know is gone: the folder and the tagged QEMU process
            assertThat(Files.exists(orphanDir)).isFalse();
            assertThat(orphan.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("orphan qemu killed").isTrue();

            // QEMU killed from outside while the server runs → ERROR, with an event
            try (Sse sse = new Sse(f.server.url(), f.token())) {
                Procs.terminate(qemuPid, Duration.ofSeconds(5));
                JsonNode ev = sse.await(Sse.state("survivor", "ERROR"), Duration.ofSeconds(30));
                assertThat(ev.path("from").asText()).isEqualTo("RUNNING");
                assertThat(ev.path("message").asText()).contains("exited unexpectedly");
            }
            JsonNode err = f.api.get("/api/v1/vms/survivor").json();
            assertThat(err.path("state").asText()).isEqualTo("ERROR");
            assertThat(err.path("error").asText()).contains("qemu process " + qemuPid);

            // an ERROR VM can be started again
            Api.Response restart = f.api.post("/api/v1/vms/survivor/start?wait=true", null);
            assertThat(restart.json().path("state").asText()).as(restart.body()).isEqualTo("RUNNING");
            assertThat(restart.json().path("error").isNull()).isTrue();

            // after rm: no process, socket or file of either VM
            for (String n : List.of("survivor", "dies-while-down")) {
                String id = f.api.get("/api/v1/vms/" + n).json().path("id").asText();
                assertThat(f.api.delete("/api/v1/vms/" + n + "?force=true").status()).isEqualTo(200);
                assertThat(Files.exists(f.dataDir.resolve("vms").resolve(id))).isFalse();
            }
            assertThat(f.qemuProcesses()).isEmpty();
        } finally {
            if (orphan.isAlive()) orphan.destroyForcibly();
        }
    }

    @Test
    void kill9DuringAnOperationFailsItAndLeavesTheVmConsistent() throws Exception {
        Api.Response created = f.api.post("/api/v1/vms", Map.of("name", "mid-boot", "image", "tiny", "start", true));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String op = created.operation();
        assertThat(f.api.get("/api/v1/operations/" + op).json().path("state").asText()).isIn("queued", "running");
        f.server.kill9();
        f.server.start();
        JsonNode after = f.api.get("/api/v1/operations/" + op).json();
        assertThat(after.path("state").asText()).as(after.toString()).isEqualTo("failed");
        assertThat(after.path("error").asText()).contains("server restarted");
        // the VM's boot was taken up again by the restarted server (its QEMU outlived the server), or it is ERROR
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode vm;
        while (true) {
            vm = f.api.get("/api/v1/vms/mid-boot").json();
            String s = vm.path("state").asText();
            if (s.equals("RUNNING") || s.equals("ERROR")) break;
            assertThat(System.nanoTime() - deadline).as("vm still " + s).isNegative();
            Thread.sleep(100);
        }
        if (vm.path("state").asText().equals("RUNNING")) {
            assertThat(f.api.post("/api/v1/vms/mid-boot/exec", Map.of("argv", List.of("true"))).status()).isEqualTo(200);
            assertThat(f.qemuProcesses()).contains(vm.path("pid").asLong());
        } else {
            assertThat(vm.path("pid").isNull()).isTrue();
        }
        assertThat(f.api.delete("/api/v1/vms/mid-boot?force=true").status()).isEqualTo(200);
        assertThat(f.qemuProcesses()).isEmpty();
    }

    /** A QEMU process tagged like one of ours (argv names the vms folder) that no database row knows. */
    private static Process startOrphanQemu(Path dir, String kernel) throws Exception {
        return new ProcessBuilder("qemu-system-x86_64", "-name", "vmctl-0000deadbeef", "-machine", "microvm", "-accel", "tcg",
                "-nodefaults", "-no-user-config", "-display", "none", "-S", "-m", "64M", "-kernel", kernel,
                "-pidfile", dir.resolve("qemu.pid").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }
}
