package dev.vmctl.server;

import dev.vmctl.engine.ArtifactService;
import dev.vmctl.model.ArtifactSpec;
import io.javalin.http.HandlerType;

/**
 * {@code /api/v1/artifacts}: the host's artifact cache ({@code GET}), a fetch into it ({@code POST}, operation
 * artifact.fetch) and the removal of an entry ({@code DELETE /api/v1/artifacts/{sha256}}, operation artifact.delete).
 */
final class ArtifactRoutes {
    private final ArtifactService artifacts;

    ArtifactRoutes(ArtifactService artifacts) {
        this.artifacts = artifacts;
    }

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/artifacts", ctx -> Api.json(ctx, 200, artifacts.list()));
        r.add(HandlerType.POST, "/api/v1/artifacts", ctx -> Http.answer(ctx, 200, artifacts.fetch(Api.body(ctx, ArtifactSpec.class))));
        r.add(HandlerType.DELETE, "/api/v1/artifacts/{sha256}", ctx -> Http.answer(ctx, 200, artifacts.remove(ctx.pathParam("sha256"))));
    }
}
