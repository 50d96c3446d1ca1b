package dev.vmctl.snapshot;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CloneIdentityTest {
    @TempDir
    Path tmp;

    @Test
    void argumentsAreValidatedBeforeAnythingRuns() {
        CloneIdentity.Spec ok = new CloneIdentity.Spec("web-1", List.of(
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.0.11/24", "198.18.0.1"),
                new CloneIdentity.Nic("eth1", "52:54:00:aa:00:02", null, null)), "0123456789abcdef0123456789abcdef", true, 512);
        assertThat(CloneIdentity.arguments(ok)).containsExactly("web-1", "0123456789abcdef0123456789abcdef",
                "eth0", "52:54:00:aa:00:01", "198.18.0.11/24", "198.18.0.1", "-", "eth1", "52:54:00:aa:00:02", "-", "-", "-");
        CloneIdentity.Spec byMac = CloneIdentity.Spec.of("web-1", List.of(
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", null, null, "52:54:00:0b:00:01")));
        assertThat(CloneIdentity.arguments(byMac).subList(2, 7)).containsExactly("eth0", "52:54:00:aa:00:01", "-", "-", "52:54:00:0b:00:01");
        assertThat(CloneIdentity.isHostname("web-1")).isTrue();
        assertThat(CloneIdentity.isHostname("web-")).isFalse();
        assertThat(CloneIdentity.arguments(CloneIdentity.Spec.of("x", List.of())).get(1)).matches("[0-9a-f]{32}");

        for (String h : List.of("", "-x", "x-", "a;reboot", "a b", "$(id)", "x".repeat(64))) {
            assertThatThrownBy(() -> CloneIdentity.arguments(CloneIdentity.Spec.of(h, List.of())))
                    .isInstanceOf(VmctlException.class).hasMessageContaining("hostname");
        }
        List<CloneIdentity.Nic> bad = List.of(
                new CloneIdentity.Nic("eth0;x", "52:54:00:aa:00:01", null, null),
                new CloneIdentity.Nic("eth0", "53:54:00:aa:00:01", null, null),          // multicast
                new CloneIdentity.Nic("eth0", "52:54:00:AA:00:01", null, null),          // upper case
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.0.11", null), // no prefix
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.0.256/24", null),
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.0.1/33", null),
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", null, "198.18.0.1"),  // gateway without address
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.0.11/24", "gw"),
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", null, null, "52:54:00:aa:00:0")); // bad fromMac
        for (CloneIdentity.Nic n : bad) {
            assertThatThrownBy(() -> CloneIdentity.arguments(CloneIdentity.Spec.of("x", List.of(n))))
                    .as(n.toString()).isInstanceOf(VmctlException.class)
                    .extracting(e -> ((VmctlException) e).kind()).isEqualTo(VmctlException.Kind.INVALID);
        }
        assertThatThrownBy(() -> CloneIdentity.arguments(new CloneIdentity.Spec("x", List.of(), "XYZ", true, 0)))
                .hasMessageContaining("machineId");
    }

    /** The script is plain POSIX sh: it parses, and its values arrive as arguments (dry run with stub commands). */
    @Test
    void theScriptTakesItsValuesAsArguments() throws Exception {
        Path bin = java.nio.file.Files.createDirectories(tmp.resolve("bin"));
        Path log = tmp.resolve("log");
        // stubs for the commands that would change this host; they log their argv
        for (String c : List.of("ip", "arping")) {
            Path f = bin.resolve(c);
            java.nio.file.Files.writeString(f, "#!/bin/sh\necho \"" + c + " $*\" >>" + log + "\n");
            f.toFile().setExecutable(true);
        }
        String script = CloneIdentity.SCRIPT.replace("/etc/", tmp + "/etc-").replace("/dev/urandom", tmp + "/urandom")
                .replace("/dev/console", tmp + "/console").replace("/proc/sys/kernel/hostname", tmp + "/kernel-hostname").replace("/usr/sbin/vmctl-identity", tmp + "/no-reseed-tool");
        List<String> argv = new ArrayList<>(List.of("env", "PATH=" + bin + ":/usr/bin:/bin", "sh", "-c", script, "vmctl-identity"));
        argv.addAll(CloneIdentity.arguments(new CloneIdentity.Spec("web-2", List.of(
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:02", "198.18.0.12/24", "198.18.0.1")), null, true, 16)));
        CmdResult r = Cmd.run(argv, "0123456789abcdef".getBytes(), null, java.time.Duration.ofSeconds(10));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(java.nio.file.Files.readString(tmp.resolve("etc-hostname"))).isEqualTo("web-2\n");
        assertThat(java.nio.file.Files.readString(tmp.resolve("etc-hosts"))).isEqualTo("127.0.1.1\tweb-2\n");
        assertThat(java.nio.file.Files.readString(tmp.resolve("etc-machine-id"))).matches("[0-9a-f]{32}\n");
        assertThat(java.nio.file.Files.readString(tmp.resolve("urandom"))).isEqualTo("0123456789abcdef");
        for (int i = 0; i < 100 && !java.nio.file.Files.readString(log).contains("arping"); i++) Thread.sleep(20); // in the background
        assertThat(java.nio.file.Files.readString(tmp.resolve("kernel-hostname"))).isEqualTo("web-2");
        assertThat(java.nio.file.Files.readAllLines(log)).containsExactly(
                "ip link set dev eth0 down",
                "ip link set dev eth0 address 52:54:00:aa:00:02",
                "ip link set dev eth0 up",
                "ip addr flush dev eth0",
                "ip addr add 198.18.0.12/24 dev eth0",
                "ip neigh flush dev eth0",
                "ip route replace default via 198.18.0.1 dev eth0",
                "arping -U -c 1 -w 1 -I eth0 198.18.0.12");
        assertThat(java.nio.file.Files.readString(tmp.resolve("console"))).isEqualTo("\nVMCTL_READY\n");
        assertThat(r.stdout()).doesNotContain("reseeded");
        // second run: the 127.0.1.1 line is replaced, not appended; other lines stay
        java.nio.file.Files.writeString(tmp.resolve("etc-hosts"), "127.0.0.1\tlocalhost\n127.0.1.1 old-name\n::1\tlocalhost");
        Cmd.run(argv, new byte[0], null, java.time.Duration.ofSeconds(10)).orThrow();
        assertThat(java.nio.file.Files.readString(tmp.resolve("etc-hosts"))).isEqualTo("127.0.0.1\tlocalhost\n127.0.1.1\tweb-2\n::1\tlocalhost\n");
        java.nio.file.Files.writeString(tmp.resolve("etc-hosts"), "127.0.0.1\tlocalhost\n");
        Cmd.run(argv, new byte[0], null, java.time.Duration.ofSeconds(10)).orThrow();
        assertThat(java.nio.file.Files.readString(tmp.resolve("etc-hosts"))).isEqualTo("127.0.0.1\tlocalhost\n127.0.1.1\tweb-2\n");
    }

    /**
     * With vmctl-identity in the guest the entropy goes to it (and what is left to /dev/urandom) and stdout says
     * "reseeded"; a NIC given with the MAC it has now is found by that MAC, whatever its name.
     */
    @Test
    void theReseedToolTakesTheEntropyAndNicsAreFoundByTheirOldMac() throws Exception {
        Path bin = java.nio.file.Files.createDirectories(tmp.resolve("bin"));
        Path log = tmp.resolve("log");
        for (String c : List.of("ip", "arping")) {
            Path f = bin.resolve(c);
            java.nio.file.Files.writeString(f, "#!/bin/sh\necho \"" + c + " $*\" >>" + log + "\n");
            f.toFile().setExecutable(true);
        }
        Path tool = tmp.resolve("reseed");
        java.nio.file.Files.writeString(tool, "#!/bin/sh\nhead -c 4 >" + tmp.resolve("credited") + "\n");
        tool.toFile().setExecutable(true);
        Path sys = java.nio.file.Files.createDirectories(tmp.resolve("sys/enp0s1"));
        java.nio.file.Files.writeString(sys.resolve("address"), "52:54:00:0b:00:01\n");
        String script = CloneIdentity.SCRIPT.replace("/etc/", tmp + "/etc-").replace("/dev/urandom", tmp + "/urandom")
                .replace("/dev/console", tmp + "/console").replace("/proc/sys/kernel/hostname", tmp + "/kernel-hostname").replace("/usr/sbin/vmctl-identity", tool.toString())
                .replace("/sys/class/net/", tmp + "/sys/");
        List<String> argv = new ArrayList<>(List.of("env", "PATH=" + bin + ":/usr/bin:/bin", "sh", "-c", script, "vmctl-identity"));
        argv.addAll(CloneIdentity.arguments(new CloneIdentity.Spec("web-3", List.of(
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:03", null, null, "52:54:00:0b:00:01")), null, true, 8)));
        CmdResult r = Cmd.run(argv, "abcdefgh".getBytes(), null, java.time.Duration.ofSeconds(10));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains("reseeded");
        assertThat(java.nio.file.Files.readString(tmp.resolve("credited"))).isEqualTo("abcd");
        assertThat(tmp.resolve("urandom")).as("the tool had the entropy").doesNotExist();
        assertThat(java.nio.file.Files.readAllLines(log)).containsExactly(
                "ip link set dev enp0s1 down",
                "ip link set dev enp0s1 address 52:54:00:aa:00:03",
                "ip link set dev enp0s1 up");

        // no interface with that MAC: the script fails and says so
        argv = new ArrayList<>(List.of("env", "PATH=" + bin + ":/usr/bin:/bin", "sh", "-c", script, "vmctl-identity"));
        argv.addAll(CloneIdentity.arguments(new CloneIdentity.Spec("web-3", List.of(
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:03", null, null, "52:54:00:0b:00:09")), null, true, 8)));
        r = Cmd.run(argv, "abcdefgh".getBytes(), null, java.time.Duration.ofSeconds(10));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stderr()).contains("no interface with MAC 52:54:00:0b:00:09");
    }

    /**
     * What applyThroughHelper writes is what the image's vmctl-identity reads: the real helper, in a scratch network
     * namespace with two veth ends standing for a boot snapshot's NICs (named the other way round, with the boot
     * snapshot's MACs), gets host name, machine-id and both NICs (MACs, names, addresses) and the default route.
     */
    @Test
    void theHelperReadsTheRequestAndConfiguresTheNics() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && "amd64".equals(System.getProperty("os.arch")),
                "needs root on x86-64 (a network namespace, the reseed ioctls)");
        String ns = "vmctl-cit-" + ProcessHandle.current().pid();
        Path tool = tmp.resolve("vmctl-identity");
        java.nio.file.Files.write(tool, dev.vmctl.image.IdentityHelper.binary());
        tool.toFile().setExecutable(true);
        Path root = tmp.resolve("root");
        for (String d : List.of("etc", "dev", "proc/sys/kernel")) java.nio.file.Files.createDirectories(root.resolve(d));
        java.nio.file.Files.createSymbolicLink(root.resolve("dev/urandom"), Path.of("/dev/urandom"));
        java.nio.file.Files.writeString(root.resolve("dev/console"), "");
        Path fifo = tmp.resolve("fifo");
        Process helper = null;
        try {
            Cmd.run("ip", "netns", "add", ns).orThrow();
            Cmd.run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "p0").orThrow();
            Cmd.run("ip", "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "p1").orThrow();
            Cmd.run("ip", "-n", ns, "link", "set", "eth0", "address", "52:54:00:0b:00:01", "up").orThrow();
            Cmd.run("ip", "-n", ns, "link", "set", "eth1", "address", "52:54:00:0b:00:00", "up").orThrow();
            Cmd.run("ip", "-n", ns, "link", "set", "p0", "up").orThrow();
            Cmd.run("ip", "-n", ns, "link", "set", "p1", "up").orThrow();
            Cmd.run("mkfifo", fifo.toString()).orThrow();
            helper = new ProcessBuilder("ip", "netns", "exec", ns, tool.toString(), "--serve", fifo.toString(), root.toString()).start();
            List<CloneIdentity.Nic> nics = List.of(
                    new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.90.5/24", "198.18.90.1", "52:54:00:0b:00:00"),
                    new CloneIdentity.Nic("eth1", "52:54:00:aa:00:02", "198.18.91.5/24", null, "52:54:00:0b:00:01"));
            CloneIdentity.arguments(CloneIdentity.Spec.of("web-4", nics));
            byte[] req = CloneIdentity.helperRequest(0x99L, null, "web-4", "0123456789abcdef0123456789abcdef", new byte[16], nics);
            try (var w = java.nio.file.Files.newOutputStream(fifo)) {
                w.write(req);
            }
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
            while (!java.nio.file.Files.readString(root.resolve("dev/console")).contains("0000000000000099") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(java.nio.file.Files.readString(root.resolve("dev/console"))).isEqualTo("\nVMCTL_READY identity=0000000000000099\n");
            assertThat(java.nio.file.Files.readString(root.resolve("etc/hostname"))).isEqualTo("web-4\n");
            String links = Cmd.run("ip", "-n", ns, "-o", "link", "show").stdout();
            assertThat(links).containsPattern("eth0@p1: <[^>]*UP[^>]*>.*link/ether 52:54:00:aa:00:01")
                    .containsPattern("eth1@p0: <[^>]*UP[^>]*>.*link/ether 52:54:00:aa:00:02");
            String addrs = Cmd.run("ip", "-n", ns, "-4", "-o", "addr", "show").stdout();
            assertThat(addrs).containsPattern("eth0\\s+inet 198\\.18\\.90\\.5/24").containsPattern("eth1\\s+inet 198\\.18\\.91\\.5/24");
            assertThat(Cmd.run("ip", "-n", ns, "route", "show", "default").stdout()).contains("default via 198.18.90.1 dev eth0");
            java.util.regex.Matcher tx = java.util.regex.Pattern.compile("TX:\\D*?(\\d+)\\s+(\\d+)")
                    .matcher(Cmd.run("ip", "-n", ns, "-s", "-o", "link", "show", "eth0").stdout());
            assertThat(tx.find()).isTrue();
            assertThat(Integer.parseInt(tx.group(2))).as("packets sent: two gratuitous ARPs (and IPv6's own)").isGreaterThanOrEqualTo(2);
        } finally {
            if (helper != null) {
                helper.destroyForcibly();
                helper.waitFor();
            }
            Cmd.run("ip", "netns", "del", ns);
        }
    }
}
