package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SegmentView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the isolated segments.")
final class SegmentListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    SegmentListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/segments");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "OWNER", "SUBNET", "GATEWAY", "EXPIRES", "VMS", "VPN PEERS");
        for (SegmentView s : Json.listOf(json, SegmentView.class)) {
            t.row(s.name(), s.owner() == null ? "-" : s.owner(), s.subnet(), s.gateway() == null ? "-" : s.gateway(),
                    Render.time(s.expiresAt()), Render.joined(s.vms()), s.vpn() == null ? "-" : String.valueOf(s.vpn().peers().size()));
        }
        t.print(ctx.out());
        return 0;
    }
}
