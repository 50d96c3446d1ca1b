package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "artifact", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "The host's artifact cache: fetch a source into it, list it, remove an entry.",
        subcommands = {ArtifactFetchCommand.class, ArtifactListCommand.class, ArtifactRemoveCommand.class})
final class ArtifactCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
