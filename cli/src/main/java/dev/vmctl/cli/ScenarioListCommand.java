package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ScenarioView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, description = "List saved scenarios with their latest run.")
final class ScenarioListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    ScenarioListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/scenarios");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "TOPOLOGY", "STEPS", "CHECKS", "FAULTS", "SAVED", "LAST RUN", "VERDICT");
        for (ScenarioView v : Json.listOf(json, ScenarioView.class)) {
            t.row(v.name(), v.topology(), v.steps(), v.checks().size(), v.faults().size(), v.savedAt(), v.lastRun(), v.lastVerdict());
        }
        t.print(ctx.out());
        return 0;
    }
}
