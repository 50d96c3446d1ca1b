package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.NodeVm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the nodes of every topology.")
final class NodeListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    NodeListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/nodes");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NODE", "STATE", "VMS");
        for (NodeView n : Json.listOf(json, NodeView.class)) {
            t.row(NodeRef.of(n), n.state(), Render.joined(n.vms().stream().map(NodeVm::name).toList()));
        }
        t.print(ctx.out());
        return 0;
    }
}
