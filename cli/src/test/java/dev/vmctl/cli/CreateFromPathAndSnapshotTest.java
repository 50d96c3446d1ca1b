package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.vmctl.cli.Vms.vm;
import static org.assertj.core.api.Assertions.assertThat;

/** vm create --image PATH (imported once, by content) and vm create --snapshot (a clone) against a fake server. */
class CreateFromPathAndSnapshotTest {
    private final FakeServer server;

    CreateFromPathAndSnapshotTest() {
        try {
            server = new FakeServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aDirectoryIsImportedOnceUnderItsContentName(@TempDir Path d) throws IOException {
        Files.write(d.resolve("rootfs.ext4"), new byte[]{1, 2, 3});
        Files.write(d.resolve("vmlinux"), new byte[]{4, 5});
        ImagePath.Resolved r = ImagePath.resolve(d.toString(), null);
        assertThat(r.rootfs()).isEqualTo(d.resolve("rootfs.ext4"));
        assertThat(r.kernel()).isEqualTo(d.resolve("vmlinux"));
        assertThat(r.name()).matches("file-[0-9a-f]{12}");
        // the same contents elsewhere: the same name; another kernel: another image
        Path e = Files.createDirectory(d.resolve("copy"));
        Files.write(e.resolve("rootfs.qcow2"), new byte[]{1, 2, 3});
        assertThat(ImagePath.resolve(e.resolve("rootfs.qcow2").toString(), d.resolve("vmlinux")).name()).isEqualTo(r.name());
        assertThat(ImagePath.resolve(e.resolve("rootfs.qcow2").toString(), null).name()).isNotEqualTo(r.name());

        server.json("GET", "/api/v1/images", 200, "[]");
        server.json("POST", "/api/v1/images/" + r.name() + "/import", 201, "{\"name\":\"" + r.name() + "\"}");
        server.json("POST", "/api/v1/vms", 201, vm("d", "REQUESTED"));
        CliRun run = CliRun.run(server.url(), "vm", "create", "d", "--image", d.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("importing " + d.resolve("rootfs.ext4")).contains("as image " + r.name());
        FakeServer.Request imp = server.requests("POST", "/api/v1/images/" + r.name() + "/import").getFirst();
        assertThat(imp.body()).contains("\"kernel\":\"" + d.resolve("vmlinux") + "\"").contains("\"rootfs\":\"" + d.resolve("rootfs.ext4") + "\"");
        assertThat(server.requests("POST", "/api/v1/vms").getFirst().body()).isEqualTo("{\"name\":\"d\",\"image\":\"" + r.name() + "\"}");

        // imported already: no second import
        server.json("GET", "/api/v1/images", 200, "[{\"name\":\"" + r.name() + "\"}]");
        run = CliRun.run(server.url(), "vm", "create", "d2", "--image", d.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(server.requests("POST", "/api/v1/images/" + r.name() + "/import")).hasSize(1);
        assertThat(server.requests("POST", "/api/v1/vms")).hasSize(2);
    }

    @Test
    void badPathsAreUsageErrors(@TempDir Path d) {
        CliRun r = CliRun.run(server.url(), "vm", "create", "d", "--image", d.resolve("missing.qcow2").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--image").contains("no such file or directory");
        r = CliRun.run(server.url(), "vm", "create", "d", "--image", d.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("holds no root file system").contains("rootfs.qcow2");
        r = CliRun.run(server.url(), "vm", "create", "d", "--image", "tiny", "--kernel", "/boot/vmlinuz");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--kernel goes with --image PATH");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void createFromASnapshotIsACloneOfIt() {
        server.json("POST", "/api/v1/snapshots/web1-warm/clone", 201, "[" + vm("c1", "REQUESTED") + "]");
        CliRun r = CliRun.run(server.url(), "vm", "create", "c1", "--snapshot", "web1-warm", "--nic", "net=front");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(server.requests().getFirst().body()).isEqualTo("{\"count\":1,\"name\":\"c1\",\"network\":\"front\",\"start\":false}");
        assertThat(r.out()).startsWith("created vm c1 (id id-c1) from snapshot web1-warm");

        r = CliRun.run(server.url(), "vm", "create", "c2", "--snapshot", "web1-warm", "--memory", "1G", "--disk", "4G");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("cannot go with --memory, --disk");
        r = CliRun.run(server.url(), "vm", "create", "c2", "--snapshot", "web1-warm", "--nic", "net=a", "--nic", "net=b");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("one network");
        assertThat(server.requests()).hasSize(1);
    }
}
