package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SegmentView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create an isolated segment: its own network namespace and a network of its name.",
                "  vmctl segment create lab1",
                "  vmctl segment create lab2 --subnet 198.18.0.0/24 --owner bob --ttl 10m --router"})
final class SegmentCreateCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "lower-case letters, digits and '-'; also its network's name")
    String name;

    @Option(names = "--owner", paramLabel = "USER", description = "the vmctl user it is for (default: the caller, the user of the token; only admins may name another)")
    String owner;

    @Option(names = "--subnet", paramLabel = "CIDR", description = "its network's subnet (default 198.18.0.0/24; may overlap other segments')")
    String subnet;

    @Option(names = "--ttl", paramLabel = "DURATION", description = "remove it this long after creation, e.g. 30s, 10m, 2h (1s to 30d)")
    String ttl;

    @Option(names = "--router", description = "the segment's namespace is its network's gateway (first host address)")
    boolean router;

    @Mixin
    OutputOption output;

    SegmentCreateCommand(CliContext ctx) { this.ctx = ctx; }

    /** Only what the user gave (no --owner: the server makes the caller, the user of the token, the owner). */
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        if (owner != null && !owner.isBlank()) body.put("owner", owner);
        if (subnet != null) body.put("subnet", subnet);
        if (ttl != null) body.put("ttl", ttl);
        if (router) body.put("router", true);
        return body;
    }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/segments", body(), ApiClient.DEFAULT_TIMEOUT);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            SegmentView s = Json.as(json, SegmentView.class);
            ctx.out().println("created segment " + s.name() + ": " + s.subnet() + (s.gateway() == null ? "" : ", gateway " + s.gateway())
                    + ", namespace " + s.netns() + (s.expiresAt() == null ? "" : ", expires " + Render.time(s.expiresAt())));
            ctx.out().flush();
        }
        return 0;
    }
}
