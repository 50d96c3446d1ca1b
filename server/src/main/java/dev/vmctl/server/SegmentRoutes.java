package dev.vmctl.server;

import dev.vmctl.engine.Segments;
import io.javalin.http.HandlerType;

/** {@code /api/v1/segments…}: isolated segments and their VPN endpoints. */
final class SegmentRoutes {
    private final Segments segments;

    SegmentRoutes(Segments segments) {
        this.segments = segments;
    }

    /** {@code POST /api/v1/segments/{name}/vpn}: the peer's WireGuard public key. */
    record VpnBody(String peer) {}

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/segments", ctx -> Api.json(ctx, 200, segments.list()));
        r.add(HandlerType.POST, "/api/v1/segments", ctx ->
                Http.answer(ctx, 201, segments.create(Ownership.segmentOwner(ctx, Api.body(ctx, Segments.CreateRequest.class)))));
        r.add(HandlerType.GET, "/api/v1/segments/{name}", ctx -> Api.json(ctx, 200, segments.get(ctx.pathParam("name"))));
        r.add(HandlerType.DELETE, "/api/v1/segments/{name}", ctx -> Http.answer(ctx, 200, segments.delete(ctx.pathParam("name"))));
        r.add(HandlerType.POST, "/api/v1/segments/{name}/vpn", ctx -> {
            VpnBody b = Api.body(ctx, VpnBody.class);
            Http.answer(ctx, 200, segments.vpn(ctx.pathParam("name"), b == null ? null : b.peer()));
        });
    }
}
