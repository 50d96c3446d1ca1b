package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "image", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "Build, list and show guest images (and their boot snapshots).",
        subcommands = {ImageBuildCommand.class, ImageImportCommand.class, ImageListCommand.class, ImageShowCommand.class, ImageRemoveCommand.class})
final class ImageCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
