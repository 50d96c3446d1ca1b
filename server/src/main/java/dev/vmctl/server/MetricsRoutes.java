package dev.vmctl.server;

import dev.vmctl.engine.MetricsService;
import io.javalin.http.HandlerType;

/** {@code GET /metrics} (Prometheus text) and the sampler's windows per VM and per node. */
final class MetricsRoutes {
    private final MetricsService metrics;
    private final PrometheusExport export;

    MetricsRoutes(MetricsService metrics, PrometheusExport export) {
        this.metrics = metrics;
        this.export = export;
    }

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(export.scrape()));
        r.add(HandlerType.GET, "/api/v1/metrics/vms", ctx -> Api.json(ctx, 200, metrics.latest()));
        r.add(HandlerType.GET, "/api/v1/vms/{id}/metrics", ctx ->
                Api.json(ctx, 200, metrics.vm(ctx.pathParam("id"), ctx.queryParam("window"))));
        r.add(HandlerType.GET, "/api/v1/nodes/{topology}/{node}/metrics", ctx ->
                Api.json(ctx, 200, metrics.node(ctx.pathParam("topology"), ctx.pathParam("node"), ctx.queryParam("window"))));
    }
}
