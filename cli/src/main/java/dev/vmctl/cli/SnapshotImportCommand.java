package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SnapshotView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Add a snapshot from a file made by 'vmctl snapshot export'; the server checks every"
                + " file's SHA-256 before it keeps it.",
                "  vmctl snapshot import web1-warm.tar.zst",
                "  vmctl snapshot import web1-warm.tar.zst --name web1-warm-2"})
final class SnapshotImportCommand implements Callable<Integer> {
    /** The upload and the server's checks of a large archive. */
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "FILE", description = "the archive (tar.zst)")
    Path file;

    @Option(names = "--name", paramLabel = "NAME", description = "the snapshot's name here (default: the name it was exported with)")
    String name;

    @Mixin
    OutputOption output;

    SnapshotImportCommand(CliContext ctx) { this.ctx = ctx; }

    String path() {
        return "/api/v1/snapshots/import" + (name == null ? "" : "?name=" + ApiClient.seg(name));
    }

    @Override
    public Integer call() {
        if (!Files.isRegularFile(file)) {
            throw CliException.failed("cannot read " + file + ": "
                    + (Files.isDirectory(file) ? "it is a directory" : "no such file"), null);
        }
        JsonNode json = ctx.api().postFile(path(), file, "application/zstd", TIMEOUT);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else {
            SnapshotView s = Json.as(json, SnapshotView.class);
            ctx.out().println("imported snapshot " + s.name() + " from " + file);
            Render.snapshot(ctx.out(), s);
        }
        return 0;
    }
}
