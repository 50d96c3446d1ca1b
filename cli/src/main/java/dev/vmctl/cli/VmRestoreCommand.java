package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Map;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Roll a VM back to a snapshot; waits until it is RUNNING again unless --no-wait.",
                "Memory, device state and disk come back as they were when the snapshot was taken.",
                "  vmctl vm restore web1 --snapshot web1-warm"})
final class VmRestoreCommand extends VmActionCommand {
    /** The server checks the snapshot's files (SHA-256) before it answers. */
    static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);

    @Option(names = "--snapshot", required = true, paramLabel = "SNAPSHOT", description = "the snapshot to restore")
    String snapshot;

    VmRestoreCommand(CliContext ctx) { super(ctx, "restore", VmWaiter.Goal.RESTORE, "restoring"); }

    @Override
    Object body() {
        return Map.of("snapshot", snapshot);
    }

    @Override
    Duration requestTimeout() {
        return REQUEST_TIMEOUT;
    }
}
