package dev.vmctl.app.it;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One server per data directory, end to end: while a server runs on a directory, a second {@code vmctl serve} on it
 * exits by itself (exit 1) naming the first one's PID, and the first keeps serving; once the first has stopped, a
 * server starts on the directory again.
 */
class ServerLockIT {
    @Test
    void aSecondServerOnTheSameDataDirExitsNamingTheFirstOnesPid() throws Exception {
        Path dir = Files.createTempDirectory("vmctl-lock-");
        try {
            try (ServerProcess first = new ServerProcess(dir).start()) {
                Process second = new ProcessBuilder(ServerProcess.JAVA.toString(), "--enable-native-access=ALL-UNNAMED", "-jar",
                        ServerProcess.JAR.toString(), "serve", "--data-dir", dir.toString(), "--port", "0").redirectErrorStream(true).start();
                boolean exited = second.waitFor(2, TimeUnit.MINUTES); // a safety net against a hang, not a speed check
                if (!exited) second.destroyForcibly();
                String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(exited).as("the second server hangs instead of exiting: " + out).isTrue();
                assertThat(second.exitValue()).as(out).isEqualTo(1);
                assertThat(out).contains("data directory " + dir.toAbsolutePath().normalize() + " is in use by another vmctl server (pid "
                        + first.pid() + ")");
                assertThat(new Api(first.url(), dir).get("/api/v1/vms").status()).as("the first server still answers").isEqualTo(200);
            }
            try (ServerProcess again = new ServerProcess(dir).start()) {
                assertThat(Files.readString(dir.resolve("server.lock")).strip()).isEqualTo(Long.toString(again.pid()));
            }
        } finally {
            Fixture.deleteTree(dir);
            String fabric = dev.vmctl.engine.LinuxHostNet.fabricName(dir);
            for (String ns : dev.vmctl.net.Netns.list(fabric)) dev.vmctl.host.Cmd.run("ip", "netns", "del", ns);
        }
    }
}
