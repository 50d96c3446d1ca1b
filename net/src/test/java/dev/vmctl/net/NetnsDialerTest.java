package dev.vmctl.net;

import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Sockets made inside another namespace: an HTTP server listening on 127.0.0.1 inside a test namespace answers through
 * the dialer and is not reachable from the test's own namespace; the dialer thread comes back home (a later socket of
 * the host's own namespace still works); bad names are refused before anything happens.
 */
class NetnsDialerTest {
    @BeforeAll
    static void requirements() {
        NsHarness.requireRoot();
        assumeTrue(NetnsDialer.available(), "needs setns through Java's foreign function API (--enable-native-access)");
        assumeTrue(Cmd.available("busybox"), "needs busybox (its httpd serves inside the test namespace)");
    }

    @Test
    void connectsInsideTheNamespaceOnly() throws Exception {
        String ns = "vmctl-t-" + NsHarness.hex(3) + "-dial";
        Path www = Files.createTempDirectory("vmctl-dial-");
        Process httpd = null;
        try (NetnsDialer d = new NetnsDialer()) {
            Netns.of(ns).ensure();
            Cmd.check("ip", "-n", ns, "link", "set", "lo", "up");
            Files.writeString(www.resolve("index.html"), "inside\n");
            int port = 18000 + (int) (ProcessHandle.current().pid() % 1000);
            httpd = new ProcessBuilder("ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", www.toString())
                    .redirectErrorStream(true).start();
            String answer = null;
            for (int i = 0; i < 100 && answer == null; i++) {
                try (SocketChannel ch = d.connect(ns, "127.0.0.1", port, Duration.ofSeconds(1))) {
                    Socket s = ch.socket();
                    s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (ConnectException e) {
                    Thread.sleep(50); // httpd not listening yet
                }
            }
            assertThat(answer).startsWith("HTTP/1.").contains("inside");
            // the host's own 127.0.0.1 has no such server: the socket above was the namespace's
            try (Socket s = new Socket()) {
                assertThatThrownBy(() -> s.connect(new InetSocketAddress("127.0.0.1", port), 500)).isInstanceOf(IOException.class);
            }
            // the dialer's thread is back home: every thread of this process is in the process's own namespace
            String home = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
            try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path t : tasks.toList()) {
                    try {
                        assertThat(Files.readSymbolicLink(t.resolve("ns/net")).toString()).as("thread " + t.getFileName()).isEqualTo(home);
                    } catch (java.nio.file.NoSuchFileException ended) {
                        // a thread that ended meanwhile
                    }
                }
            }
            assertThatThrownBy(() -> d.open("vmctl-t-nosuch")).isInstanceOf(IOException.class).hasMessageContaining("does not exist");
            assertThatThrownBy(() -> d.open("../etc")).hasMessageContaining("namespace");
        } finally {
            if (httpd != null) {
                httpd.destroy();
                httpd.waitFor();
            }
            Cmd.run("ip", "netns", "delete", ns);
            Files.deleteIfExists(www.resolve("index.html"));
            Files.deleteIfExists(www);
        }
    }
}
