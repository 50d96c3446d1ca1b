package dev.vmctl.vmm;

import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class QemuConfinementTest {
    @TempDir
    Path tmp;

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    @Test
    void theSandboxIsTheFullFilterAndTheUserIsSetBeforeQemuStarts() {
        QemuConfinement c = new QemuConfinement(true, "vmctl-qemu", 999, 995, "");
        assertThat(c.extraArgs()).containsExactly("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        assertThat(c.prefix()).containsExactly("setpriv", "--reuid=999", "--regid=995", "--init-groups", "--inh-caps=-all");
        assertThat(c.mode()).isEqualTo("seccomp+user");
        QemuConfinement off = QemuConfinement.none("turned off");
        assertThat(off.extraArgs()).isEmpty();
        assertThat(off.prefix()).isEmpty();
        assertThat(off.mode()).isEqualTo("none");
        assertThat(new QemuConfinement(true, null, -1, -1, "").mode()).isEqualTo("seccomp");
    }

    @Test
    void turnedOffDetectsNothing() {
        QemuConfinement c = QemuConfinement.detect(false, QemuConfinement.DEFAULT_USER);
        assertThat(c.mode()).isEqualTo("none");
        assertThat(c.detail()).contains("--no-sandbox");
    }

    @Test
    void aMissingUserIsSaidAndTheFilterStillApplies() {
        assumeTrue(root() && Cmd.available(QemuCommand.QEMU));
        QemuConfinement c = QemuConfinement.detect(true, "vmctl-no-such-user");
        assertThat(c.user()).isNull();
        assertThat(c.sandbox()).isTrue();
        assertThat(c.detail()).contains("no user vmctl-no-such-user");
    }

    /** A real QEMU started the way the engine starts it runs as the user, with no capabilities and the seccomp filter. */
    @Test
    void aRealQemuRunsAsTheUserWithTheFilter() throws Exception {
        assumeTrue(root() && Cmd.available(QemuCommand.QEMU) && Cmd.run("id", "-u", QemuConfinement.DEFAULT_USER).ok(),
                "needs root, QEMU and the user " + QemuConfinement.DEFAULT_USER + " (scripts/install-deps)");
        QemuConfinement c = QemuConfinement.detect(true, QemuConfinement.DEFAULT_USER);
        assertThat(c.mode()).as(c.detail()).isEqualTo("seccomp+user");
        List<String> argv = new ArrayList<>(c.prefix());
        argv.addAll(List.of(QemuCommand.QEMU, "-machine", "none", "-nodefaults", "-display", "none", "-qmp", "stdio"));
        argv.addAll(c.extraArgs());
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try {
            String greeting = new String(p.getInputStream().readNBytes(10), StandardCharsets.UTF_8); // {"QMP": …: QEMU is up
            assertThat(greeting).startsWith("{\"QMP\"");
            String status = Files.readString(Path.of("/proc", Long.toString(p.pid()), "status"));
            assertThat(status).containsPattern("Uid:\\s+" + c.uid() + "\\s+" + c.uid() + "\\s+" + c.uid())
                    .containsPattern("Gid:\\s+" + c.gid() + "\\s")
                    .contains("CapEff:\t0000000000000000")
                    .containsPattern("Seccomp:\\s+2");
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theVmsOwnFilesBecomeTheUsersButSharedInodesKeepTheirOwner() throws Exception {
        assumeTrue(root(), "chown needs root");
        int nobody = 65534;
        QemuConfinement c = new QemuConfinement(true, "nobody", nobody, nobody, "");
        Path snapDir = Files.createDirectories(tmp.resolve("snapshots/s1"));
        Files.setPosixFilePermissions(snapDir, PosixFilePermissions.fromString("rwx------"));
        Path kernel = Files.writeString(tmp.resolve("vmlinux"), "kernel");
        Path snapRam = Files.writeString(snapDir.resolve("ram"), "guest memory");
        Path vmDir = Files.createDirectories(tmp.resolve("vms/a1"));
        Files.writeString(vmDir.resolve("console.log"), "");
        Files.createDirectories(vmDir.resolve("from-snapshot"));
        Path kernelLink = Files.createLink(vmDir.resolve("from-snapshot/vmlinux"), kernel);
        Path ramLink = Files.createLink(vmDir.resolve("from-snapshot/ram"), snapRam);
        Files.createSymbolicLink(vmDir.resolve("initrd"), kernel);
        // a clone's disk: a qcow2 overlay whose backing file is in the snapshot's 0700 folder
        Path base = snapDir.resolve("disk");
        assumeTrue(Cmd.run("qemu-img", "create", "-f", "raw", base.toString(), "1M").ok());
        assertThat(Cmd.run("qemu-img", "create", "-f", "qcow2", "-b", base.toString(), "-F", "raw", vmDir.resolve("disk.qcow2").toString()).ok()).isTrue();
        VmFiles files = new VmFiles(vmDir, ramLink);
        QemuCommand.Spec spec = new QemuCommand.Spec("a1", "a", 1, 128, false, kernelLink.toString(), kernelLink.toString(), null, files,
                List.of(), ramLink, false, true);

        c.prepare(spec);

        assertThat(uid(vmDir)).isEqualTo(nobody);
        assertThat(uid(vmDir.resolve("console.log"))).isEqualTo(nobody);
        assertThat(uid(vmDir.resolve("disk.qcow2"))).isEqualTo(nobody);
        assertThat(uid(kernel)).as("the image's kernel (a hard link in the VM's folder) keeps its owner").isZero();
        assertThat(uid(snapRam)).as("the snapshot's RAM file keeps its owner").isZero();
        assertThat((Integer) Files.getAttribute(snapRam, "unix:gid")).isEqualTo(nobody);
        assertThat(Files.getPosixFilePermissions(snapRam)).contains(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE)
                .doesNotContain(PosixFilePermission.OTHERS_WRITE);
        assertThat(Files.getPosixFilePermissions(snapDir)).contains(PosixFilePermission.GROUP_EXECUTE).doesNotContain(PosixFilePermission.GROUP_READ);
        assertThat(QemuConfinement.qcow2Backing(vmDir.resolve("disk.qcow2"))).isEqualTo(base);
    }

    private static int uid(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
}
