package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "down", mixinStandardHelpOptions = true,
        description = "Destroy a topology: every VM, router and network it created; shows progress, then every step."
                + " Exits 1 when something could not be removed (run it again).")
final class DownCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the topology's name (as in its file), e.g. shop")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.Converter.class,
            description = "how long to wait for the server to finish (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    DownCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println("destroying topology " + name + "…");
        progress.flush();
        JsonNode json;
        try (ProgressFollower ignored = ProgressFollower.start(ctx.api(), progress, e -> UpCommand.progressLine(e, name))) {
            json = ctx.api().delete("/api/v1/topologies/" + ApiClient.seg(name), timeout);
        }
        return UpCommand.printReport(ctx, output, json);
    }
}
