package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.RouterView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the routers.")
final class RouterListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    RouterListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/routers");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "NETWORKS", "ADDRESSES", "ROUTES", "CREATED");
        for (RouterView r : Json.listOf(json, RouterView.class)) {
            t.row(r.name(),
                    Render.joined(r.networks().stream().map(RouterView.Leg::network).toList()),
                    Render.joined(r.networks().stream().map(RouterView.Leg::address).toList()),
                    r.routes().size(),
                    Render.time(r.createdAt()));
        }
        t.print(ctx.out());
        return 0;
    }
}
