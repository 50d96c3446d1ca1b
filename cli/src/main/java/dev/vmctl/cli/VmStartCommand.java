package dev.vmctl.cli;

import picocli.CommandLine.Command;

@Command(name = "start", mixinStandardHelpOptions = true, description = "Boot a VM; waits until it is RUNNING unless --no-wait.")
final class VmStartCommand extends VmActionCommand {
    VmStartCommand(CliContext ctx) { super(ctx, "start", VmWaiter.Goal.START, "booting"); }
}
