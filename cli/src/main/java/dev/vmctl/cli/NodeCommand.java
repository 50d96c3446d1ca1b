package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "node", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "List, start, stop, snapshot, restore, clone and remove nodes: the groups of VMs of a topology, handled as one (TOPOLOGY/NODE).",
        subcommands = {NodeListCommand.class, NodeShowCommand.class, NodeStartCommand.class, NodeStopCommand.class,
                NodeSnapshotCommand.class, NodeRestoreCommand.class, NodeCloneCommand.class,
                NodeRemoveCommand.class})
final class NodeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
