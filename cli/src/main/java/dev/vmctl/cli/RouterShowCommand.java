package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.RouterView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show one router: its namespace, its address on each network, its routes.")
final class RouterShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the router's name or id")
    String name;

    @Mixin
    OutputOption output;

    RouterShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/routers/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.router(ctx.out(), Json.as(json, RouterView.class));
        return 0;
    }
}
