package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = "Remove an image (refused while VMs or snapshots use it; the kernel and rootfs caches stay).")
final class ImageRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the image's name")
    String name;

    @Mixin
    OutputOption output;

    ImageRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().delete("/api/v1/images/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ctx.out().println("removed image " + name);
        ctx.out().flush();
        return 0;
    }
}
