package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "clone", mixinStandardHelpOptions = true,
        description = {"Clone a node from one of its node snapshots into a new node of the same topology.",
                "Every VM of the snapshot becomes a clone TOPOLOGY-NAME-VM with its own host name, machine-id, MACs and"
                        + " addresses, on the node's networks (or those --net names), started in the node's start order."
                        + " On failure nothing of the new node is left. vmctl up -f leaves the clone alone while the file"
                        + " does not list it.",
                "  vmctl node clone shop/svc --snapshot svc-warm --name svc2 --wait",
                "  vmctl node clone shop/svc --snapshot svc-warm --name svc3 --net public=lab-public --wait"})
final class NodeCloneCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "TOPOLOGY/NODE", description = "the node the snapshot is of, e.g. shop/svc")
    String node;

    @Option(names = "--snapshot", required = true, paramLabel = "SNAPSHOT", description = "a node snapshot of that node (vmctl node snapshot)")
    String snapshot;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "the new node's name (its VMs are TOPOLOGY-NAME-VM)")
    String name;

    @Option(names = "--net", paramLabel = "OLD=NEW",
            description = "put the NICs the node has on network OLD (its name in the file) on network NEW of the server instead; repeatable")
    Map<String, String> nets = new LinkedHashMap<>();

    @Option(names = "--wait", description = "wait until every VM of the new node is RUNNING")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.Converter.class,
            description = "how long --wait waits (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    NodeCloneCommand(CliContext ctx) { this.ctx = ctx; }

    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("snapshot", snapshot);
        body.put("name", name);
        if (!nets.isEmpty()) body.put("nets", nets);
        return body;
    }

    @Override
    public Integer call() {
        NodeRef ref = NodeRef.parse(node);
        if (timeout.isZero() || timeout.isNegative() || timeout.compareTo(Duration.ofHours(1)) > 0) {
            throw CliException.usage("--timeout must be between 1s and 1h (got " + Durations.format(timeout) + ")");
        }
        NodeRef target = new NodeRef(ref.topology(), name);
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println("cloning node " + ref + " as " + target + " from snapshot " + snapshot + "…");
        progress.flush();
        long start = System.nanoTime();
        String path = ref.path() + "/clone" + (wait ? "?wait=true&timeout=" + Math.max(1, timeout.toSeconds()) : "");
        JsonNode json = ctx.api().post(path, body(), wait ? timeout.plusSeconds(30) : VmCloneCommand.REQUEST_TIMEOUT);
        NodeView n = json.isObject() ? Json.as(json, NodeView.class) : null;
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ctx.out().println(wait ? "cloned node " + ref + " as " + target + " in " + Durations.elapsed(System.nanoTime() - start)
                    : "node " + target + " is being created (vmctl node show " + target + ")");
            if (n != null) Render.node(ctx.out(), n);
        }
        ctx.out().flush();
        if (wait && n != null && !"RUNNING".equals(n.state())) {
            throw CliException.failed("node " + target + " is " + n.state() + ", not RUNNING, after " + Durations.format(timeout),
                    "vmctl node show " + target);
        }
        return 0;
    }
}
