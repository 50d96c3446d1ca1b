package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ScenarioRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "runs", mixinStandardHelpOptions = true, description = {"List scenario runs, newest first (of one scenario when NAME is given).",
        "  vmctl scenario runs [NAME] [--limit 20]"})
final class ScenarioRunsCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME")
    String name;

    @Option(names = "--limit", defaultValue = "50", description = "at most this many (default ${DEFAULT-VALUE})")
    int limit;

    @Mixin
    OutputOption output;

    ScenarioRunsCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        if (limit < 1 || limit > 10_000) throw CliException.usage("--limit " + limit + ": allowed 1..10000");
        JsonNode json = ctx.api().get("/api/v1/scenario-runs?limit=" + limit + (name == null ? "" : "&scenario=" + ApiClient.seg(name)));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ScenarioRender.runs(ctx.out(), Json.listOf(json, ScenarioRun.class));
        return 0;
    }
}
