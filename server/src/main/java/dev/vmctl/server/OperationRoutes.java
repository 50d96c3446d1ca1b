package dev.vmctl.server;

import dev.vmctl.engine.VmService;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.OperationState;
import io.javalin.http.HandlerType;

import java.time.Duration;

/** {@code /api/v1/operations}: list (filters target, state, kind), one (long-poll with ?wait=SECONDS), cancel. */
final class OperationRoutes {
    private final Operations ops;
    private final VmService vms;

    OperationRoutes(Operations ops, VmService vms) {
        this.ops = ops;
        this.vms = vms;
    }

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/operations", ctx -> {
            String state = ctx.queryParam("state");
            if (state != null) OperationState.parse("state", state);
            int limit = Http.intParam(ctx, "limit", 200, 1, 10_000);
            String target = ctx.queryParam("target");
            if (target != null && !target.contains(":")) {
                // a VM's name means its lane (vm:ID)
                try {
                    target = "vm:" + vms.idOf(target);
                } catch (RuntimeException notAVm) {
                    // a bare network/topology/snapshot name matches any target with that id part
                }
            }
            Api.json(ctx, 200, ops.list(target, state, ctx.queryParam("kind"), limit));
        });
        r.add(HandlerType.GET, "/api/v1/operations/{id}", ctx -> {
            String w = ctx.queryParam("wait");
            int wait = "true".equals(w) ? 300 : "false".equals(w) ? 0 : Http.intParam(ctx, "wait", 0, 0, 300);
            String id = ctx.pathParam("id");
            Api.json(ctx, 200, wait == 0 ? ops.get(id) : ops.await(id, Duration.ofSeconds(wait)));
        });
        r.add(HandlerType.POST, "/api/v1/operations/{id}/cancel", ctx -> Api.json(ctx, 200, ops.cancel(ctx.pathParam("id"))));
    }
}
