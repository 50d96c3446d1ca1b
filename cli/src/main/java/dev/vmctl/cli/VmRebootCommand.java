package dev.vmctl.cli;

import picocli.CommandLine.Command;

@Command(name = "reboot", mixinStandardHelpOptions = true, description = "Reboot a VM; waits until it is RUNNING again unless --no-wait.")
final class VmRebootCommand extends VmActionCommand {
    VmRebootCommand(CliContext ctx) { super(ctx, "reboot", VmWaiter.Goal.REBOOT, "rebooting"); }
}
