package dev.vmctl.cli;

import picocli.CommandLine.Command;

@Command(name = "stop", mixinStandardHelpOptions = true, description = "Shut a VM down; waits until it is STOPPED unless --no-wait.")
final class VmStopCommand extends VmActionCommand {
    VmStopCommand(CliContext ctx) { super(ctx, "stop", VmWaiter.Goal.STOP, "stopping"); }
}
