package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ImageInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "build", mixinStandardHelpOptions = true, description = "Build an image on the server (kernel, initramfs, rootfs); takes seconds to a minute.")
final class ImageBuildCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the image to build, e.g. tiny")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "15m", converter = Durations.Converter.class,
            description = "how long to wait for the build (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    ImageBuildCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println("building image " + name + "…");
        progress.flush();
        long start = System.nanoTime();
        JsonNode json = ctx.api().post("/api/v1/images/" + ApiClient.seg(name) + "/build", null, timeout);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ctx.out().println("built image " + name + " in " + Durations.elapsed(System.nanoTime() - start));
            Render.image(ctx.out(), Json.as(json, ImageInfo.class));
        }
        return 0;
    }
}
