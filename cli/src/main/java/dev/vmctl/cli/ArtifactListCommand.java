package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ArtifactView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the server's artifact cache (newest first).")
final class ArtifactListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    ArtifactListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/artifacts");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("SHA256", "TYPE", "NAME", "SIZE", "SOURCES", "FETCHED");
        for (ArtifactView a : Json.listOf(json, ArtifactView.class)) {
            t.row(a.sha256().substring(0, 12), a.type(), a.name(), Render.bytes(a.size()), String.join(" ", a.sources())
                    + (a.commit() == null ? "" : " (commit " + a.commit().substring(0, 12) + ")"), Render.time(a.fetchedAt()));
        }
        t.print(ctx.out());
        return 0;
    }
}
