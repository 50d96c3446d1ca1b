package dev.vmctl.server;

import dev.vmctl.engine.TopologyService;
import dev.vmctl.model.VmctlException;
import dev.vmctl.topology.TopologySpec;
import io.javalin.http.HandlerType;

import java.nio.charset.StandardCharsets;

/** {@code /api/v1/topologies…}, {@code /api/v1/nodes…} and the topology JSON Schema. */
final class TopologyRoutes {
    private final TopologyService topologies;

    TopologyRoutes(TopologyService topologies) {
        this.topologies = topologies;
    }

    /** {@code POST /api/v1/nodes/{topology}/{node}/clone}: nets maps a network of the node to another network of the server. */
    record CloneNodeBody(String snapshot, String name, java.util.Map<String, String> nets) {}

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/topologies", ctx -> Api.json(ctx, 200, topologies.topologies()));
        r.add(HandlerType.POST, "/api/v1/topologies", ctx -> {
            boolean dryRun = Http.bool(ctx, "dryRun");
            boolean rollback = Http.bool(ctx, "rollbackOnError");
            String text = ctx.body();
            if (text.isBlank()) throw VmctlException.invalid("body", "empty", "a topology file (YAML or JSON), see /api/v1/topology.schema.json");
            Http.answer(ctx, 200, topologies.apply(text, ctx.queryParam("file"), ctx.queryParam("base"), dryRun, rollback, ctx.queryParam("segment")));
        });
        r.add(HandlerType.GET, "/api/v1/topologies/{name}", ctx -> Api.json(ctx, 200, topologies.view(ctx.pathParam("name"))));
        r.add(HandlerType.DELETE, "/api/v1/topologies/{name}", ctx -> Http.answer(ctx, 200, topologies.down(ctx.pathParam("name"))));
        r.add(HandlerType.GET, "/api/v1/topology.schema.json", ctx -> ctx.contentType("application/schema+json")
                .result(new String(TopologySpec.class.getResourceAsStream("topology.schema.json").readAllBytes(), StandardCharsets.UTF_8)));
        r.add(HandlerType.GET, "/api/v1/nodes", ctx -> Api.json(ctx, 200, topologies.allNodes()));
        r.add(HandlerType.GET, "/api/v1/nodes/{topology}/{node}", ctx ->
                Api.json(ctx, 200, topologies.node(ctx.pathParam("topology"), ctx.pathParam("node"))));
        r.add(HandlerType.POST, "/api/v1/nodes/{topology}/{node}/start", ctx ->
                Http.answer(ctx, 200, topologies.startNode(ctx.pathParam("topology"), ctx.pathParam("node"))));
        r.add(HandlerType.POST, "/api/v1/nodes/{topology}/{node}/stop", ctx ->
                Http.answer(ctx, 200, topologies.stopNode(ctx.pathParam("topology"), ctx.pathParam("node"))));
        r.add(HandlerType.POST, "/api/v1/nodes/{topology}/{node}/snapshot", ctx -> {
            SnapshotRoutes.SnapshotBody b = Api.body(ctx, SnapshotRoutes.SnapshotBody.class);
            Http.answer(ctx, 201, topologies.snapshotNode(ctx.pathParam("topology"), ctx.pathParam("node"), b.name()));
        });
        r.add(HandlerType.POST, "/api/v1/nodes/{topology}/{node}/restore", ctx -> {
            SnapshotRoutes.RestoreBody b = Api.body(ctx, SnapshotRoutes.RestoreBody.class);
            if (b.snapshot() == null) throw VmctlException.invalid("snapshot", "missing", "the name of a node snapshot");
            Http.answer(ctx, 200, topologies.restoreNode(ctx.pathParam("topology"), ctx.pathParam("node"), b.snapshot()));
        });
        r.add(HandlerType.POST, "/api/v1/nodes/{topology}/{node}/clone", ctx -> {
            boolean wait = Http.bool(ctx, "wait");
            java.time.Duration timeout = Http.timeout(ctx);
            CloneNodeBody b = Api.body(ctx, CloneNodeBody.class);
            Http.answer(ctx, 201, topologies.cloneNode(ctx.pathParam("topology"), ctx.pathParam("node"),
                    new TopologyService.CloneNodeRequest(b.snapshot(), b.name(), b.nets()), wait ? timeout : null));
        });
        r.add(HandlerType.DELETE, "/api/v1/nodes/{topology}/{node}", ctx ->
                Http.answer(ctx, 200, topologies.removeNode(ctx.pathParam("topology"), ctx.pathParam("node"))));
    }
}
