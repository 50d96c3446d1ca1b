package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.TopologyView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show one topology: its file, state, networks and routers, and each node's VMs.")
final class TopoShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the topology's name, e.g. shop")
    String name;

    @Mixin
    OutputOption output;

    TopoShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/topologies/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.topology(ctx.out(), Json.as(json, TopologyView.class));
        return 0;
    }
}
