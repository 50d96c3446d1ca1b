package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The root command: help, version, usage errors, and how failures are printed and mapped to exit codes. */
class VmctlCliTest {
    private final FakeServer server = newServer();

    private static FakeServer newServer() {
        try {
            return new FakeServer();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void helpListsTheCommands() {
        CliRun r = CliRun.run(server.url(), "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: vmctl", "doctor", "image", "vm", "snapshot", "events", "Exit codes:", "VMCTL_URL");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void versionNamesTheProject() {
        CliRun r = CliRun.run(server.url(), "--version");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("vmctl 0.1.0");
    }

    @Test
    void missingSubcommandIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "vm");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required subcommand", "create");
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "vm", "ls", "--bogus");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--bogus'");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void badOutputFormatIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "vm", "ls", "-o", "yaml");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--output", "yaml");
    }

    @Test
    void serverErrorPrintsErrorAndDetailAndExits1() {
        server.json("GET", "/api/v1/vms/nope", 404, "{\"error\":\"vm not found: nope\",\"detail\":\"known vms: web1\"}");
        CliRun r = CliRun.run(server.url(), "vm", "show", "nope");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: vm not found: nope\n  known vms: web1\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void errorWithoutDetailPrintsOneLine() {
        server.json("POST", "/api/v1/vms/web1/stop", 409, "{\"error\":\"stop: vm web1 is STOPPED\",\"detail\":null}");
        CliRun r = CliRun.run(server.url(), "vm", "stop", "web1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: stop: vm web1 is STOPPED\n");
    }

    @Test
    void serverFailureWithoutJsonBodyStillReadable() {
        server.on("GET", "/api/v1/vms", (req, ex) -> FakeServer.reply(ex, 502, "text/plain", "bad gateway"));
        CliRun r = CliRun.run(server.url(), "vm", "ls");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: HTTP 502 from GET /api/v1/vms\n  bad gateway\n");
    }

    @Test
    void unreachableServerExits3WithAHint() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        CliRun r = CliRun.run(url, "vm", "ls");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).isEqualTo("error: cannot reach the vmctl server at " + url + " (start it with ./vmctl serve)\n");
        assertThat(r.err()).doesNotContain("\tat ");
    }

    @Test
    void stackTraceOnlyWithVmctlDebug() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = CliRun.runWithEnv(Map.of("VMCTL_URL", "http://127.0.0.1:" + port, "VMCTL_DEBUG", "1"), "", "vm", "ls");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("error: cannot reach", "\tat ");
    }

    @Test
    void defaultsToLocalhost7070() {
        CliContext ctx = new CliContext(System.in, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), Map.of());
        assertThat(ctx.serverUrl()).isEqualTo("http://127.0.0.1:7070");
    }

    @Test
    void trailingSlashInUrlIsFine() {
        server.json("GET", "/api/v1/vms", 200, "[]");
        CliRun r = CliRun.run(server.url() + "/", "vm", "ls");
        assertThat(r.code()).isZero();
        assertThat(server.requests()).singleElement().extracting(FakeServer.Request::path).isEqualTo("/api/v1/vms");
    }

    @Test
    void badUrlIsReported() {
        CliRun r = CliRun.run("ftp://x", "vm", "ls");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: VMCTL_URL is not a server address: ftp://x");
    }

    @Command(name = "serve", description = "Run the server.")
    static final class Serve implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("serve: port 7070 is in use");
        }
    }

    @Test
    void theAppCanAddServeAndGetsTheSameErrorHandling() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = VmctlCli.commandLine(new PrintWriter(out), new PrintWriter(err), Map.of());
        cl.addSubcommand(new Serve());

        assertThat(cl.execute("serve")).isEqualTo(1);
        assertThat(err.toString()).isEqualTo("error: serve: port 7070 is in use\n");

        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString()).contains("serve", "Run the server.");
    }
}
