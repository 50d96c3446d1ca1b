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

    @Parameters(index = "0", paramLabel = "NAME", description = "the image to build: tiny, debian-12, debian-13")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60m", converter = Durations.Converter.class,
            description = "how long to wait for the build (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = "--kernel", paramLabel = "KERNEL", defaultValue = "vmctl",
            description = "vmctl (a minimal kernel built from Debian's linux-source, cached; the first build takes minutes)"
                    + " or debian (Debian's cloud kernel); default ${DEFAULT-VALUE}")
    String kernel;

    @Option(names = "--packages", paramLabel = "PKG,PKG", description = "Debian images: extra packages, e.g. curl,nginx")
    String packages;

    @Option(names = "--size", paramLabel = "SIZE", description = "Debian images: size of the root file system, e.g. 2G"
            + " (default: what the packages need plus a margin)")
    String size;

    @Mixin
    OutputOption output;

    ImageBuildCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println("building image " + name + "…");
        progress.flush();
        long start = System.nanoTime();
        Thread follower = followProgress(progress);
        JsonNode json;
        try {
            String query = "?kernel=" + ApiClient.seg(kernel)
                    + (packages == null ? "" : "&packages=" + ApiClient.seg(packages))
                    + (size == null ? "" : "&size=" + ApiClient.seg(size));
            json = ctx.api().post("/api/v1/images/" + ApiClient.seg(name) + "/build" + query, null, timeout);
        } finally {
            if (follower != null) follower.interrupt();
        }
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ctx.out().println("built image " + name + " in " + Durations.elapsed(System.nanoTime() - start));
            Render.image(ctx.out(), Json.as(json, ImageInfo.class));
        }
        return 0;
    }

    /** Prints the server's image.progress events for this image while the build runs (best effort). */
    private Thread followProgress(PrintWriter progress) {
        java.io.InputStream in;
        try {
            in = ctx.api().stream("/api/v1/events", "text/event-stream", null);
        } catch (RuntimeException e) {
            return null;
        }
        return Thread.ofVirtual().start(() -> {
            try (in; var r = new java.io.BufferedReader(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))) {
                String line;
                while (!Thread.currentThread().isInterrupted() && (line = r.readLine()) != null) {
                    if (!line.startsWith("data:")) continue;
                    JsonNode e = Json.parse(line.substring(5).trim());
                    if (e.path("type").asText().startsWith("image.") && name.equals(e.path("name").asText())
                            && !e.path("type").asText().equals("image.built")) {
                        synchronized (progress) {
                            progress.println("  " + e.path("message").asText());
                            progress.flush();
                        }
                    }
                }
            } catch (Exception ignored) {
                // the stream ends with the command
            }
        });
    }
}
