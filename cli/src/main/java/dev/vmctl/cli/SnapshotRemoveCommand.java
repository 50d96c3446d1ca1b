package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = "Remove a snapshot (refused while VMs cloned from it exist).")
final class SnapshotRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the snapshot's name")
    String name;

    @Mixin
    OutputOption output;

    SnapshotRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().delete("/api/v1/snapshots/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ctx.out().println("removed snapshot " + name);
        ctx.out().flush();
        return 0;
    }
}
