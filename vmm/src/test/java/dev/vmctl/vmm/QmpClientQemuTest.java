package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QMP against a real QEMU. A paused ({@code -S}) microvm needs no kernel: QEMU starts, serves QMP and
 * sits in "prelaunch"; {@code cont} runs the bundled firmware, which is enough for RESUME/STOP.
 */
class QmpClientQemuTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void statusEventsAndQuitOnARealQemu() throws Exception {
        assumeTrue(Cmd.available("qemu-system-x86_64"), "qemu-system-x86_64 not installed");
        Path sock = dir.resolve("qmp.sock");
        VmFiles files = new VmFiles(dir);
        Path log = files.qemuLog();
        // the client under test talks to the socket itself; the process is started like every QEMU, through QemuVm
        List<String> argv = List.of("qemu-system-x86_64",
                "-M", "microvm,x-option-roms=off", "-accel", "tcg", "-m", "64",
                "-nodefaults", "-no-user-config", "-nographic", "-S",
                "-qmp", "unix:" + sock + ",server=on,wait=off");
        QemuVm qemu = QemuVm.launchArgv(argv, files);
        try (QmpClient qmp = QmpClient.connect(sock, T)) {
            LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
            CountDownLatch closed = new CountDownLatch(1);
            qmp.onEvent(events::add);
            qmp.onClose(closed::countDown);

            assertThat(qmp.greeting().path("QMP").path("version").path("qemu").path("major").asInt()).isGreaterThanOrEqualTo(7);
            JsonNode status = qmp.execute("query-status", null, T);
            assertThat(status.path("running").asBoolean()).isFalse();
            assertThat(status.path("status").asText()).isIn("prelaunch", "paused");

            qmp.execute("cont", null, T);
            assertThat(nextEvent(events).path("event").asText()).isEqualTo("RESUME");
            assertThat(qmp.execute("query-status", null, T).path("status").asText()).isEqualTo("running");

            qmp.execute("stop", null, T);
            assertThat(nextEvent(events).path("event").asText()).isEqualTo("STOP");
            assertThat(qmp.execute("query-status", null, T).path("status").asText()).isEqualTo("paused");

            qmp.execute("quit", null, T);
            JsonNode shutdown = nextEvent(events);
            assertThat(shutdown.path("event").asText()).isEqualTo("SHUTDOWN");
            assertThat(shutdown.path("data").path("reason").asText()).isEqualTo("host-qmp-quit");
            assertThat(closed.await(10, TimeUnit.SECONDS)).as("onClose after quit").isTrue();
            assertThat(qmp.isOpen()).isFalse();
            assertThat(qemu.waitExit(java.time.Duration.ofSeconds(10))).as("qemu exits after quit").isTrue();
            assertThat(qemu.exitCode()).isZero();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\nqemu output:\n" + Files.readString(log), e);
        } finally {
            qemu.close();
        }
    }

    private static JsonNode nextEvent(LinkedBlockingQueue<JsonNode> events) throws InterruptedException {
        JsonNode e = events.poll(10, TimeUnit.SECONDS);
        assertThat(e).as("event within 10 s").isNotNull();
        return e;
    }
}
