package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SnapshotView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the snapshots.")
final class SnapshotListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    SnapshotListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/snapshots");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "VM", "IMAGE", "MEMORY", "RAM", "SIZE", "CLONES", "CREATED");
        for (SnapshotView s : Json.listOf(json, SnapshotView.class)) {
            t.row(s.name(), s.vm(), s.image(), Render.memory(s.memoryMiB()), Render.ram(s), Render.bytes(s.sizeBytes()), s.clones().size(), Render.time(s.createdAt()));
        }
        t.print(ctx.out());
        return 0;
    }
}
