package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

import java.time.Duration;

@Command(name = "stop", mixinStandardHelpOptions = true,
        description = "Stop every VM of a node, in reverse start order; returns when all are stopped.")
final class NodeStopCommand extends NodeActionCommand {
    NodeStopCommand(CliContext ctx) { super(ctx, "stopping", "stopped"); }

    @Override
    JsonNode send(ApiClient api, NodeRef ref, Duration timeout) {
        return api.post(ref.path() + "/stop", null, timeout);
    }
}
