package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "op", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"List, show, wait for and cancel operations: every mutating call is one, run one at a time per",
                "resource (VM, node, network, topology) in arrival order."},
        subcommands = {OpListCommand.class, OpShowCommand.class, OpWaitCommand.class, OpCancelCommand.class})
final class OpCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
