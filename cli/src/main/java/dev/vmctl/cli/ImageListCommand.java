package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ImageInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the built images.")
final class ImageListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    ImageListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/images");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "OS", "KERNEL", "SIZE", "BUILT");
        for (ImageInfo i : Json.listOf(json, ImageInfo.class)) {
            t.row(i.name(), i.os(), i.kernelVersion(), Render.bytes(i.sizeBytes()), Render.time(i.builtAt()));
        }
        t.print(ctx.out());
        return 0;
    }
}
