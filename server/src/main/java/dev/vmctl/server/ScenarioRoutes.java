package dev.vmctl.server;

import dev.vmctl.engine.scenario.ScenarioService;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.ScenarioReports;
import dev.vmctl.scenario.ScenarioSpec;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * {@code /api/v1/scenarios…} (saved files, validation), {@code /api/v1/scenario-runs…} (runs, journals,
 * reports, abort), {@code /api/v1/heal} and the scenario JSON Schema.
 */
final class ScenarioRoutes {
    private final ScenarioService scenarios;

    ScenarioRoutes(ScenarioService scenarios) {
        this.scenarios = scenarios;
    }

    /** The body of {@code POST /api/v1/scenario-runs}: a saved scenario's name or a file's text. */
    record RunBody(String scenario, String text, String file, String topology, Map<String, String> vars) {}

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/scenarios", ctx -> Api.json(ctx, 200, scenarios.list()));
        r.add(HandlerType.POST, "/api/v1/scenarios", ctx -> Api.json(ctx, 201, scenarios.save(text(ctx), ctx.queryParam("file"))));
        r.add(HandlerType.POST, "/api/v1/scenarios/validate", ctx ->
                Api.json(ctx, 200, scenarios.validate(text(ctx), ctx.queryParam("file"), ctx.queryParam("topology"), Map.of())));
        r.add(HandlerType.GET, "/api/v1/scenarios/{name}", ctx -> Api.json(ctx, 200, scenarios.get(ctx.pathParam("name"))));
        r.add(HandlerType.DELETE, "/api/v1/scenarios/{name}", ctx -> Api.json(ctx, 200, scenarios.delete(ctx.pathParam("name"))));

        r.add(HandlerType.POST, "/api/v1/scenario-runs", ctx -> {
            boolean wait = Http.bool(ctx, "wait");
            Duration timeout = Http.timeout(ctx);
            RunBody b = Api.body(ctx, RunBody.class);
            var a = scenarios.start(new ScenarioService.RunRequest(b.scenario(), b.text(), b.file(), b.topology(), b.vars()));
            Http.operationLocation(ctx, a.op());
            ScenarioRun run = wait ? scenarios.await(a.value().id(), timeout) : a.value();
            ctx.header("Location", "/api/v1/scenario-runs/" + run.id());
            Api.json(ctx, wait && run.finished() ? 200 : 202, run);
        });
        r.add(HandlerType.GET, "/api/v1/scenario-runs", ctx ->
                Api.json(ctx, 200, scenarios.runs(ctx.queryParam("scenario"), Http.intParam(ctx, "limit", 100, 1, 10_000))));
        r.add(HandlerType.GET, "/api/v1/scenario-runs/{id}", ctx -> {
            int wait = waitSeconds(ctx);
            String id = ctx.pathParam("id");
            Api.json(ctx, 200, wait == 0 ? scenarios.run(id) : scenarios.await(id, Duration.ofSeconds(wait)));
        });
        r.add(HandlerType.GET, "/api/v1/scenario-runs/{id}/report.junit", ctx ->
                ctx.contentType("application/xml; charset=utf-8").result(ScenarioReports.junit(scenarios.run(ctx.pathParam("id")))));
        r.add(HandlerType.GET, "/api/v1/scenario-runs/{id}/report.html", ctx ->
                ctx.contentType("text/html; charset=utf-8").result(ScenarioReports.html(scenarios.run(ctx.pathParam("id")))));
        r.add(HandlerType.POST, "/api/v1/scenario-runs/{id}/abort", ctx -> {
            ScenarioRun run = scenarios.abort(ctx.pathParam("id"));
            if (run.operation() != null) ctx.header("Operation-Location", "/api/v1/operations/" + run.operation());
            Api.json(ctx, 200, run);
        });
        r.add(HandlerType.POST, "/api/v1/heal", ctx -> {
            boolean all = Http.bool(ctx, "all");
            Api.json(ctx, 200, scenarios.heal(ctx.queryParam("topology"), all));
        });
        r.add(HandlerType.GET, "/api/v1/scenario.schema.json", ctx -> ctx.contentType("application/schema+json")
                .result(new String(ScenarioSpec.class.getResourceAsStream("scenario.schema.json").readAllBytes(), StandardCharsets.UTF_8)));
    }

    /** {@code ?wait=SECONDS} (or true: 300) for the long-poll on a run. */
    static int waitSeconds(Context ctx) {
        String w = ctx.queryParam("wait");
        return "true".equals(w) ? 300 : "false".equals(w) ? 0 : Http.intParam(ctx, "wait", 0, 0, 300);
    }

    /** The file in the body: YAML as it is, or a JSON object's {@code text}. */
    static String text(Context ctx) {
        String body = ctx.body();
        String ct = ctx.contentType();
        if (ct != null && ct.startsWith("application/json") && body.stripLeading().startsWith("{") && body.contains("\"text\"")) {
            try {
                var node = Api.JSON.readTree(body);
                if (node.has("text") && node.get("text").isTextual()) return node.get("text").asText();
            } catch (Exception e) {
                throw VmctlException.invalid("body", "not JSON: " + e.getMessage(), "a scenario file (YAML), or {\"text\": \"…\"}");
            }
        }
        if (body.isBlank()) throw VmctlException.invalid("body", "empty", "a scenario file (YAML), see /api/v1/scenario.schema.json");
        return body;
    }
}
