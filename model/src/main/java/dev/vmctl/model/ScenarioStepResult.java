package dev.vmctl.model;

import java.util.List;
import java.util.Map;

/**
 * One line of a run's journal: a check or a fault, where it sits in the file and what happened. Times are
 * milliseconds from the run's start (null: not reached).
 *
 * @param phase     before (steady state, go/no-go), steps, after (steady state, the verdict)
 * @param kind      check or fault
 * @param type      ping, http, tcp, exec; link.down, link.impair, partition, vm.reboot, vm.stop, vm.kill, node.stop
 * @param targets   the VM (or node) references it acts on or from, as written in the file
 * @param outcome   pending, running; for a check pass, fail (the measured values disagree with the expectation),
 *                  error (it could not be run), skipped; for a fault applied, reverted, failed (could not be applied),
 *                  revert-failed, skipped
 * @param expect    pass or fail (checks)
 * @param mode      once, until, every (checks)
 * @param measured  what was measured (ping: sent, received, lossPct, rttMinMs, rttAvgMs, rttMaxMs; http: status,
 *                  bodyExcerpt; tcp: connected; exec: exitCode, stdout; repeated checks: attempts, successes,
 *                  successPct; faults: what was applied)
 * @param operations the operations the step ran (a fault's apply and revert)
 * @param line      the step's line in the file (0 if unknown)
 */
public record ScenarioStepResult(int index, String phase, String kind, String name, String type, List<String> targets,
                                 Long scheduledMs, Long startedMs, Long finishedMs, Long revertedMs, String outcome,
                                 String expect, String mode, String message, Map<String, Object> measured, int attempts,
                                 List<String> operations, int line) {
    public ScenarioStepResult {
        targets = targets == null ? List.of() : List.copyOf(targets);
        operations = operations == null ? List.of() : List.copyOf(operations);
        measured = measured == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(measured));
    }

    public static final String BEFORE = "before", STEPS = "steps", AFTER = "after";
    public static final String CHECK = "check", FAULT = "fault";
}
