package dev.vmctl.cli;

import dev.vmctl.model.ScenarioRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "abort", mixinStandardHelpOptions = true,
        description = "Abort a running scenario run: steps not started are skipped, every fault it holds is reverted.")
final class ScenarioAbortCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "RUN")
    String run;

    ScenarioAbortCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        ScenarioRun r = Json.as(ctx.api().post("/api/v1/scenario-runs/" + ApiClient.seg(run) + "/abort", null, Duration.ofMinutes(3)),
                ScenarioRun.class);
        ctx.out().println("scenario run " + r.id() + ": " + r.verdict() + (r.faultsHeld() == 0 ? ", every fault reverted"
                : ", " + r.faultsHeld() + " faults still held (vmctl heal)"));
        return 0;
    }
}
