package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show one node: its state and its VMs (name, role, state, IPs).")
final class NodeShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "TOPOLOGY/NODE", description = "the node, e.g. shop/svc")
    String node;

    @Mixin
    OutputOption output;

    NodeShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get(NodeRef.parse(node).path());
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.node(ctx.out(), Json.as(json, NodeView.class));
        return 0;
    }
}
