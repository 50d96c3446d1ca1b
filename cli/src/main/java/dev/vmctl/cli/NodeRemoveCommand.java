package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.NodeVm;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.time.Duration;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = "Destroy every VM of a node (its networks stay with the topology; vmctl down removes them).")
final class NodeRemoveCommand extends NodeActionCommand {
    NodeRemoveCommand(CliContext ctx) { super(ctx, "removing", "removed"); }

    @Override
    JsonNode send(ApiClient api, NodeRef ref, Duration timeout) {
        return api.delete(ref.path(), timeout);
    }

    /** The server answers with the node as it was: name what is gone. */
    @Override
    void done(PrintWriter out, NodeRef ref, NodeView node, long nanos) {
        if (node == null || node.vms().isEmpty()) {
            out.println("removed node " + ref);
            return;
        }
        out.println("removed node " + ref + " (" + node.vms().size() + " VM" + (node.vms().size() == 1 ? "" : "s")
                + ": " + Render.joined(node.vms().stream().map(NodeVm::name).toList()) + ")");
    }
}
