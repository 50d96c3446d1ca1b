package dev.vmctl.model;

import java.util.List;

/**
 * A saved scenario ({@code GET /api/v1/scenarios/NAME}): its file as saved, and a summary of it.
 *
 * @param checks the names of its checks (steady state and steps), faults the names of its faults
 * @param lastRun the id of its latest run (null if never run), lastVerdict that run's verdict
 */
public record ScenarioView(String name, String description, String topology, String savedAt, int steps,
                           List<String> checks, List<String> faults, String lastRun, String lastVerdict, String text) {
    public ScenarioView {
        checks = checks == null ? List.of() : List.copyOf(checks);
        faults = faults == null ? List.of() : List.copyOf(faults);
    }
}
