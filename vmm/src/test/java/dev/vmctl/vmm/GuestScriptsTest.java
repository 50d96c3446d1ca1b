package dev.vmctl.vmm;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The network script run by a host shell with stand-ins for ip and arping and a fake /sys/class/net. */
class GuestScriptsTest {
    @TempDir
    Path tmp;

    private CmdResult network(String... args) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String c : List.of("ip", "arping")) {
            Path f = bin.resolve(c);
            Files.writeString(f, "#!/bin/sh\necho \"" + c + " $*\" >>" + tmp.resolve("log") + "\n");
            f.toFile().setExecutable(true);
        }
        String script = GuestScripts.NETWORK.replace("/sys/class/net/", tmp.resolve("sys") + "/");
        List<String> argv = new ArrayList<>(List.of("env", "PATH=" + bin + ":/usr/bin:/bin", "sh", "-c", script, "vmctl-net"));
        argv.addAll(List.of(args));
        return Cmd.run(argv, null, null, Duration.ofSeconds(10));
    }

    private void nic(String name, String mac) throws Exception {
        Files.writeString(Files.createDirectories(tmp.resolve("sys").resolve(name)).resolve("address"), mac + "\n");
    }

    private List<String> log() throws Exception {
        return Files.readAllLines(tmp.resolve("log")).stream().filter(l -> !l.startsWith("arping")).toList();
    }

    @Test
    void anInterfaceIsFoundByItsMacRenamedAndAddressed() throws Exception {
        nic("enp0s1", "52:54:00:aa:00:01");
        CmdResult r = network("198.18.0.1", "eth0", "52:54:00:aa:00:01", "198.18.0.5/24");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(log()).containsExactly(
                "ip link set enp0s1 down",
                "ip link set enp0s1 name vmtmp0",
                "ip link set vmtmp0 name eth0",
                "ip link set eth0 up",
                "ip -4 addr flush dev eth0",
                "ip addr add 198.18.0.5/24 dev eth0",
                "ip route replace default via 198.18.0.1");
        assertThat(network("-", "eth0", "52:54:00:aa:00:09", "-").stderr()).contains("no interface with MAC 52:54:00:aa:00:09");
    }
}
