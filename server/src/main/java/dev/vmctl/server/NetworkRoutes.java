package dev.vmctl.server;

import dev.vmctl.engine.NetService;
import dev.vmctl.engine.Networks;
import io.javalin.http.HandlerType;

import java.util.List;

/** {@code /api/v1/networks…} and {@code /api/v1/routers…}. */
final class NetworkRoutes {
    private final Networks networks;

    NetworkRoutes(Networks networks) {
        this.networks = networks;
    }

    record NetworkBody(String name, String subnet, Integer vlan) {}

    record RouterBody(String name, List<String> networks, List<NetService.RouteSpec> routes) {}

    void register(Http.Routes r) {
        NetService net = networks.net();
        r.add(HandlerType.GET, "/api/v1/networks", ctx -> Api.json(ctx, 200, net.networks()));
        r.add(HandlerType.POST, "/api/v1/networks", ctx -> {
            NetworkBody b = Api.body(ctx, NetworkBody.class);
            Http.answer(ctx, 201, networks.createNetwork(b.name(), b.subnet(), b.vlan()));
        });
        r.add(HandlerType.GET, "/api/v1/networks/{name}", ctx -> Api.json(ctx, 200, net.network(ctx.pathParam("name"))));
        r.add(HandlerType.DELETE, "/api/v1/networks/{name}", ctx -> Http.answer(ctx, 200, networks.deleteNetwork(ctx.pathParam("name"))));
        r.add(HandlerType.GET, "/api/v1/routers", ctx -> Api.json(ctx, 200, net.routers()));
        r.add(HandlerType.POST, "/api/v1/routers", ctx -> {
            RouterBody b = Api.body(ctx, RouterBody.class);
            Http.answer(ctx, 201, networks.createRouter(b.name(), b.networks(), b.routes()));
        });
        r.add(HandlerType.GET, "/api/v1/routers/{name}", ctx -> Api.json(ctx, 200, net.router(ctx.pathParam("name"))));
        r.add(HandlerType.DELETE, "/api/v1/routers/{name}", ctx -> Http.answer(ctx, 200, networks.deleteRouter(ctx.pathParam("name"))));
    }
}
