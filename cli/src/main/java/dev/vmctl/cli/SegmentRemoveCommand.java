package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SegmentView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = "Remove a segment and everything in it: its VMs (running ones too), topologies, routers, networks, VPN and namespace.")
final class SegmentRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the segment's name or id")
    String name;

    @Mixin
    OutputOption output;

    SegmentRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().delete("/api/v1/segments/" + ApiClient.seg(name), Duration.ofMinutes(10));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            SegmentView s = Json.as(json, SegmentView.class);
            ctx.out().println("removed segment " + s.name() + (s.vms().isEmpty() ? "" : " with its VMs " + String.join(", ", s.vms())));
        }
        ctx.out().flush();
        return 0;
    }
}
