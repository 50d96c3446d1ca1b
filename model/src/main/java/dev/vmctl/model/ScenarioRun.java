package dev.vmctl.model;

import java.util.List;
import java.util.Map;

/**
 * The journal of one scenario run, as {@code GET /api/v1/scenario-runs/{id}} and {@code vmctl scenario run -o json}
 * show it. {@code verdict}: running (not finished yet), pass, fail, aborted (aborted by a user, or the server
 * restarted during the run); {@code error} says why a run failed or was aborted when no step says it.
 * {@code faultsHeld} is the number of faults the run has applied and not yet reverted (0 once it has finished,
 * unless a revert failed: then {@code vmctl heal} retries).
 *
 * @param operation the run's operation ({@code scenario.run})
 */
public record ScenarioRun(String id, String scenario, String topology, String verdict, String startedAt, String finishedAt,
                          String error, Map<String, String> vars, int faultsHeld, String operation,
                          List<ScenarioStepResult> steps) {
    public ScenarioRun {
        vars = vars == null ? Map.of() : Map.copyOf(vars);
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    public static final String RUNNING = "running", PASS = "pass", FAIL = "fail", ABORTED = "aborted";

    public boolean finished() { return !RUNNING.equals(verdict); }
}
