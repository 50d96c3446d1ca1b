package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "user", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Users of the server and their tokens (admins only). Each user has one token, shown once when it is issued;"
                + " role admin may do everything, role user everything but managing users.",
                "  vmctl user add alice --role user     # prints alice's token",
                "  vmctl user ls",
                "  vmctl user rm alice"},
        subcommands = {UserAddCommand.class, UserListCommand.class, UserRemoveCommand.class})
final class UserCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
