package dev.vmctl.model;

import java.util.List;

/** The answer of a topology deploy or teardown: what was (or, in a dry run, would be) done, step by step. */
public record TopologyReport(String topology, boolean dryRun, boolean ok, String summary, List<TopologyStep> steps,
                             long durationMs, int parallelBoots, boolean rolledBack) {
    public TopologyReport {
        steps = steps == null ? List.of() : List.copyOf(steps);
    }
}
