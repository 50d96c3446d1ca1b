package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = "Remove a NIC from a VM (on a running VM a PCIe unplug: several seconds).")
final class NicRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "VM", description = "the VM's name or id")
    String vm;

    @Parameters(index = "1", paramLabel = "NIC", description = "the NIC's name: eth0, eth1, …")
    String nic;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.Converter.class,
            description = "how long to wait for the server (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    NicRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println("removing NIC " + nic + " from " + vm + "… (PCIe unplug takes a few seconds)");
        progress.flush();
        long start = System.nanoTime();
        JsonNode json = ctx.api().delete(LinkPatchCommand.path(vm, nic), timeout);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ctx.out().println("removed " + nic + " from " + vm + " in " + Durations.elapsed(System.nanoTime() - start));
        ctx.out().flush();
        return 0;
    }
}
