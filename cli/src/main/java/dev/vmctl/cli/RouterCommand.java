package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "router", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "Create, list, inspect and remove routers (L3 forwarding between networks, static routes).",
        subcommands = {RouterCreateCommand.class, RouterListCommand.class, RouterShowCommand.class,
                RouterRemoveCommand.class})
final class RouterCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
