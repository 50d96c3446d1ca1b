package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.RouterView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create a router joining networks; it takes each network's gateway address and forwards between them.",
                "  vmctl router create r1 --net front --net back",
                "  vmctl router create r2 --net back --net lab --route 10.0.0.0/8=198.18.30.9"})
final class RouterCreateCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "lower-case letters, digits and '-'")
    String name;

    @Option(names = "--net", required = true, paramLabel = "NET", description = "a network to join (repeatable)")
    List<String> networks = new ArrayList<>();

    @Option(names = "--route", paramLabel = "CIDR=VIA", converter = NetOptions.RouteConverter.class,
            description = "a static route: traffic to CIDR goes via the gateway VIA (repeatable)")
    List<NetOptions.RouteSpec> routes = new ArrayList<>();

    @Mixin
    OutputOption output;

    RouterCreateCommand(CliContext ctx) { this.ctx = ctx; }

    /** routes only when --route was given. */
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("networks", networks);
        if (!routes.isEmpty()) body.put("routes", routes.stream().map(NetOptions.RouteSpec::json).toList());
        return body;
    }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/routers", body(), ApiClient.DEFAULT_TIMEOUT);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        RouterView r = Json.as(json, RouterView.class);
        List<String> ports = r.networks().stream().map(p -> p.network() + " " + p.address()).toList();
        ctx.out().println("created router " + r.name() + ": " + (ports.isEmpty() ? "no networks" : String.join(", ", ports)));
        for (RouterView.Route rt : r.routes()) ctx.out().println("  route " + rt.to() + " via " + rt.via());
        ctx.out().flush();
        return 0;
    }
}
