package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "vm", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND", description = "Create, run, inspect and remove VMs.",
        subcommands = {VmCreateCommand.class, VmListCommand.class, VmShowCommand.class,
                VmStartCommand.class, VmStopCommand.class, VmRebootCommand.class, VmRemoveCommand.class,
                VmExecCommand.class, VmCopyCommand.class, VmConsoleCommand.class, VmArtifactsCommand.class,
                VmRestoreCommand.class, VmCloneCommand.class, VmMetricsCommand.class, VmTopCommand.class})
final class VmCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
