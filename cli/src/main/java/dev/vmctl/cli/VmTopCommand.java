package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Metrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "top", mixinStandardHelpOptions = true,
        description = "A live table of every VM's latest sample, busiest first, refreshed like top (Ctrl-C ends it).")
final class VmTopCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--once", description = "print one table and exit")
    boolean once;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s", converter = Durations.Converter.class,
            description = "how often the table is refreshed (default 2s), " + Durations.EXAMPLES)
    Duration interval;

    @Mixin
    OutputOption output;

    VmTopCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() throws InterruptedException {
        if (output.json()) {
            OutputOption.printJson(ctx.out(), ctx.api().get("/api/v1/metrics/vms"));
            return 0;
        }
        if (interval.toMillis() < 100) throw CliException.usage("--interval must be at least 100ms (got " + Durations.format(interval) + ")");
        while (true) {
            List<Metrics.Latest> vms = Json.listOf(ctx.api().get("/api/v1/metrics/vms"), Metrics.Latest.class);
            if (!once) ctx.out().print("\033[H\033[2J"); // home, clear screen
            print(vms);
            if (once) return 0;
            Thread.sleep(interval.toMillis());
        }
    }

    private void print(List<Metrics.Latest> vms) {
        double cpu = 0;
        long rss = 0;
        int running = 0;
        for (Metrics.Latest l : vms) {
            if (l.sample() == null || l.state() != dev.vmctl.model.VmState.RUNNING) continue;
            running++;
            cpu += l.sample().cpu();
            rss += l.sample().rss();
        }
        ctx.out().println("vmctl top - " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "  vms: " + vms.size() + ", running: " + running
                + "  cpu: " + percent(cpu) + "%  rss: " + Render.bytes(rss));
        Table t = new Table("NAME", "NODE", "STATE", "CPU%", "RSS", "PSS", "RX/s", "TX/s", "GUEST AVAIL", "LOAD1", "UPTIME");
        List<Metrics.Latest> sorted = vms.stream().sorted(Comparator
                .comparingDouble((Metrics.Latest l) -> l.sample() == null || l.state() != dev.vmctl.model.VmState.RUNNING ? -1 : l.sample().cpu())
                .reversed().thenComparing(Metrics.Latest::vm)).toList();
        for (Metrics.Latest l : sorted) {
            Metrics.Sample s = l.state() == dev.vmctl.model.VmState.RUNNING ? l.sample() : null;
            String node = l.topology() == null ? "-" : l.topology() + "/" + l.node();
            if (s == null) {
                t.row(l.vm(), node, l.state(), "-", "-", "-", "-", "-", "-", "-", "-");
            } else {
                Double up = s.guest() == null ? null : s.guest().uptime();
                t.row(l.vm(), node, l.state(), percent(s.cpu()), Render.bytes(s.rss()), Render.bytes(s.pss()), rate(s, true), rate(s, false),
                        guestAvail(s), load(s), up == null ? "-" : Durations.format(Duration.ofSeconds(up.longValue())));
            }
        }
        t.print(ctx.out());
    }

    static String percent(double cores) {
        return String.format(Locale.ROOT, "%.1f", cores * 100);
    }

    /** The sum over the VM's NICs, per second. */
    static String rate(Metrics.Sample s, boolean rx) {
        double sum = 0;
        for (Metrics.Nic n : s.nics().values()) sum += rx ? n.rxBytesPerSec() : n.txBytesPerSec();
        return s.nics().isEmpty() ? "-" : Render.bytes((long) sum);
    }

    static String guestAvail(Metrics.Sample s) {
        return s.guest() == null || s.guest().memAvailable() == null ? "-" : Render.bytes(s.guest().memAvailable());
    }

    static String load(Metrics.Sample s) {
        return s.guest() == null || s.guest().load1() == null ? "-" : String.format(Locale.ROOT, "%.2f", s.guest().load1());
    }
}
