package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ScenarioView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show a saved scenario: its summary and its file.")
final class ScenarioShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Mixin
    OutputOption output;

    ScenarioShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/scenarios/" + ApiClient.seg(name));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        ScenarioView v = Json.as(json, ScenarioView.class);
        ctx.out().println("scenario " + v.name() + (v.description() == null ? "" : ": " + v.description()));
        ctx.out().println("  topology   " + (v.topology() == null ? "-" : v.topology()));
        ctx.out().println("  saved      " + v.savedAt());
        ctx.out().println("  checks     " + String.join(", ", v.checks()));
        ctx.out().println("  faults     " + String.join(", ", v.faults()));
        ctx.out().println("  last run   " + (v.lastRun() == null ? "-" : v.lastRun() + " (" + v.lastVerdict() + ")"));
        ctx.out().println("---");
        ctx.out().println(v.text().stripTrailing());
        ctx.out().flush();
        return 0;
    }
}
