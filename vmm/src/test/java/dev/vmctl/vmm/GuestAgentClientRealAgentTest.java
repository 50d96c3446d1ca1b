package dev.vmctl.vmm;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.ExecResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The client against a real qemu-guest-agent, run on the host in {@code unix-listen} mode (same JSON
 * protocol as over virtio-serial) with every RPC blocked except ping/sync/info/exec/file ones, so it
 * cannot touch the host's clock, power state or file systems. Skipped when qemu-ga is not installed.
 */
class GuestAgentClientRealAgentTest {
    private static final Set<String> ALLOWED = Set.of("guest-sync-delimited", "guest-sync", "guest-ping", "guest-info",
            "guest-exec", "guest-exec-status", "guest-file-open", "guest-file-close", "guest-file-read", "guest-file-write");
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private Process agent;
    private GuestAgentClient qga;

    @BeforeEach
    void startAgent() throws Exception {
        assumeTrue(Cmd.available("qemu-ga"), "qemu-ga not installed");
        CmdResult rpcs = Cmd.run("qemu-ga", "-b", "help");
        String blocked = Arrays.stream((rpcs.stdout() + "\n" + rpcs.stderr()).split("\\s+"))
                .filter(s -> s.startsWith("guest-") && !ALLOWED.contains(s))
                .collect(Collectors.joining(","));
        assumeTrue(blocked.contains("guest-shutdown") && blocked.contains("guest-set-time"), "cannot list qemu-ga RPCs to block");
        Path sock = dir.resolve("qga.sock");
        agent = new ProcessBuilder("qemu-ga", "-m", "unix-listen", "-p", sock.toString(), "-t", dir.toString(),
                "-f", dir.resolve("qga.pid").toString(), "-l", dir.resolve("qga.log").toString(), "-b", blocked)
                .redirectErrorStream(true).redirectOutput(dir.resolve("qga.out").toFile()).start();
        qga = GuestAgentClient.connect(sock, T);
        assertThat(qga.ping(T)).as("agent answers").isTrue();
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (qga != null) qga.close();
        if (agent != null) {
            ProcessHandle.of(agent.pid()).ifPresent(ProcessHandle::destroyForcibly);
            agent.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void execCapturesExitCodeOutputAndStdin() {
        ExecResult r = qga.exec(List.of("sh", "-c", "printf out; printf 'err\\n' >&2; exit 3"), null, T);
        assertThat(r).extracting(ExecResult::exitCode, ExecResult::stdout, ExecResult::stderr, ExecResult::timedOut)
                .containsExactly(3, "out", "err\n", false);

        ExecResult cat = qga.exec(List.of("cat"), "hello\nwörld\n".getBytes(StandardCharsets.UTF_8), T);
        assertThat(cat.exitCode()).isZero();
        assertThat(cat.stdout()).isEqualTo("hello\nwörld\n");

        assertThat(qga.exec(List.of("sh", "-c", "kill -9 $$"), null, T).exitCode()).isEqualTo(137);

        assertThatThrownBy(() -> qga.exec(List.of("no-such-program-vmctl"), null, T))
                .isInstanceOfSatisfying(GuestAgentException.class, e -> {
                    assertThat(e.reason()).isEqualTo(GuestAgentException.Reason.ERROR_REPLY);
                    assertThat(e.getMessage()).startsWith("guest-agent guest-exec: ").contains("no-such-program-vmctl");
                });
    }

    @Test
    void execTimeoutKillsTheProcess() throws Exception {
        String marker = "37.4" + new Random().nextInt(1000);
        ExecResult r = qga.exec(List.of("sleep", marker), null, Duration.ofMillis(300));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.exitCode()).isEqualTo(-1);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (sleeperAlive(marker) && System.nanoTime() < until) Thread.sleep(20);
        assertThat(sleeperAlive(marker)).as("sleep " + marker + " killed").isFalse();
        // the connection is still good afterwards
        assertThat(qga.exec(List.of("true"), null, T).exitCode()).isZero();
    }

    private static boolean sleeperAlive(String marker) {
        return ProcessHandle.allProcesses().anyMatch(p -> p.isAlive()
                && p.info().arguments().map(a -> Arrays.asList(a).contains(marker)).orElse(false));
    }

    @Test
    void filesRoundTrip() throws Exception {
        byte[] data = new byte[(5 << 20) / 2 + 3];
        new Random(7).nextBytes(data);
        Path file = dir.resolve("blob.bin");
        qga.writeFile(file.toString(), data);
        assertThat(Files.readAllBytes(file)).isEqualTo(data);
        assertThat(qga.readFile(file.toString())).isEqualTo(data);

        qga.writeFile(file.toString(), new byte[0]);
        assertThat(Files.size(file)).isZero();
        assertThat(qga.readFile(file.toString())).isEmpty();

        assertThatThrownBy(() -> qga.readFile(dir.resolve("missing").toString()))
                .isInstanceOfSatisfying(GuestAgentException.class, e ->
                        assertThat(e.getMessage()).startsWith("guest-agent guest-file-open: failed to open file"));
    }

    @Test
    void blockedCommandIsAnErrorReplyAndStaleRequestsAreSkipped() throws Exception {
        // harmless even if it were not blocked: it sets the clock to now
        assertThatThrownBy(() -> qga.setTime(System.currentTimeMillis() * 1_000_000L))
                .isInstanceOfSatisfying(GuestAgentException.class, e -> {
                    assertThat(e.errorClass()).isEqualTo("CommandNotFound");
                    assertThat(e.getMessage()).isEqualTo("guest-agent guest-set-time: Command guest-set-time has been disabled");
                });
        assertThat(qga.execute("guest-info", null, T).path("version").asText()).isNotEmpty();
        assertThat(qga.ping(T)).isTrue();
    }
}
