package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Map;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Roll every VM of a node back to a node snapshot (vmctl node snapshot); returns when all are RUNNING.")
final class NodeRestoreCommand extends NodeActionCommand {
    @Option(names = "--snapshot", required = true, paramLabel = "NAME", description = "the node snapshot")
    String snapshot;

    NodeRestoreCommand(CliContext ctx) { super(ctx, "restoring", "restored"); }

    @Override
    JsonNode send(ApiClient api, NodeRef ref, Duration timeout) {
        return api.post(ref.path() + "/restore", Map.of("snapshot", snapshot), timeout);
    }
}
