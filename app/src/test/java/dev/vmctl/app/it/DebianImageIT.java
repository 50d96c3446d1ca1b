package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Debian images end to end on real QEMU, through the CLI: build debian-12 (the rootfs is cached by recipe under
 * /var/cache/vmctl/rootfs: the first build on a machine takes minutes, a second one is a cache hit), a VM with a NIC
 * and a grown disk, exec, file copy, link impairment, stop/start keeping the disk, a warm create from the boot snapshot
 * the first VM's cold boot recorded (its own disk, host name, machine-id, MAC, address), a snapshot and a clone with its
 * own host name and machine-id and the snapshot's disk, image rm refused while in use; one debian-13 boot.
 * Addresses from 198.18.0.0/15 inside the server's namespaces.
 */
@ExtendWith(Fixture.class)
class DebianImageIT {

    private static void requireDebootstrap() {
        boolean ok = Cmd.available("debootstrap");
        if (!ok) System.out.println("DebianImageIT skipped: debootstrap is not installed (scripts/install-deps installs it)");
        Assumptions.assumeTrue(ok, "debootstrap is not installed (scripts/install-deps installs it)");
    }

    private static Cli.Result ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
        return r;
    }

    private static void build(Fixture f, String name) {
        Cli.Result r = ok(f.cli.run("image", "build", name, "--timeout", "60m"));
        assertThat(r.out()).contains("built image " + name);
    }

    /** The image's boot snapshots once {@code count} exist (they are committed in the background). */
    private static JsonNode bootSnapshots(Fixture f, int count) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(120).toNanos();
        while (true) {
            JsonNode b = f.api.get("/api/v1/images/debian-12").json().path("bootSnapshots");
            if (b.size() == count) return b;
            assertThat(System.nanoTime() - deadline).as("boot snapshots: " + b).isNegative();
            Thread.sleep(200);
        }
    }

    @Test
    void debian12VmNicExecFilesStopStartSnapshotClone(Fixture f) throws Exception {
        requireDebootstrap();
        Cli cli = f.cli;
        build(f, "debian-12");
        // the same recipe again: the rootfs comes from the cache
        long t0 = System.nanoTime();
        Cli.Result again = ok(cli.run("image", "build", "debian-12"));
        double secs = (System.nanoTime() - t0) / 1e9;
        assertThat(again.out()).contains("found in cache");
        assertThat(secs).as("a cached rebuild").isLessThan(90);

        JsonNode show = Api.JSON.readTree(ok(cli.run("image", "show", "debian-12", "-o", "json")).out());
        assertThat(show.path("kernel").asText()).endsWith("/vmlinux");
        assertThat(show.path("rootfs").asText()).endsWith("/rootfs.ext4");
        assertThat(Files.isRegularFile(Path.of(show.path("rootfs").asText()))).isTrue();
        assertThat(show.path("os").asText()).contains("Debian 12");
        assertThat(ok(cli.run("image", "show", "debian-12")).out()).contains("rootfs sha256").contains("bookworm");

        // bad input names the field and the allowed values
        Cli.Result bad = cli.run("image", "build", "debian-14");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("name").contains("debian-12");
        bad = cli.run("image", "build", "debian-12", "--packages", "curl;rm");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("packages");
        bad = cli.run("vm", "create", "dx", "--image", "tiny", "--disk", "4G");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("disk");

        ok(cli.run("net", "create", "dfront", "--subnet", "198.18.140.0/24"));
        try {
            long c0 = System.nanoTime();
            ok(cli.run("vm", "create", "d1", "--image", "debian-12", "--memory", "512M", "--disk", "2G", "--nic", "net=dfront",
                    "--start", "--wait"));
            System.out.printf("DebianImageIT: debian-12 create -> RUNNING %.2f s%n", (System.nanoTime() - c0) / 1e9);
            JsonNode vm = f.api.get("/api/v1/vms/d1").json();
            String id = vm.path("id").asText();
            Path disk = f.dataDir.resolve("vms").resolve(id).resolve("disk.qcow2");
            assertThat(disk).exists();

            assertThat(ok(cli.run("vm", "exec", "d1", "--", "cat", "/etc/os-release")).out()).contains("bookworm");
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "hostname")).out().trim()).isEqualTo("d1");
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "cat", "/proc/1/comm")).out().trim()).isEqualTo("systemd");
            String ip = vm.path("nics").get(0).path("ip").asText();
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "ip", "-4", "addr", "show", "eth0")).out()).contains(ip.split("/")[0]);
            // --disk 2G: the root file system was grown to the disk
            String df = ok(cli.run("vm", "exec", "d1", "--", "df", "-m", "/")).out();
            long sizeMib = Long.parseLong(df.lines().skip(1).findFirst().orElseThrow().trim().split("\\s+")[1]);
            assertThat(sizeMib).as(df).isGreaterThan(1500);

            // a tiny VM on the same network answers the Debian VM's ping (NICs configured by MAC on both)
            ok(cli.run("vm", "create", "dt", "--image", "tiny", "--nic", "net=dfront", "--start", "--wait"));
            String tinyIp = f.api.get("/api/v1/vms/dt").json().path("nics").get(0).path("ip").asText().split("/")[0];
            ok(cli.run("vm", "exec", "d1", "--", "ping", "-c", "1", "-W", "5", tinyIp));

            // boot snapshots: d1's cold boot recorded its shape's (disk included); a create of that shape is warm, with
            // its own copy of the disk, host name, machine-id, MAC and address
            assertThat(vm.path("boot").asText()).isEqualTo("cold");
            JsonNode boots = bootSnapshots(f, 1);
            assertThat(boots.get(0).path("vm").asText()).isEqualTo("d1");
            String d1MachineId = ok(cli.run("vm", "exec", "d1", "--", "cat", "/etc/machine-id")).out().trim();
            long w0 = System.nanoTime();
            ok(cli.run("vm", "create", "dw", "--image", "debian-12", "--memory", "512M", "--disk", "2G", "--nic", "net=dfront",
                    "--start", "--wait"));
            System.out.printf("DebianImageIT: debian-12 warm create -> RUNNING %.2f s%n", (System.nanoTime() - w0) / 1e9);
            JsonNode dw = f.api.get("/api/v1/vms/dw").json();
            assertThat(dw.path("boot").asText()).as(dw.toString()).isEqualTo("warm");
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "hostname")).out().trim()).isEqualTo("dw");
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "cat", "/etc/hostname")).out().trim()).isEqualTo("dw");
            String dwMachineId = ok(cli.run("vm", "exec", "dw", "--", "cat", "/etc/machine-id")).out().trim();
            assertThat(dwMachineId).hasSize(32).isNotEqualTo(d1MachineId);
            String dwIp = dw.path("nics").get(0).path("ip").asText().split("/")[0];
            assertThat(dwIp).isNotEqualTo(ip.split("/")[0]);
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "ip", "-br", "link", "show", "eth0")).out())
                    .contains(dw.path("nics").get(0).path("mac").asText());
            ok(cli.run("vm", "exec", "dw", "--", "ping", "-c", "1", "-W", "5", ip.split("/")[0]));
            ok(cli.run("vm", "exec", "d1", "--", "ping", "-c", "1", "-W", "5", dwIp));
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "cat", "/proc/1/comm")).out().trim()).isEqualTo("systemd");
            df = ok(cli.run("vm", "exec", "dw", "--", "df", "-m", "/")).out();
            assertThat(Long.parseLong(df.lines().skip(1).findFirst().orElseThrow().trim().split("\\s+")[1])).as(df).isGreaterThan(1500);
            // its own overlay, in its own folder: what it writes d1 does not see, and it stays over a (cold) stop/start
            Path dwDisk = f.dataDir.resolve("vms").resolve(dw.path("id").asText()).resolve("disk.qcow2");
            assertThat(dwDisk).exists();
            assertThat(dwDisk.resolveSibling("disk.cold.qcow2")).doesNotExist();
            ok(cli.run("vm", "exec", "dw", "--", "sh", "-c", "echo warm > /root/only-warm && sync"));
            assertThat(cli.run("vm", "exec", "d1", "--", "test", "-e", "/root/only-warm").code()).isNotZero();
            assertThat(bootSnapshots(f, 1).get(0).path("warmVms").toString()).contains("dw");
            ok(cli.run("vm", "stop", "dw"));
            ok(cli.run("vm", "start", "dw", "--wait"));
            assertThat(f.api.get("/api/v1/vms/dw").json().path("boot").asText()).isEqualTo("cold");
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "cat", "/root/only-warm")).out().trim()).isEqualTo("warm");
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "hostname")).out().trim()).isEqualTo("dw");
            assertThat(ok(cli.run("vm", "exec", "dw", "--", "cat", "/etc/machine-id")).out().trim()).isEqualTo(dwMachineId);
            ok(cli.run("vm", "rm", "dw", "--force"));
            assertThat(dwDisk).doesNotExist();

            // guest netem through iproute2's tc in the Debian guest
            ok(cli.run("link", "impair", "d1", "eth0", "--delay", "50ms"));
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "tc", "qdisc", "show", "dev", "eth0")).out()).contains("netem");
            ok(cli.run("link", "clear", "d1", "eth0"));
            ok(cli.run("link", "down", "d1", "eth0"));
            ok(cli.run("link", "up", "d1", "eth0"));

            // file copy in and out
            byte[] blob = new byte[200_000];
            new java.util.Random(7).nextBytes(blob);
            Path local = Files.createTempFile("vmctl-deb-", ".bin");
            Path back = Files.createTempFile("vmctl-deb-back-", ".bin");
            try {
                Files.write(local, blob);
                ok(cli.run("vm", "cp", local.toString(), "d1:/root/blob.bin"));
                ok(cli.run("vm", "cp", "d1:/root/blob.bin", back.toString()));
                assertThat(Files.readAllBytes(back)).isEqualTo(blob);
            } finally {
                Files.deleteIfExists(local);
                Files.deleteIfExists(back);
            }

            // NIC hot-plug (PCIe): the guest names it eth1 by MAC; unplug
            ok(cli.run("nic", "add", "d1", "--net", "dfront"));
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "ip", "-br", "-4", "addr", "show", "eth1")).out()).contains("198.18.140.");
            ok(cli.run("nic", "rm", "d1", "eth1"));

            // the console log: vmctl's initramfs, then systemd
            assertThat(ok(cli.run("vm", "console", "d1", "--tail", "200")).out()).contains("VMCTL_SWITCH_ROOT");

            // reboot (a hard reset after a sync): what the guest wrote is still there
            ok(cli.run("vm", "exec", "d1", "--", "sh", "-c", "echo before-reboot > /root/reboot-mark"));
            ok(cli.run("vm", "reboot", "d1"));
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "cat", "/root/reboot-mark")).out().trim()).isEqualTo("before-reboot");

            // the disk is the VM's own and persists over stop/start
            ok(cli.run("vm", "exec", "d1", "--", "sh", "-c", "echo kept > /root/persist && sync"));
            String machineId = ok(cli.run("vm", "exec", "d1", "--", "cat", "/etc/machine-id")).out().trim();
            assertThat(machineId).hasSize(32);
            ok(cli.run("vm", "stop", "d1"));
            assertThat(f.api.get("/api/v1/vms/d1").json().path("state").asText()).isEqualTo("STOPPED");
            ok(cli.run("vm", "start", "d1", "--wait"));
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "cat", "/root/persist")).out().trim()).isEqualTo("kept");
            assertThat(ok(cli.run("vm", "exec", "d1", "--", "cat", "/etc/machine-id")).out().trim()).isEqualTo(machineId);

            // snapshot + clone: the clone carries the disk, with its own host name and machine-id
            ok(cli.run("snapshot", "create", "d1", "--name", "d1-snap"));
            ok(cli.run("vm", "clone", "d1-snap", "--count", "1", "--name", "dc-{n}", "--net", "dfront", "--start", "--wait"));
            assertThat(ok(cli.run("vm", "exec", "dc-1", "--", "cat", "/root/persist")).out().trim()).isEqualTo("kept");
            assertThat(ok(cli.run("vm", "exec", "dc-1", "--", "hostname")).out().trim()).isEqualTo("dc-1");
            assertThat(ok(cli.run("vm", "exec", "dc-1", "--", "cat", "/etc/hostname")).out().trim()).isEqualTo("dc-1");
            String cloneId = ok(cli.run("vm", "exec", "dc-1", "--", "cat", "/etc/machine-id")).out().trim();
            assertThat(cloneId).hasSize(32).isNotEqualTo(machineId);
            // the clone writes to its own overlay: d1 does not see it
            ok(cli.run("vm", "exec", "dc-1", "--", "sh", "-c", "echo clone > /root/only-clone && sync"));
            assertThat(cli.run("vm", "exec", "d1", "--", "test", "-e", "/root/only-clone").code()).isNotZero();
            String cloneVmId = f.api.get("/api/v1/vms/dc-1").json().path("id").asText();
            assertThat(f.dataDir.resolve("vms").resolve(cloneVmId).resolve("disk.qcow2")).exists();

            // image rm is refused while VMs or snapshots use the image
            Cli.Result rm = cli.run("image", "rm", "debian-12");
            assertThat(rm.code()).as(rm.toString()).isNotZero();
            assertThat(rm.err()).contains("in use").contains("d1");

            ok(cli.run("vm", "rm", "dc-1", "--force"));
            ok(cli.run("vm", "rm", "d1", "--force"));
            assertThat(disk).doesNotExist();
            ok(cli.run("snapshot", "rm", "d1-snap"));
        } finally {
            for (String n : new String[]{"dc-1", "dw", "d1", "dt"}) f.destroyQuietly(n);
            f.api.delete("/api/v1/snapshots/d1-snap");
            cli.run("net", "rm", "dfront");
        }
    }

    @Test
    void importAKernelAndRootfs(Fixture f) throws Exception {
        requireDebootstrap();
        Cli cli = f.cli;
        build(f, "debian-12");
        JsonNode img = f.api.get("/api/v1/images/debian-12").json();
        String kernel = img.path("kernel").asText();
        String rootfs = img.path("rootfs").asText();
        // wrong files: the error names the flag and what is wrong
        Cli.Result bad = cli.run("image", "import", "mine", "--kernel", rootfs, "--rootfs", rootfs);
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("kernel").contains("neither an ELF vmlinux nor a bzImage");
        bad = cli.run("image", "import", "mine", "--kernel", kernel, "--rootfs", kernel);
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("rootfs").contains("neither an ext4");
        bad = cli.run("image", "import", "mine", "--kernel", kernel, "--rootfs", "/no/such/rootfs.ext4");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("rootfs").contains("does not exist");
        ok(cli.run("image", "import", "mine", "--kernel", kernel, "--rootfs", rootfs, "--os", "my Debian"));
        try {
            assertThat(ok(cli.run("image", "show", "mine")).out()).contains("my Debian").contains("rootfs sha256");
            ok(cli.run("vm", "create", "mi", "--image", "mine", "--memory", "256M", "--start", "--wait"));
            assertThat(ok(cli.run("vm", "exec", "mi", "--", "cat", "/proc/sys/kernel/hostname")).out().trim()).isEqualTo("mi");
            ok(cli.run("vm", "rm", "mi", "--force"));
            ok(cli.run("image", "rm", "mine"));
            assertThat(f.api.get("/api/v1/images/mine").status()).isEqualTo(404);
        } finally {
            f.destroyQuietly("mi");
            f.api.delete("/api/v1/images/mine");
        }
    }

    @Test
    void debian13Boots(Fixture f) {
        requireDebootstrap();
        Cli cli = f.cli;
        build(f, "debian-13");
        try {
            long c0 = System.nanoTime();
            ok(cli.run("vm", "create", "d13", "--image", "debian-13", "--memory", "512M", "--start", "--wait"));
            System.out.printf("DebianImageIT: debian-13 create -> RUNNING %.2f s%n", (System.nanoTime() - c0) / 1e9);
            assertThat(ok(cli.run("vm", "exec", "d13", "--", "cat", "/etc/os-release")).out()).contains("trixie");
            assertThat(ok(cli.run("vm", "exec", "d13", "--", "cat", "/proc/sys/kernel/hostname")).out().trim()).isEqualTo("d13");
            ok(cli.run("vm", "stop", "d13"));
            ok(cli.run("vm", "rm", "d13"));
        } finally {
            f.destroyQuietly("d13");
        }
    }
}
