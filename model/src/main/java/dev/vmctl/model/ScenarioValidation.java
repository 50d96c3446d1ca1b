package dev.vmctl.model;

import java.util.List;

/**
 * The answer of {@code POST /api/v1/scenarios/validate}: whether the file is valid (and, when its topology is
 * deployed, runnable against it), and every problem with its line.
 *
 * @param runnable null when the topology was not checked (none given, or not deployed: see {@code problems})
 */
public record ScenarioValidation(boolean valid, String name, String topology, Boolean runnable, int steps,
                                 List<ScenarioProblem> problems) {
    public ScenarioValidation {
        problems = problems == null ? List.of() : List.copyOf(problems);
    }
}
