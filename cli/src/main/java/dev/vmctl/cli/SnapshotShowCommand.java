package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SnapshotView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show one snapshot: the VM it was taken of, its RAM mode, files and checksums, and its clones.")
final class SnapshotShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the snapshot's name")
    String name;

    @Mixin
    OutputOption output;

    SnapshotShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/snapshots/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.snapshot(ctx.out(), Json.as(json, SnapshotView.class));
        return 0;
    }
}
