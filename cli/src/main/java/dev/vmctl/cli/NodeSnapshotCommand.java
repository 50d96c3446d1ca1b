package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeSnapshotView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = "Snapshot every VM of a node at the same moment (all paused, saved, resumed); VM snapshots are NAME-VM.")
final class NodeSnapshotCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "TOPOLOGY/NODE", description = "the node, e.g. shop/svc")
    String node;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "the node snapshot's name")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.Converter.class,
            description = "how long to wait for the server (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    NodeSnapshotCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        NodeRef ref = NodeRef.parse(node);
        long start = System.nanoTime();
        JsonNode json = ctx.api().post(ref.path() + "/snapshot", Map.of("name", name), timeout);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ctx.out().println("snapshot " + name + " of node " + ref + " in " + Durations.elapsed(System.nanoTime() - start) + ":");
            Json.as(json, NodeSnapshotView.class).members()
                    .forEach((vm, snapshot) -> ctx.out().println("  " + vm + "  →  snapshot " + snapshot));
        }
        ctx.out().flush();
        return 0;
    }
}
