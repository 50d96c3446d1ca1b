package dev.vmctl.snapshot;

import dev.vmctl.model.ExecResult;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.QmpClient;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One QEMU started by a test from a {@link QemuCommand.Spec}: this JVM's child (in a network namespace
 * through {@code ip netns exec}, which execs QEMU under the same PID), killed by its own handle in
 * {@link #close()}.
 */
final class TestVm implements AutoCloseable {
    final QemuCommand.Spec spec;
    final QemuVm vm;
    final long startNanos;
    final QmpClient qmp;
    GuestAgentClient agent;

    private TestVm(QemuCommand.Spec spec, QemuVm vm, long startNanos) {
        this.spec = spec;
        this.vm = vm;
        this.startNanos = startNanos;
        this.qmp = vm.qmp();
    }

    /** Starts QEMU and connects QMP; {@code extraArgs} are appended to the argv (e.g. a disk). */
    static TestVm start(QemuCommand.Spec spec, String netns, List<String> extraArgs) throws IOException {
        Files.createDirectories(spec.files().dir());
        for (Path p : List.of(spec.files().qmpSocket(), spec.files().agentSocket(), spec.files().pidFile())) Files.deleteIfExists(p);
        List<String> prefix = netns == null ? List.of() : List.of("ip", "netns", "exec", netns);
        long t0 = System.nanoTime();
        QemuVm vm = QemuVm.launch(prefix, spec, extraArgs == null ? List.of() : extraArgs);
        try {
            vm.connectQmp(Duration.ofSeconds(15));
        } catch (RuntimeException e) {
            vm.close();
            throw new IllegalStateException("qemu " + spec.id() + ": " + e.getMessage() + "\n" + log(spec), e);
        }
        return new TestVm(spec, vm, t0);
    }

    /** Waits until the guest agent answers; returns the client. */
    GuestAgentClient waitForAgent(Duration timeout) {
        try {
            agent = vm.awaitAgent(timeout, () -> false);
            return agent;
        } catch (RuntimeException e) {
            throw new IllegalStateException("qemu " + spec.id() + ": " + e.getMessage() + "\n" + log(spec), e);
        }
    }

    /** Runs argv in the guest and returns stdout; fails on a non-zero exit. */
    String sh(String script) {
        ExecResult r = agent.exec(List.of("/bin/sh", "-c", script), null, Duration.ofSeconds(20));
        if (r.exitCode() != 0) throw new AssertionError("guest " + spec.id() + ": sh -c '" + script + "' exited " + r.exitCode() + ": " + r.stderr());
        return r.stdout();
    }

    ExecResult exec(List<String> argv) {
        return agent.exec(argv, null, Duration.ofSeconds(20));
    }

    long pid() {
        return vm.pid();
    }

    /** Waits until QEMU has exited by itself. */
    boolean waitExit(Duration d) {
        return vm.waitExit(d);
    }

    /** Proportional set size of the QEMU process (KiB), from /proc/PID/smaps_rollup. */
    long pssKb() throws IOException {
        return rollup("Pss:");
    }

    long rssKb() throws IOException {
        return rollup("Rss:");
    }

    private long rollup(String key) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "smaps_rollup"))) {
            if (l.startsWith(key)) return Long.parseLong(l.substring(key.length()).strip().split("\\s+")[0]);
        }
        throw new IOException(key + " not in smaps_rollup");
    }

    static String log(QemuCommand.Spec spec) {
        StringBuilder sb = new StringBuilder();
        for (Path p : List.of(spec.files().qemuLog(), spec.files().console())) {
            try {
                String s = Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "(none)";
                sb.append("--- ").append(p.getFileName()).append(":\n").append(s.length() > 3000 ? "…" + s.substring(s.length() - 3000) : s).append('\n');
            } catch (IOException e) {
                sb.append("--- ").append(p.getFileName()).append(": ").append(e.getMessage()).append('\n');
            }
        }
        return sb.toString();
    }

    /** Kills QEMU (its own handle, never by name) and closes the clients; idempotent. */
    @Override
    public void close() {
        vm.close();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
