package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.TopologyView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the deployed topologies.")
final class TopoListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    TopoListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/topologies");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "STATE", "NODES", "VMS", "NETWORKS", "APPLIED");
        for (TopologyView topo : Json.listOf(json, TopologyView.class)) {
            t.row(topo.name(), topo.state(), Render.joined(topo.nodes().stream().map(NodeView::name).toList()),
                    topo.nodes().stream().mapToInt(n -> n.vms().size()).sum(), Render.joined(topo.networks()),
                    Render.time(topo.appliedAt()));
        }
        t.print(ctx.out());
        return 0;
    }
}
