package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "nic", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "Add a NIC to a VM or remove one (hot-plug on a running VM).",
        subcommands = {NicAddCommand.class, NicRemoveCommand.class})
final class NicCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
