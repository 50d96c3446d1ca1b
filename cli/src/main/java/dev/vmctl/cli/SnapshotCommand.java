package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "snapshot", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Save, list, inspect, export, import and remove VM snapshots.",
                "A snapshot holds a running VM's memory, device state and disk. Roll a VM back to one with"
                        + " 'vmctl vm restore', stamp out copies with 'vmctl vm clone'."},
        subcommands = {SnapshotCreateCommand.class, SnapshotListCommand.class, SnapshotShowCommand.class,
                SnapshotRemoveCommand.class, SnapshotExportCommand.class, SnapshotImportCommand.class})
final class SnapshotCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
