package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeView;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * start, stop and rm of a node: one synchronous request ({@code POST .../start}, {@code POST .../stop},
 * {@code DELETE}); the server answers when all of the node's VMs are done, with the node.
 */
abstract sealed class NodeActionCommand implements Callable<Integer>
        permits NodeStartCommand, NodeStopCommand, NodeRemoveCommand, NodeRestoreCommand {
    private final CliContext ctx;
    private final String doing;
    private final String did;

    @Parameters(index = "0", paramLabel = "TOPOLOGY/NODE", description = "the node, e.g. shop/svc")
    String node;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "11m", converter = Durations.Converter.class,
            description = "how long to wait for the server (default ${DEFAULT-VALUE}; the server gives up on a node after 10m)")
    Duration timeout;

    @Mixin
    OutputOption output;

    NodeActionCommand(CliContext ctx, String doing, String did) {
        this.ctx = ctx;
        this.doing = doing;
        this.did = did;
    }

    /** Sends the request. */
    abstract JsonNode send(ApiClient api, NodeRef ref, Duration timeout);

    /** What is printed (table output) once it is done: {@code started node shop/svc in 4.2s} and the node. */
    void done(PrintWriter out, NodeRef ref, NodeView node, long nanos) {
        out.println(did + " node " + ref + " in " + Durations.elapsed(nanos));
        if (node != null) Render.node(out, node);
    }

    @Override
    public Integer call() {
        NodeRef ref = NodeRef.parse(node);
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println(doing + " node " + ref + "…");
        progress.flush();
        long start = System.nanoTime();
        JsonNode json = send(ctx.api(), ref, timeout);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else done(ctx.out(), ref, json.isObject() ? Json.as(json, NodeView.class) : null, System.nanoTime() - start);
        ctx.out().flush();
        return 0;
    }
}
