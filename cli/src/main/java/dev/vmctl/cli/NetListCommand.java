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
        java.util.List<NetworkView> nets = Json.listOf(json, NetworkView.class);
        // a SEGMENT column only when a network lives in an isolated segment (the same subnet may then appear twice)
        boolean segments = nets.stream().anyMatch(n -> n.segment() != null);
        Table t = segments ? new Table("NAME", "SUBNET", "GATEWAY", "VLAN", "ROUTERS", "VMS", "SEGMENT")
                : new Table("NAME", "SUBNET", "GATEWAY", "VLAN", "ROUTERS", "VMS");
        for (NetworkView n : nets) {
            String vms = Render.joined(n.attachments().stream().map(NetworkView.Attachment::vm).distinct().toList());
            if (segments) t.row(n.name(), n.subnet(), n.gateway(), n.vlan(), Render.joined(n.routers()), vms, n.segment() == null ? "-" : n.segment());
            else t.row(n.name(), n.subnet(), n.gateway(), n.vlan(), Render.joined(n.routers()), vms);
        }
        t.print(ctx.out());
        return 0;
    }
}
