package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NetworkView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the networks.")
final class NetListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    NetListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/networks");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "SUBNET", "GATEWAY", "VLAN", "ROUTERS", "VMS");
        for (NetworkView n : Json.listOf(json, NetworkView.class)) {
            t.row(n.name(), n.subnet(), n.gateway(), n.vlan(), Render.joined(n.routers()),
                    Render.joined(n.attachments().stream().map(NetworkView.Attachment::vm).distinct().toList()));
        }
        t.print(ctx.out());
        return 0;
    }
}
