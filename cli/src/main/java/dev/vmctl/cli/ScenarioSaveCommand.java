package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ScenarioView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "save", mixinStandardHelpOptions = true,
        description = {"Save a scenario file on the server under its name (replacing one of that name); run it later by name.",
                "Exit 2 when the file is not valid.", "  vmctl scenario save -f failover.yaml"})
final class ScenarioSaveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "the scenario file (YAML)")
    Path file;

    @Mixin
    OutputOption output;

    ScenarioSaveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json;
        try {
            json = ctx.api().postBytes("/api/v1/scenarios?file=" + ApiClient.seg(file.toString()), UpCommand.read(file),
                    "application/yaml", ApiClient.DEFAULT_TIMEOUT);
        } catch (CliException e) {
            throw e.httpStatus() == 400 ? e.withExitCode(CliException.INVALID) : e;
        }
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ScenarioView v = Json.as(json, ScenarioView.class);
            ctx.out().println("saved scenario " + v.name() + " (" + v.steps() + " steps, " + v.checks().size() + " checks, "
                    + v.faults().size() + " faults)");
        }
        return 0;
    }
}
