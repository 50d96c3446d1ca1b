package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NetworkView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show one network: subnet, gateway, VLAN and how it is realised, routers, and the VM NICs on it.")
final class NetShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the network's name or id")
    String name;

    @Mixin
    OutputOption output;

    NetShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/networks/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.network(ctx.out(), Json.as(json, NetworkView.class));
        return 0;
    }
}
