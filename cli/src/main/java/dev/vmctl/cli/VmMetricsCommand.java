package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Metrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "metrics", mixinStandardHelpOptions = true,
        description = "A VM's samples (QEMU CPU, RSS, PSS, NIC throughput, guest memory and load) of the last window.")
final class VmMetricsCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name or id")
    String name;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.Converter.class,
            description = "how far back (default 10m; the server keeps 30m), " + Durations.EXAMPLES)
    Duration window;

    @Mixin
    OutputOption output;

    VmMetricsCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/vms/" + ApiClient.seg(name) + "/metrics?window=" + window.toMillis() + "ms");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Metrics.Window w = Json.as(json, Metrics.Window.class);
        List<Metrics.Sample> samples = w.samples();
        if (samples.isEmpty()) {
            ctx.out().println("no samples of " + w.vm() + " in the last " + Durations.format(window) + " (it is sampled while it runs)");
            ctx.out().flush();
            return 0;
        }
        Table t = new Table("TIME", "CPU%", "RSS", "PSS", "RX/s", "TX/s", "GUEST AVAIL", "LOAD1");
        for (Metrics.Sample s : samples) {
            t.row(Instant.ofEpochMilli(s.t()).truncatedTo(ChronoUnit.SECONDS), VmTopCommand.percent(s.cpu()), Render.bytes(s.rss()),
                    Render.bytes(s.pss()), VmTopCommand.rate(s, true), VmTopCommand.rate(s, false), VmTopCommand.guestAvail(s),
                    VmTopCommand.load(s));
        }
        t.print(ctx.out());
        return 0;
    }
}
