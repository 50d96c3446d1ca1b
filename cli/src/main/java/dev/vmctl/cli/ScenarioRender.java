package dev.vmctl.cli;

import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** How scenario runs look on a terminal: one timeline line per step event, a table of the journal, the verdict. */
final class ScenarioRender {
    private ScenarioRender() {}

    /** One line of the live timeline, e.g. {@code   +2003ms  fault  cut-cache  link.down svc/cache  applied}. */
    static String line(ScenarioStepResult s) {
        Long t = switch (s.outcome()) {
            case "running" -> s.startedMs();
            case "reverted", "revert-failed" -> s.revertedMs() != null ? s.revertedMs() : s.finishedMs();
            default -> s.finishedMs() != null ? s.finishedMs() : s.startedMs() != null ? s.startedMs() : s.scheduledMs();
        };
        String when = t == null ? "      -" : String.format(Locale.ROOT, "%+7dms", t);
        String what = s.type() + " " + String.join(s.kind().equals("check") ? "→" : ",", s.targets());
        String detail = s.message() == null || s.message().isBlank() || "running".equals(s.outcome()) ? "" : "  " + s.message();
        return String.format(Locale.ROOT, "  %s  %-6s %-8s %-22s %-34s %s%s", when, s.phase(), s.kind(), s.name(), what,
                s.outcome(), detail).stripTrailing();
    }

    static void journal(PrintWriter out, ScenarioRun run) {
        out.println("run " + run.id() + ": scenario " + run.scenario() + " on topology " + run.topology() + ": " + run.verdict().toUpperCase(Locale.ROOT)
                + (run.error() == null ? "" : " (" + run.error() + ")"));
        Table t = new Table("PHASE", "KIND", "NAME", "TYPE", "TARGETS", "SCHEDULED", "STARTED", "FINISHED", "REVERTED", "OUTCOME", "MEASURED");
        for (ScenarioStepResult s : run.steps()) {
            t.row(s.phase(), s.kind(), s.name(), s.type(), String.join(" ", s.targets()), ms(s.scheduledMs()), ms(s.startedMs()),
                    ms(s.finishedMs()), ms(s.revertedMs()), s.outcome(), measured(s.measured()));
        }
        t.print(out);
        long checks = run.steps().stream().filter(s -> s.kind().equals("check")).count();
        long passed = run.steps().stream().filter(s -> s.kind().equals("check") && s.outcome().equals("pass")).count();
        long faults = run.steps().stream().filter(s -> s.kind().equals("fault")).count();
        out.println(passed + "/" + checks + " checks passed, " + faults + " faults"
                + (run.faultsHeld() > 0 ? ", " + run.faultsHeld() + " STILL HELD (vmctl heal)" : ", all reverted"));
        for (ScenarioStepResult s : run.steps()) {
            if (List.of("fail", "error", "failed", "revert-failed").contains(s.outcome())) {
                out.println("  " + s.outcome() + ": " + s.name() + (s.line() > 0 ? " (line " + s.line() + ")" : "") + ": " + s.message());
            }
        }
        out.flush();
    }

    static void runs(PrintWriter out, List<ScenarioRun> runs) {
        Table t = new Table("ID", "SCENARIO", "TOPOLOGY", "VERDICT", "STARTED", "FINISHED", "CHECKS", "FAULTS HELD");
        for (ScenarioRun r : runs) {
            long checks = r.steps().stream().filter(s -> s.kind().equals("check")).count();
            long passed = r.steps().stream().filter(s -> s.kind().equals("check") && s.outcome().equals("pass")).count();
            t.row(r.id(), r.scenario(), r.topology(), r.verdict(), r.startedAt(), r.finishedAt(), passed + "/" + checks, r.faultsHeld());
        }
        t.print(out);
    }

    private static String ms(Long v) {
        return v == null ? null : v + "ms";
    }

    static String measured(Map<String, Object> m) {
        if (m == null || m.isEmpty()) return null;
        return m.entrySet().stream().filter(e -> !(e.getValue() instanceof Map)).map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }
}
