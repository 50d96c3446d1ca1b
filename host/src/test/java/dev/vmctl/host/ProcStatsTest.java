package dev.vmctl.host;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The parsers against real /proc files of a process this test starts (and ends, by its PID). */
class ProcStatsTest {
    private Process busy;

    @BeforeEach
    void start() throws Exception {
        // a process that burns some CPU and then waits: its stat and smaps_rollup are what the sampler reads of QEMU
        busy = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 30").start();
        Thread.sleep(400);
    }

    @AfterEach
    void stop() {
        busy.destroyForcibly();
    }

    @Test
    void cpuSecondsOfARealProcess() {
        String stat = ProcStats.read(busy.pid(), "stat").orElseThrow();
        double cpu = ProcStats.cpuSeconds(stat);
        assertThat(cpu).isGreaterThan(0.0).isLessThan(30.0);
        // the same through a comm with spaces and parentheses
        String odd = stat.replaceFirst("\\(.*\\)", "(a (b) c)");
        assertThat(ProcStats.cpuSeconds(odd)).isEqualTo(cpu);
    }

    @Test
    void rssAndPssOfARealProcess() {
        ProcStats.Memory m = ProcStats.smapsRollup(ProcStats.read(busy.pid(), "smaps_rollup").orElseThrow());
        assertThat(m.rss()).isGreaterThan(100 * 1024L);
        assertThat(m.pss()).isGreaterThan(0L).isLessThanOrEqualTo(m.rss());
        long statm = ProcStats.statmRss(ProcStats.read(busy.pid(), "statm").orElseThrow());
        assertThat(statm).isBetween(m.rss() / 2, m.rss() * 2); // the same resident pages, counted another way
    }

    @Test
    void netDevOfARealNamespace() {
        Map<String, ProcStats.NetDev> devs = ProcStats.netDev(ProcStats.read(busy.pid(), "net/dev").orElseThrow());
        assertThat(devs).containsKey("lo");
        ProcStats.NetDev lo = devs.get("lo");
        assertThat(lo.rxBytes()).isEqualTo(lo.txBytes()); // what lo sends it receives
        assertThat(lo.rxPackets()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void netDevColumns() {
        String text = """
                Inter-|   Receive                                                |  Transmit
                 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                vt1a2b3c0: 1000 10 0 2 0 0 0 0 2000 20 0 3 0 0 0 0
                """;
        assertThat(ProcStats.netDev(text)).containsEntry("vt1a2b3c0", new ProcStats.NetDev(1000, 10, 2, 2000, 20, 3));
    }

    @Test
    void meminfoLoadavgUptimeOfThisHost() throws Exception {
        Map<String, Long> mem = ProcStats.meminfo(Files.readString(Path.of("/proc/meminfo")));
        assertThat(mem.get("MemTotal")).isGreaterThan(mem.get("MemAvailable")).isGreaterThan(0L);
        assertThat(ProcStats.load1(Files.readString(Path.of("/proc/loadavg")))).isGreaterThanOrEqualTo(0.0);
        assertThat(ProcStats.uptime(Files.readString(Path.of("/proc/uptime")))).isGreaterThan(0.0);
        assertThat(ProcStats.load1("0.42 0.10 0.01 1/50 99\n")).isCloseTo(0.42, within(1e-9));
        assertThat(ProcStats.uptime("12.34 5.00\n")).isCloseTo(12.34, within(1e-9));
    }

    @Test
    void goneProcessReadsEmpty() throws Exception {
        busy.destroyForcibly().waitFor();
        assertThat(ProcStats.read(busy.pid(), "stat")).isEmpty();
    }
}
