package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "link", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "Live link operations on a VM's NIC: down/up, impair (delay, loss, rate, …), clear, move to another network.",
        subcommands = {LinkDownCommand.class, LinkUpCommand.class, LinkImpairCommand.class, LinkClearCommand.class,
                LinkMoveCommand.class, LinkShowCommand.class})
final class LinkCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
