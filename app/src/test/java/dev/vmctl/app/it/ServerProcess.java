package dev.vmctl.app.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real vmctl server: the shaded jar started as its own process (`java -jar vmctl.jar serve`), exactly
 * as a user starts it, with its own data directory and a free port.
 */
final class ServerProcess implements AutoCloseable {
    static final Path JAR = Path.of(System.getProperty("vmctl.jar", "target/vmctl.jar")).toAbsolutePath();
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    final Path dataDir;
    final int port;
    private Process process;
    private final Path log;
    private final List<String> jvmArgs;
    private final List<String> serveArgs;

    ServerProcess(Path dataDir) throws IOException {
        this(dataDir, List.of());
    }

    /** With extra JVM options (system properties such as -Dvmctl.vpn.netns=…). */
    ServerProcess(Path dataDir, List<String> jvmArgs) throws IOException {
        this(dataDir, jvmArgs, List.of());
    }

    /** With extra JVM options and extra options of {@code vmctl serve} (such as --memory-reserve). */
    ServerProcess(Path dataDir, List<String> jvmArgs, List<String> serveArgs) throws IOException {
        this.dataDir = dataDir;
        this.jvmArgs = List.copyOf(jvmArgs);
        this.serveArgs = List.copyOf(serveArgs);
        try (ServerSocket s = new ServerSocket(0)) {
            this.port = s.getLocalPort();
        }
        Files.createDirectories(dataDir);
        Path logs = Path.of("target", "it-logs").toAbsolutePath();
        Files.createDirectories(logs);
        this.log = logs.resolve(dataDir.getFileName() + "-server.log");
    }

    String url() { return "http://127.0.0.1:" + port; }

    /** The admin's token: DATA/admin.token, written by the server before it answers. */
    String token() { return readToken(dataDir); }

    static String readToken(Path dataDir) {
        try {
            return Files.readString(dataDir.resolve("admin.token")).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("read the admin token of " + dataDir + ": " + e.getMessage(), e);
        }
    }

    long pid() { return process.pid(); }

    ServerProcess start() throws Exception {
        List<String> argv = new ArrayList<>(List.of(JAVA.toString(), "--enable-native-access=ALL-UNNAMED"));
        argv.addAll(jvmArgs);
        argv.addAll(List.of("-jar", JAR.toString(), "serve", "--data-dir", dataDir.toString(), "--port", Integer.toString(port)));
        argv.addAll(serveArgs);
        process = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Process started = process;
        // a test JVM that dies must not leave its server behind (its VMs are then removed by the fixture or the next reconcile)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> started.destroyForcibly()));
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("server exited: " + Files.readString(log));
            try {
                if (!Files.exists(dataDir.resolve("admin.token"))) throw new IOException("no admin.token yet");
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url() + "/api/v1/vms"))
                                .header("Authorization", "Bearer " + token()).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return this;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("server did not answer within 60 s: " + Files.readString(log));
    }

    /** kill -9: the server gets no chance to clean up. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
    }
}
