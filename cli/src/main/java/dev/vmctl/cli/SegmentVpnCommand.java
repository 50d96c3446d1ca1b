package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SegmentVpnView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "vpn", mixinStandardHelpOptions = true,
        description = {"Let a WireGuard peer into this segment only (the endpoint starts with the first peer); prints the"
                + " peer's client configuration (wg-quick; fill in its private key).",
                "  wg genkey | tee client.key | wg pubkey        # on the client",
                "  vmctl segment vpn lab1 --peer PUBKEY > lab1.conf"})
final class SegmentVpnCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the segment's name or id")
    String name;

    @Option(names = "--peer", required = true, paramLabel = "PUBKEY", description = "the client's WireGuard public key (wg pubkey)")
    String peer;

    @Mixin
    OutputOption output;

    SegmentVpnCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/segments/" + ApiClient.seg(name) + "/vpn", Map.of("peer", peer), ApiClient.DEFAULT_TIMEOUT);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ctx.out().print(Json.as(json, SegmentVpnView.class).config());
        }
        ctx.out().flush();
        return 0;
    }
}
