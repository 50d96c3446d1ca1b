package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove", description = "Destroy a VM and its disk.")
final class VmRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name or id")
    String name;

    @Option(names = {"-f", "--force"}, description = "also destroy a VM that is running or booting")
    boolean force;

    @Mixin
    OutputOption output;

    VmRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().delete("/api/v1/vms/" + ApiClient.seg(name) + "?force=" + force);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ctx.out().println("removed " + name);
        return 0;
    }
}
