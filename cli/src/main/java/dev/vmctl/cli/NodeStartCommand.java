package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

import java.time.Duration;

@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Start every VM of a node in its start order; returns when all are RUNNING.")
final class NodeStartCommand extends NodeActionCommand {
    NodeStartCommand(CliContext ctx) { super(ctx, "starting", "started"); }

    @Override
    JsonNode send(ApiClient api, NodeRef ref, Duration timeout) {
        return api.post(ref.path() + "/start", null, timeout);
    }
}
