package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete a saved scenario (its runs and reports are kept).")
final class ScenarioRmCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    ScenarioRmCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        ctx.api().delete("/api/v1/scenarios/" + ApiClient.seg(name));
        ctx.out().println("deleted scenario " + name);
        return 0;
    }
}
