package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Procs;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One real vmctl server (own process, own data directory, the `tiny` image built once) shared by the
 * end-to-end test classes, so that the suite boots each VM it needs and no more. Closed after the last
 * test: every VM is destroyed through the API and the test checks that no QEMU process of this data
 * directory is left; any that is (a bug) is killed by its PID.
 */
final class Fixture implements AutoCloseable, BeforeAllCallback, ParameterResolver {
    final Path dataDir;
    final ServerProcess server;
    final Api api;
    final Cli cli;

    /** Used by JUnit as the extension instance; the real fixture lives in the root store. */
    Fixture() {
        this.dataDir = null;
        this.server = null;
        this.api = null;
        this.cli = null;
    }

    private Fixture(Path dataDir, List<String> jvmArgs, List<String> serveArgs) throws Exception {
        this.dataDir = dataDir;
        this.server = new ServerProcess(dataDir, jvmArgs, serveArgs).start();
        this.api = new Api(server.url(), dataDir);
        this.cli = new Cli(server.url(), dataDir);
    }

    static Fixture create(String prefix) throws Exception {
        return create(prefix, List.of());
    }

    /** A fixture whose server gets extra JVM options (system properties). */
    static Fixture create(String prefix, List<String> jvmArgs) throws Exception {
        return create(prefix, jvmArgs, List.of());
    }

    /** A fixture whose server gets extra JVM options and extra {@code vmctl serve} options. */
    static Fixture create(String prefix, List<String> jvmArgs, List<String> serveArgs) throws Exception {
        Fixture f = new Fixture(Files.createTempDirectory(prefix), jvmArgs, serveArgs);
        try {
            f.buildImage();
        } catch (RuntimeException | Error e) {
            f.close();
            throw e;
        }
        return f;
    }

    void buildImage() {
        // the first build on a machine compiles the vmctl kernel (minutes); later ones reuse the cache
        String kernel = System.getProperty("vmctl.it.kernel", "vmctl");
        Api.Response r = api.send("POST", "/api/v1/images/tiny/build?kernel=" + kernel, null, java.time.Duration.ofMinutes(30));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Override
    public void beforeAll(ExtensionContext ctx) {
        shared(ctx);
    }

    static Fixture shared(ExtensionContext ctx) {
        return ctx.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .computeIfAbsent("vmctl-fixture", k -> {
                    try {
                        return create("vmctl-it-");
                    } catch (Exception e) {
                        throw new IllegalStateException("start the shared vmctl server: " + e.getMessage(), e);
                    }
                }, Fixture.class);
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == Fixture.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return shared(e);
    }

    /** The admin's token (DATA/admin.token). */
    String token() {
        return server.token();
    }

    /** QEMU processes whose argv names this data directory (vmctl's tag for its own VMs). */
    List<Long> qemuProcesses() {
        List<Long> out = new java.util.ArrayList<>(Procs.findByArgs("qemu-system-x86_64", dataDir.resolve("vms").toString() + "/"));
        out.addAll(Procs.findByArgs("qemu-system-x86_64", dataDir.resolve("probe").toString() + "/")); // the KVM probe's
        return out;
    }

    /** Creates and starts a VM through the API and waits until it is RUNNING. */
    JsonNode runningVm(String name) {
        Api.Response r = api.post("/api/v1/vms?wait=true", java.util.Map.of("name", name, "image", "tiny", "start", true));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("state").asText()).as(r.body()).isEqualTo("RUNNING");
        return r.json();
    }

    void destroyQuietly(String name) {
        api.delete("/api/v1/vms/" + name + "?force=true");
    }

    @Override
    public void close() throws Exception {
        if (server == null) return;
        try {
            // remove through the API what the tests left: segments (with what is in them), topologies, VMs, routers, networks
            for (String kind : List.of("segments", "topologies", "vms", "routers", "networks")) {
                Api.Response list = api.get("/api/v1/" + kind);
                if (list.status() != 200) continue;
                for (JsonNode x : list.json()) {
                    String key = kind.equals("vms") ? x.path("id").asText() : x.path("name").asText();
                    api.delete("/api/v1/" + kind + "/" + key + (kind.equals("vms") ? "?force=true" : ""));
                }
            }
            server.close();
            List<Long> left = qemuProcesses();
            for (long pid : left) Procs.terminate(pid, Duration.ofSeconds(2));
            // the server's namespaces (fabric, routers, segments and their pool) are named after its data directory
            String fabric = dev.vmctl.engine.LinuxHostNet.fabricName(dataDir);
            List<String> namespaces = dev.vmctl.net.Netns.list(fabric);
            for (String ns : namespaces) dev.vmctl.host.Cmd.run("ip", "netns", "del", ns);
            assertThat(left).as("qemu processes left after destroying every VM").isEmpty();
            assertThat(namespaces).as("network namespaces left after removing everything").isEmpty();
            assertThat(Path.of("/dev/shm", fabric)).as("tmpfs folder of RAM files left after removing everything").doesNotExist();
        } finally {
            deleteTree(dataDir);
        }
    }

    static void deleteTree(Path p) throws Exception {
        if (p == null || !Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }
}
