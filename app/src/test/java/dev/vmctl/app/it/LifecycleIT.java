package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole life of one VM through the CLI, as the quick start runs it, on real QEMU. */
@ExtendWith(Fixture.class)
class LifecycleIT {

    @Test
    void createExecConsoleStopStartRebootRemove(Fixture f) throws Exception {
        Cli cli = f.cli;
        Cli.Result r = cli.run("vm", "create", "web1", "--image", "tiny", "--cpus", "1", "--memory", "128M", "--start", "--wait");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("RUNNING");

        r = cli.run("vm", "show", "web1", "-o", "json");
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode vm = Api.JSON.readTree(r.out());
        assertThat(vm.path("name").asText()).isEqualTo("web1");
        assertThat(vm.path("state").asText()).isEqualTo("RUNNING");
        assertThat(vm.path("image").asText()).isEqualTo("tiny");
        assertThat(vm.path("cpus").asInt()).isEqualTo(1);
        assertThat(vm.path("memoryMiB").asInt()).isEqualTo(128);
        assertThat(vm.has("id") && vm.has("createdAt") && vm.has("error")).isTrue();
        assertThat(vm.path("error").isNull()).isTrue();
        String id = vm.path("id").asText();
        long pid = vm.path("pid").asLong();
        assertThat(f.qemuProcesses()).contains(pid);

        r = cli.run("vm", "ls");
        assertThat(r.out()).contains("web1").contains("RUNNING");

        // exec: the guest's output, its exit code; the kernel is the image's
        String kernel = f.api.get("/api/v1/images").json().get(0).path("kernelVersion").asText();
        r = cli.run("vm", "exec", "web1", "--", "uname", "-r");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out().trim()).isEqualTo(kernel);
        r = cli.run("vm", "exec", "web1", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7");
        assertThat(r.code()).isEqualTo(7);
        assertThat(r.out()).isEqualTo("to-out\n");
        assertThat(r.err()).contains("to-err");
        r = cli.run("vm", "exec", "web1", "--", "hostname");
        assertThat(r.out().trim()).isEqualTo("web1");

        // the guest writes a file; it is readable back through exec
        r = cli.run("vm", "exec", "web1", "--", "sh", "-c", "echo hello > /tmp/f && cat /tmp/f");
        assertThat(r.out()).isEqualTo("hello\n");

        // files in and out through the agent, byte for byte
        byte[] blob = new byte[300_000];
        new java.util.Random(42).nextBytes(blob);
        Path local = Files.createTempFile("vmctl-cp-", ".bin");
        Path back = Files.createTempFile("vmctl-cp-back-", ".bin");
        try {
            Files.write(local, blob);
            r = cli.run("vm", "cp", local.toString(), "web1:/tmp/blob.bin");
            assertThat(r.code()).as(r.toString()).isZero();
            r = cli.run("vm", "exec", "web1", "--", "md5sum", "/tmp/blob.bin");
            String md5 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(blob));
            assertThat(r.out()).startsWith(md5);
            r = cli.run("vm", "cp", "web1:/tmp/blob.bin", back.toString());
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(Files.readAllBytes(back)).isEqualTo(blob);
            r = cli.run("vm", "cp", local.toString(), "web1:relative/path");
            assertThat(r.code()).isNotZero();
            assertThat(r.err()).contains("path");
            r = cli.run("vm", "cp", "web1:/no/such/file", back.toString());
            assertThat(r.code()).isNotZero();
            // a read is capped like a write: /dev/zero is refused once past the limit, the server stays light
            r = cli.run("vm", "cp", "web1:/dev/zero", back.toString());
            assertThat(r.code()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains("/dev/zero is a character special file, not a regular file");
        } finally {
            Files.deleteIfExists(local);
            Files.deleteIfExists(back);
        }

        r = cli.run("vm", "console", "web1", "--tail", "50");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("VMCTL_READY");
        // a clean console: vmctl's kernel says nothing alarming on a normal boot (it used to print 'PCI: Fatal: …')
        if (!"debian".equals(System.getProperty("vmctl.it.kernel"))) {
            assertThat(r.out()).doesNotContain("Fatal").doesNotContain("error").doesNotContain("Error");
        }

        r = cli.run("vm", "stop", "web1");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(state(f, "web1")).isEqualTo("STOPPED");
        assertThat(f.qemuProcesses()).doesNotContain(pid);
        assertThat(f.api.get("/api/v1/vms/web1").json().path("pid").isNull()).isTrue();

        r = cli.run("vm", "start", "web1");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(state(f, "web1")).isEqualTo("RUNNING");
        r = cli.run("vm", "exec", "web1", "--", "cat", "/proc/uptime");
        assertThat(r.code()).isZero();

        // reboot: a fresh guest (uptime starts again, /tmp is empty) under the same QEMU process
        long pidBefore = f.api.get("/api/v1/vms/web1").json().path("pid").asLong();
        cli.run("vm", "exec", "web1", "--", "sh", "-c", "echo mark > /tmp/mark");
        r = cli.run("vm", "reboot", "web1");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(state(f, "web1")).isEqualTo("RUNNING");
        r = cli.run("vm", "exec", "web1", "--", "sh", "-c", "test -e /tmp/mark && echo still-there || echo gone");
        assertThat(r.out().trim()).isEqualTo("gone");
        assertThat(f.api.get("/api/v1/vms/web1").json().path("pid").asLong()).isEqualTo(pidBefore);

        // rm refuses a running VM without --force, and changes nothing
        r = cli.run("vm", "rm", "web1");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("RUNNING").contains("force");
        assertThat(state(f, "web1")).isEqualTo("RUNNING");

        r = cli.run("vm", "rm", "web1", "--force");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(f.api.get("/api/v1/vms/web1").status()).isEqualTo(404);
        assertThat(f.qemuProcesses()).doesNotContain(pidBefore);
        Path vmDir = f.dataDir.resolve("vms").resolve(id);
        assertThat(Files.exists(vmDir)).as("vm folder %s", vmDir).isFalse();
    }

    @Test
    void rmOfAStoppedVmNeedsNoForce(Fixture f) {
        f.runningVm("stopme");
        Cli.Result r = f.cli.run("vm", "stop", "stopme");
        assertThat(r.code()).as(r.toString()).isZero();
        r = f.cli.run("vm", "rm", "stopme");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(f.api.get("/api/v1/vms/stopme").status()).isEqualTo(404);
    }

    private static String state(Fixture f, String name) {
        return f.api.get("/api/v1/vms/" + name).json().path("state").asText();
    }
}
