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
                "eth0", "52:54:00:aa:00:01", "198.18.0.11/24", "198.18.0.1", "eth1", "52:54:00:aa:00:02", "-", "-");
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
                new CloneIdentity.Nic("eth0", "52:54:00:aa:00:01", "198.18.0.11/24", "gw"));
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
        for (String c : List.of("hostname", "ip", "arping")) {
            Path f = bin.resolve(c);
            java.nio.file.Files.writeString(f, "#!/bin/sh\necho \"" + c + " $*\" >>" + log + "\n");
            f.toFile().setExecutable(true);
        }
        String script = CloneIdentity.SCRIPT.replace("/etc/", tmp + "/etc-").replace("/dev/urandom", tmp + "/urandom");
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
        assertThat(java.nio.file.Files.readAllLines(log)).containsExactly(
                "hostname web-2",
                "ip link set dev eth0 down",
                "ip link set dev eth0 address 52:54:00:aa:00:02",
                "ip link set dev eth0 up",
                "ip addr flush dev eth0",
                "ip addr add 198.18.0.12/24 dev eth0",
                "ip neigh flush dev eth0",
                "ip route replace default via 198.18.0.1 dev eth0",
                "arping -U -c 1 -w 1 -I eth0 198.18.0.12");
        // second run: the 127.0.1.1 line is replaced, not appended
        Cmd.run(argv, new byte[0], null, java.time.Duration.ofSeconds(10)).orThrow();
        assertThat(java.nio.file.Files.readString(tmp.resolve("etc-hosts"))).isEqualTo("127.0.1.1\tweb-2\n");
    }
}
