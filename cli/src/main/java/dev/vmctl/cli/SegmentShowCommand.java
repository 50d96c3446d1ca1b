package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SegmentView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show one segment: owner, TTL, namespace, its networks, routers, VMs and topologies, and its VPN.")
final class SegmentShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the segment's name or id")
    String name;

    @Mixin
    OutputOption output;

    SegmentShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/segments/" + ApiClient.seg(name));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        SegmentView s = Json.as(json, SegmentView.class);
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", s.name());
        f.put("id", s.id());
        f.put("owner", s.owner() == null ? "-" : s.owner());
        f.put("subnet", s.subnet());
        f.put("gateway", s.gateway() == null ? "none (no --router)" : s.gateway());
        f.put("namespace", s.netns());
        f.put("bridge", s.bridge());
        f.put("ttl", s.ttlSeconds() == null ? "none" : s.ttlSeconds() + " s, expires " + Render.time(s.expiresAt()));
        f.put("created", Render.time(s.createdAt()));
        f.put("networks", Render.joined(s.networks()));
        f.put("routers", Render.joined(s.routers()));
        f.put("vms", Render.joined(s.vms()));
        f.put("topologies", Render.joined(s.topologies()));
        if (s.vpn() == null) {
            f.put("vpn", "none (vmctl segment vpn " + s.name() + " --peer PUBKEY)");
        } else {
            f.put("vpn", s.vpn().mechanism() + " on " + s.vpn().endpoint() + ", tunnel " + s.vpn().tunnel() + ", server key " + s.vpn().publicKey());
        }
        Render.keyValues(ctx.out(), f, "");
        if (s.vpn() != null && !s.vpn().peers().isEmpty()) {
            ctx.out().println("vpn peers:");
            Table t = new Table("PUBLIC KEY", "ADDRESS");
            for (SegmentView.Peer p : s.vpn().peers()) t.row(p.publicKey(), p.address());
            t.print(ctx.out(), "  ");
        }
        ctx.out().flush();
        return 0;
    }
}
