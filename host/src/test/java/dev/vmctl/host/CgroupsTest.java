package dev.vmctl.host;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class CgroupsTest {
    @Test
    void v2WhenTheUnifiedHierarchyHasTheControllers(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Cgroups.Layout l = Cgroups.detect("0::/system.slice/vmctl.service\n", root, "vmctl-abc");
        assertThat(l.mode()).isEqualTo(Cgroups.Mode.V2);
        assertThat(l.cpu()).isEqualTo(root.resolve("system.slice/vmctl.service/vmctl-abc")).isEqualTo(l.memory());

        // the files a v2 group has: create enables the controllers on the way down, limits go to cpu.max / memory.max
        Cgroups c = new Cgroups(l);
        Path own = root.resolve("system.slice/vmctl.service");
        Files.createDirectories(own);
        c.create("node-a/vm-1");
        assertThat(Files.readString(l.cpu().resolve("cgroup.subtree_control"))).isEqualTo("+cpu +memory");
        assertThat(Files.readString(l.cpu().resolve("node-a/cgroup.subtree_control"))).isEqualTo("+cpu +memory");
        c.setCpu("node-a", 0.3);
        c.setMemory("node-a", 512L << 20);
        assertThat(Files.readString(l.cpu().resolve("node-a/cpu.max"))).isEqualTo("30000 100000");
        assertThat(Files.readString(l.cpu().resolve("node-a/memory.max"))).isEqualTo(Long.toString(512L << 20));
        assertThat(c.cpuLimit("node-a")).isEqualTo(0.3);
        c.setCpu("node-a", null);
        assertThat(c.cpuLimit("node-a")).isNull();
        assertThat(c.children("")).containsExactly("node-a");
        assertThat(c.children("node-a")).containsExactly("node-a/vm-1");
    }

    @Test
    void v1OnAHybridWhoseUnifiedMountHasNoControllers(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("unified"));
        Files.createDirectories(root.resolve("cpu"));
        Files.writeString(root.resolve("cpu/cpu.cfs_quota_us"), "-1");
        Files.createDirectories(root.resolve("memory"));
        Files.writeString(root.resolve("memory/memory.limit_in_bytes"), "9223372036854771712");
        String self = "4:memory:/process_api/225f\n2:cpuacct:/\n1:cpu:/\n0::/\n";
        Cgroups.Layout l = Cgroups.detect(self, root, "vmctl-abc");
        assertThat(l.mode()).isEqualTo(Cgroups.Mode.V1);
        assertThat(l.cpu()).isEqualTo(root.resolve("cpu/vmctl-abc"));
        assertThat(l.memory()).isEqualTo(root.resolve("memory/process_api/225f/vmctl-abc"));
        assertThat(l.detail()).contains("hybrid");
        // and nothing without hierarchies
        assertThat(Cgroups.detect("0::/\n", root.resolve("none"), "x").mode()).isEqualTo(Cgroups.Mode.NONE);
    }

    @Test
    void groupNamesStayBelowVmctlsFolder(@TempDir Path root) {
        Cgroups c = new Cgroups(new Cgroups.Layout(Cgroups.Mode.V1, root.resolve("cpu/v"), root.resolve("mem/v"), ""));
        for (String bad : new String[] {"../x", "/abs", "", "a/../../b"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.create(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** On this host (root, v1 cpu): a busy loop in a group limited to 0.3 cores gets at most ~0.3 core-s/s. */
    @Test
    void realCpuLimitHoldsABusyLoop() throws Exception {
        Cgroups c = new Cgroups(Cgroups.detect("vmctl-test-" + ProcessHandle.current().pid()));
        Assumptions.assumeTrue(c.available() && Files.isWritable(c.layout().cpu().getParent()), "no writable cgroup here: " + c.layout().detail());
        Process busy = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
        try {
            c.create("node-t/vm-1");
            c.setCpu("node-t", 0.3);
            c.attach("node-t/vm-1", busy.pid());
            assertThat(c.pids("node-t/vm-1")).contains(busy.pid());
            Thread.sleep(300);
            double cpu0 = ProcStats.cpuSeconds(ProcStats.read(busy.pid(), "stat").orElseThrow());
            long t0 = System.nanoTime();
            Thread.sleep(3000);
            double used = ProcStats.cpuSeconds(ProcStats.read(busy.pid(), "stat").orElseThrow()) - cpu0;
            double rate = used / ((System.nanoTime() - t0) / 1e9);
            assertThat(rate).as("core-s/s of a busy loop limited to 0.3 cores").isLessThanOrEqualTo(0.4).isGreaterThan(0.05);
        } finally {
            busy.destroyForcibly().waitFor();
            Procs.waitGone(busy.pid(), Duration.ofSeconds(2));
            c.remove("");
        }
        assertThat(Files.exists(c.layout().cpu())).isFalse();
    }
}
