package dev.vmctl.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The reports of a scenario run's journal: JUnit XML (for CI), one self-contained HTML file (header, an SVG timeline,
 * the table of steps), pretty JSON ({@code -o json}), and the one-line rendering of a step the CLI prints while a run
 * goes on. Pure functions of a {@link ScenarioRun}; they accept any journal, finished or not (a running run's
 * unfinished checks are skipped in JUnit, an aborted run's are errors).
 *
 * <p>The strings are UTF-8 text ({@link #junit} declares UTF-8; {@link #html} is pure ASCII, every other character
 * written as a character reference). User text (names, refs, vars, messages, measured values) is escaped, and
 * characters XML cannot hold (control characters such as ESC in a captured stdout) are written as {@code \\uXXXX}.
 */
public final class ScenarioReports {
    private ScenarioReports() {}

    static final String PENDING = "pending", RUNNING = "running", PASS = "pass", FAIL = "fail", ERROR = "error",
            SKIPPED = "skipped", APPLIED = "applied", REVERTED = "reverted", FAILED = "failed",
            REVERT_FAILED = "revert-failed";

    /** A drift (|started − scheduled|) at least this large is highlighted in the HTML table. */
    static final long DRIFT_WARN_MS = 500;

    // ------------------------------------------------------------------------------------------------ JUnit XML

    /**
     * JUnit XML ({@code <testsuites><testsuite><testcase>}, the schema Jenkins and GitLab read): one testcase per
     * check ({@code classname="scenario.NAME"}, {@code name="PHASE/CHECK"}); a check that failed carries a
     * {@code <failure type="expectation">} with the measured values and the expectation, one that could not run an
     * {@code <error>}, a skipped one {@code <skipped/>}. The faults are the suite's {@code <system-out>}, as a timeline.
     */
    public static String junit(ScenarioRun run) {
        Objects.requireNonNull(run, "run");
        List<ScenarioStepResult> checks = run.steps().stream().filter(ScenarioReports::isCheck).toList();
        int failures = 0, errors = 0, skipped = 0;
        for (ScenarioStepResult c : checks) {
            switch (junitOutcome(run, c)) {
                case FAIL -> failures++;
                case ERROR -> errors++;
                case SKIPPED -> skipped++;
                default -> { }
            }
        }
        String time = seconds(runEndMs(run));
        String suiteName = "scenario." + nz(run.scenario(), "unnamed");
        try {
            Xml x = new Xml();
            x.start("testsuites").attr("name", suiteName).attr("tests", checks.size()).attr("failures", failures)
                    .attr("errors", errors).attr("skipped", skipped).attr("time", time);
            x.start("testsuite").attr("name", suiteName).attr("tests", checks.size()).attr("failures", failures)
                    .attr("errors", errors).attr("skipped", skipped).attr("time", time);
            String ts = junitTimestamp(run.startedAt());
            if (ts != null) x.attr("timestamp", ts);
            x.attr("id", run.id());

            x.start("properties");
            property(x, "run", run.id());
            property(x, "scenario", run.scenario());
            property(x, "topology", run.topology());
            property(x, "verdict", run.verdict());
            property(x, "startedAt", run.startedAt());
            property(x, "finishedAt", run.finishedAt());
            property(x, "operation", run.operation());
            if (run.error() != null) property(x, "error", run.error());
            if (run.faultsHeld() != 0) property(x, "faultsHeld", String.valueOf(run.faultsHeld()));
            for (Map.Entry<String, String> v : new TreeMap<>(run.vars()).entrySet()) property(x, "var." + v.getKey(), v.getValue());
            x.end();

            for (ScenarioStepResult c : checks) testcase(x, run, c);

            x.start("system-out").text(suiteOut(run)).end();
            x.end().end();
            return x.finish();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("writing the JUnit XML of run " + run.id() + ": " + e.getMessage(), e);
        }
    }

    private static void property(Xml x, String name, String value) throws XMLStreamException {
        if (value != null) x.empty("property").attr("name", name).attr("value", value);
    }

    /** pass, fail, error or skipped: what the check is in the JUnit report. */
    private static String junitOutcome(ScenarioRun run, ScenarioStepResult c) {
        String o = nz(c.outcome(), PENDING);
        return switch (o) {
            case PASS, FAIL, ERROR, SKIPPED -> o;
            default -> ScenarioRun.RUNNING.equals(run.verdict()) ? SKIPPED : ERROR; // unfinished
        };
    }

    private static void testcase(Xml x, ScenarioRun run, ScenarioStepResult c) throws XMLStreamException {
        x.start("testcase").attr("classname", "scenario." + nz(run.scenario(), "unnamed"))
                .attr("name", nz(c.phase(), "?") + "/" + nz(c.name(), "#" + c.index()))
                .attr("time", seconds(c.startedMs() != null && c.finishedMs() != null
                        ? Math.max(0, c.finishedMs() - c.startedMs()) : 0));
        String o = nz(c.outcome(), PENDING);
        switch (junitOutcome(run, c)) {
            case FAIL -> x.start("failure").attr("message", oneLine(failureMessage(c), 500))
                    .attr("type", "expectation").text(details(c)).end();
            case ERROR -> {
                if (ERROR.equals(o)) {
                    x.start("error").attr("message", oneLine(nz(c.message(), "the check could not be run"), 500))
                            .attr("type", "error").text(details(c)).end();
                } else if (ScenarioRun.ABORTED.equals(run.verdict())) {
                    String why = "run aborted" + (run.error() != null ? ": " + run.error() : "");
                    x.start("error").attr("message", oneLine(why, 500)).attr("type", "aborted")
                            .text(why + " (the check was " + o + ")\n" + details(c)).end();
                } else {
                    String why = "not finished: the check is " + o + " in a run whose verdict is " + run.verdict();
                    x.start("error").attr("message", why).attr("type", "unfinished").text(why + "\n" + details(c)).end();
                }
            }
            case SKIPPED -> {
                x.empty("skipped");
                if (SKIPPED.equals(o)) {
                    if (c.message() != null) x.attr("message", oneLine(c.message(), 500));
                } else {
                    x.attr("message", "not run yet: the run is still running");
                }
            }
            default -> { }
        }
        if (PASS.equals(o)) x.start("system-out").text(details(c)).end(); // the others' details are their element's text
        x.end();
    }

    private static String failureMessage(ScenarioStepResult c) {
        String sum = summary(c, false);
        String m = "expected " + nz(c.expect(), PASS) + (sum.isEmpty() ? "" : "; measured " + sum);
        return c.message() != null ? c.message() + " (" + m + ")" : m;
    }

    /** The details of a check: what it is, the expectation, the measured values (all of them), times, message. */
    private static String details(ScenarioStepResult c) {
        StringBuilder b = new StringBuilder();
        b.append(nz(c.kind(), "step")).append(' ').append(nz(c.name(), "#" + c.index()))
                .append(" (").append(nz(c.type(), "?"));
        if (!c.targets().isEmpty()) b.append(' ').append(targets(c));
        b.append(")");
        if (c.line() > 0) b.append(", line ").append(c.line());
        b.append('\n');
        if (isCheck(c)) {
            b.append("expected: ").append(nz(c.expect(), PASS)).append(" (").append(nz(c.mode(), "once")).append(")\n");
        }
        b.append("outcome: ").append(nz(c.outcome(), PENDING)).append('\n');
        String sum = summary(c, false);
        if (!sum.isEmpty()) b.append("measured: ").append(sum).append('\n');
        if (!c.measured().isEmpty()) b.append("values:\n");
        for (Map.Entry<String, Object> e : c.measured().entrySet()) {
            b.append("  ").append(e.getKey()).append(" = ").append(value(e.getValue())).append('\n');
        }
        if (c.attempts() > 0) b.append("attempts: ").append(c.attempts()).append('\n');
        b.append("times: scheduled ").append(ms(c.scheduledMs())).append(", started ").append(ms(c.startedMs()))
                .append(", finished ").append(ms(c.finishedMs()));
        if (c.revertedMs() != null) b.append(", reverted ").append(ms(c.revertedMs()));
        b.append('\n');
        if (!c.operations().isEmpty()) b.append("operations: ").append(String.join(", ", c.operations())).append('\n');
        if (c.message() != null) b.append("message: ").append(c.message()).append('\n');
        return b.toString();
    }

    /** The suite's system-out: the run, then the faults as a timeline ("+2.003s fault cut-cache link.down svc/cache applied … reverted +6.010s"). */
    private static String suiteOut(ScenarioRun run) {
        StringBuilder b = new StringBuilder();
        b.append("scenario ").append(nz(run.scenario(), "?")).append(" on topology ").append(nz(run.topology(), "?"))
                .append(": ").append(nz(run.verdict(), "?")).append(" (run ").append(nz(run.id(), "?")).append(")\n");
        b.append("started ").append(nz(run.startedAt(), "-")).append(", finished ").append(nz(run.finishedAt(), "-"))
                .append(", ").append(seconds(runEndMs(run))).append(" s\n");
        if (!run.vars().isEmpty()) {
            b.append("vars:");
            new TreeMap<>(run.vars()).forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            b.append('\n');
        }
        if (run.error() != null) b.append("error: ").append(run.error()).append('\n');
        if (run.faultsHeld() != 0) b.append("faults still held: ").append(run.faultsHeld()).append(" (vmctl heal reverts them)\n");
        List<ScenarioStepResult> faults = run.steps().stream().filter(s -> !isCheck(s)).toList();
        b.append("faults:").append(faults.isEmpty() ? " none" : "").append('\n');
        for (ScenarioStepResult f : faults) b.append(faultTimeline(f)).append('\n');
        return b.toString();
    }

    private static String faultTimeline(ScenarioStepResult f) {
        Long at = f.startedMs() != null ? f.startedMs() : f.scheduledMs();
        StringBuilder b = new StringBuilder();
        b.append(at == null ? "-" : "+" + seconds(at) + "s").append(" fault ").append(nz(f.name(), "#" + f.index())).append(' ').append(nz(f.type(), "?"));
        if (!f.targets().isEmpty()) b.append(' ').append(targets(f));
        String sum = summary(f, false);
        if (!sum.isEmpty()) b.append(" [").append(sum).append(']');
        String o = nz(f.outcome(), PENDING);
        switch (o) {
            case REVERTED -> b.append(" applied … reverted ").append(f.revertedMs() == null ? "" : "+" + seconds(f.revertedMs()) + "s");
            case REVERT_FAILED -> b.append(" applied … revert failed").append(f.revertedMs() == null ? "" : " +" + seconds(f.revertedMs()) + "s");
            case APPLIED -> b.append(" applied").append(f.revertedMs() != null ? " … reverted +" + seconds(f.revertedMs()) + "s" : " … not reverted");
            default -> b.append(' ').append(o);
        }
        if (f.message() != null && !REVERTED.equals(o)) b.append(": ").append(oneLine(f.message(), 300));
        return b.toString().stripTrailing();
    }

    // ------------------------------------------------------------------------------------------------ JSON

    private static final ObjectMapper MAPPER = JsonMapper.builder().build();
    private static final ObjectWriter PRETTY;

    static {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                        .withObjectEmptySeparator("")
                        .withArrayEmptySeparator(""));
        printer.indentObjectsWith(indenter);
        printer.indentArraysWith(indenter);
        PRETTY = MAPPER.writer(printer);
    }

    /** The journal as pretty JSON (two-space indent, '\n', the record's fields; vars sorted by name), ending with a newline. */
    public static String json(ScenarioRun run) {
        Objects.requireNonNull(run, "run");
        ObjectNode tree = MAPPER.valueToTree(run);
        ObjectNode vars = MAPPER.createObjectNode();
        new TreeMap<>(run.vars()).forEach(vars::put);
        tree.set("vars", vars);
        try {
            return PRETTY.writeValueAsString(tree) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing the JSON of run " + run.id() + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------ one line

    /**
     * One short line for a step, as the CLI prints it while a run goes on, columns aligned, no colours, e.g.
     * <pre>
     *   +2003ms  fault  cut-cache         link.down svc/cache        applied
     *   +3012ms  check  cache-unreachable ping svc/api→svc/cache     pass (expect fail; loss 100%)
     * </pre>
     * The time is when the step started (scheduled, prefixed {@code ~}, before it starts).
     */
    public static String line(ScenarioStepResult s) {
        Objects.requireNonNull(s, "step");
        String time = s.startedMs() != null ? "+" + s.startedMs() + "ms"
                : s.scheduledMs() != null ? "~" + s.scheduledMs() + "ms" : "-";
        StringBuilder b = new StringBuilder();
        pad(b, 9 - time.length()).append(time);
        pad(b, 11 - b.length()).append(nz(s.kind(), "step"));
        padTo(b, 18).append(oneLine(nz(s.name(), "#" + s.index()), 40));
        String what = nz(s.type(), "?") + (s.targets().isEmpty() ? "" : " " + targets(s));
        padTo(b, 36).append(oneLine(what, 60));
        padTo(b, 63).append(status(s));
        return b.toString();
    }

    private static String status(ScenarioStepResult s) {
        String o = nz(s.outcome(), PENDING);
        List<String> notes = new ArrayList<>();
        if (isCheck(s)) {
            if (FAIL.equals(s.expect())) notes.add("expect fail");
            if (!PENDING.equals(o) && !SKIPPED.equals(o)) {
                String sum = summary(s, true);
                if (!sum.isEmpty()) notes.add(sum);
            }
            if ((FAIL.equals(o) || ERROR.equals(o) || SKIPPED.equals(o)) && s.message() != null) notes.add(oneLine(s.message(), 80));
        } else {
            if (REVERTED.equals(o) && s.revertedMs() != null) notes.add("+" + s.revertedMs() + "ms");
            if ((FAILED.equals(o) || REVERT_FAILED.equals(o) || SKIPPED.equals(o)) && s.message() != null) notes.add(oneLine(s.message(), 80));
        }
        if (notes.isEmpty()) return o;
        return isCheck(s) ? o + " (" + String.join("; ", notes) + ")" : o + " " + String.join("; ", notes);
    }

    private static StringBuilder pad(StringBuilder b, int n) {
        for (int i = 0; i < n; i++) b.append(' ');
        return b;
    }

    /** Pads to column {@code col}, at least one space (a long field pushes the next, later columns stay aligned). */
    private static StringBuilder padTo(StringBuilder b, int col) {
        int len = b.codePointCount(0, b.length());
        return pad(b, Math.max(1, col - len));
    }

    // ------------------------------------------------------------------------------------------------ HTML

    /** Timeline geometry (px): the labels' column, the plot's width, the right margin. */
    static final double LABEL_W = 170, PLOT_W = 900, RIGHT_W = 30, AXIS_H = 28, BAND_H = 20, FAULT_LANE_H = 20,
            CHECK_LANE_H = 16, ROW_PAD = 4, DOT_R = 5;

    /**
     * One self-contained HTML page (inline CSS and SVG; no script, no external resource): a header (scenario,
     * topology, verdict badge, times, vars), the timeline (x: ms from the run's start; one row per target, the steady
     * state before and after in their own bands; faults as bars, checks as dots or bars coloured by outcome; hovering
     * shows details, clicking jumps to the step's row), then the table of all steps.
     */
    public static String html(ScenarioRun run) {
        Objects.requireNonNull(run, "run");
        Html h = new Html();
        String verdict = nz(run.verdict(), "unknown");
        h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
                .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
                .raw("<title>").text("scenario " + nz(run.scenario(), "?") + " \u2014 " + verdict).raw("</title>\n")
                .raw("<style>\n").raw(CSS).raw("</style>\n</head>\n<body>\n");
        header(h, run);
        h.raw("<section>\n<h2>Timeline</h2>\n");
        timeline(h, run);
        h.raw(LEGEND);
        h.raw("</section>\n<section>\n<h2>Steps</h2>\n");
        table(h, run);
        h.raw("</section>\n<footer>vmctl scenario report \u00b7 run ").text(nz(run.id(), "?")).raw("</footer>\n</body>\n</html>\n");
        return h.toString();
    }

    private static final String CSS = """
            body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 24px; background: #fafafa; }
            h1 { font-size: 22px; margin: 0 0 8px 0; display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }
            h2 { font-size: 17px; margin: 0 0 8px 0; }
            header, section { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 16px 20px; margin-bottom: 16px; }
            .verdict { display: inline-block; font-size: 20px; font-weight: 700; letter-spacing: .06em; padding: 6px 18px; border-radius: 8px; color: #fff; background: #757575; }
            .verdict.v-pass { background: #2e7d32; }
            .verdict.v-fail { background: #c62828; }
            dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
            dl.meta dt { color: #666; }
            dl.meta dd { margin: 0; }
            .error { background: #fdecea; border: 1px solid #f5c2c0; color: #8a1c1c; padding: 8px 12px; border-radius: 6px; margin: 8px 0; white-space: pre-wrap; }
            .warn { background: #fff4e5; border: 1px solid #ffd8a8; color: #7a4b00; padding: 8px 12px; border-radius: 6px; margin: 8px 0; }
            table { border-collapse: collapse; }
            table.vars td, table.vars th { padding: 2px 12px 2px 0; text-align: left; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
            table.steps { width: 100%; font-size: 13px; }
            table.steps th { text-align: left; background: #f0f0f0; position: sticky; top: 0; }
            table.steps th, table.steps td { border-bottom: 1px solid #e5e5e5; padding: 4px 6px; vertical-align: top; }
            table.steps td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            table.steps tr:target { background: #fff8c4; }
            .mono { font-family: ui-monospace, Menlo, Consolas, monospace; }
            .o { display: inline-block; padding: 0 6px; border-radius: 4px; color: #fff; background: #9e9e9e; font-weight: 600; }
            .o-pass, .o-reverted, .o-applied { background: #2e7d32; }
            .o-fail, .o-error, .o-failed, .o-revert-failed { background: #c62828; }
            .o-running, .o-pending { background: #1565c0; }
            .note { color: #666; font-size: 12px; }
            .drift-warn { color: #b26a00; font-weight: 700; }
            pre { margin: 4px 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
            details summary { cursor: pointer; color: #555; }
            .timeline { overflow-x: auto; }
            svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 11px; fill: #333; }
            svg .note { fill: #888; font-size: 10px; }
            svg .band-label { font-weight: 700; font-size: 12px; fill: #444; }
            svg .row-label { font-family: ui-monospace, Menlo, Consolas, monospace; }
            svg .band { fill: #f3f3f3; }
            svg .band.ss { fill: #eef3fb; }
            svg .grid { stroke: #e3e3e3; stroke-width: 1; }
            svg .axis { stroke: #999; stroke-width: 1; }
            svg .fault-bar { fill: #f4a940; stroke: #c77800; stroke-width: 1; }
            svg .fault.o-failed .fault-bar, svg .fault.o-revert-failed .fault-bar { fill: #ef9a9a; stroke: #c62828; stroke-width: 2; }
            svg .fault.held .fault-bar { stroke-dasharray: 4 3; }
            svg .fault.o-skipped .fault-bar, svg .fault.o-pending .fault-bar { fill: #e0e0e0; stroke: #9e9e9e; }
            svg .check-mark { stroke-width: 1.5; }
            svg .check.o-pass .check-mark { fill: #2e7d32; stroke: #1b5e20; }
            svg .check.o-fail .check-mark, svg .check.o-error .check-mark { fill: #c62828; stroke: #8e0000; }
            svg .check.o-skipped .check-mark { fill: #bdbdbd; stroke: #9e9e9e; }
            svg .check.o-pending .check-mark, svg .check.o-running .check-mark { fill: #fff; stroke: #9e9e9e; }
            svg a:hover .check-mark, svg a:hover .fault-bar { stroke: #000; stroke-width: 2; }
            .legend { font-size: 12px; color: #555; margin-top: 6px; }
            .legend span.sw { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -2px; margin: 0 4px 0 12px; }
            footer { color: #888; font-size: 12px; }
            """;

    private static final String LEGEND = "<div class=\"legend\">"
            + "<span class=\"sw\" style=\"background:#f4a940\"></span>fault (applied to reverted)"
            + "<span class=\"sw\" style=\"background:#ef9a9a;border:1px solid #c62828\"></span>fault failed / revert failed"
            + "<span class=\"sw\" style=\"background:#2e7d32\"></span>check passed"
            + "<span class=\"sw\" style=\"background:#c62828\"></span>check failed / error"
            + "<span class=\"sw\" style=\"background:#bdbdbd\"></span>skipped"
            + "<span class=\"sw\" style=\"background:#fff;border:1px solid #9e9e9e\"></span>not finished"
            + " \u00b7 dot: checked once; bar: until / every \u00b7 hover for details, click for the step's row</div>\n";

    private static void header(Html h, ScenarioRun run) {
        String verdict = nz(run.verdict(), "unknown");
        h.raw("<header>\n<h1><span>scenario ").text(nz(run.scenario(), "?")).raw("</span> <span class=\"verdict v-")
                .attr(verdict).raw("\">").text(verdict.toUpperCase(Locale.ROOT)).raw("</span></h1>\n");
        h.raw("<dl class=\"meta\">\n");
        meta(h, "topology", run.topology());
        meta(h, "run", run.id());
        meta(h, "started", run.startedAt());
        meta(h, "finished", run.finishedAt() != null ? run.finishedAt() : ScenarioRun.RUNNING.equals(run.verdict()) ? "(running)" : null);
        Long d = durationMs(run);
        meta(h, "duration", (d != null ? seconds(d) : seconds(runEndMs(run)) + " (so far)") + " s");
        meta(h, "operation", run.operation());
        long checks = run.steps().stream().filter(ScenarioReports::isCheck).count();
        Map<String, Integer> byOutcome = new TreeMap<>();
        run.steps().stream().filter(ScenarioReports::isCheck).forEach(s -> byOutcome.merge(nz(s.outcome(), PENDING), 1, Integer::sum));
        StringBuilder counts = new StringBuilder(checks + (checks == 1 ? " check" : " checks"));
        byOutcome.forEach((k, v) -> counts.append(", ").append(v).append(' ').append(k));
        long faults = run.steps().size() - checks;
        counts.append("; ").append(faults).append(faults == 1 ? " fault" : " faults");
        meta(h, "steps", counts.toString());
        h.raw("</dl>\n");
        if (run.error() != null) h.raw("<div class=\"error\">").text(run.error()).raw("</div>\n");
        if (run.faultsHeld() != 0) {
            h.raw("<div class=\"warn\">").text(run.faultsHeld() + (run.faultsHeld() == 1 ? " fault" : " faults") + " still held (not reverted): vmctl heal reverts them")
                    .raw("</div>\n");
        }
        if (!run.vars().isEmpty()) {
            h.raw("<details open=\"open\"><summary>vars (").text(String.valueOf(run.vars().size()))
                    .raw(")</summary>\n<table class=\"vars\"><tbody>\n");
            new TreeMap<>(run.vars()).forEach((k, v) ->
                    h.raw("<tr><th>").text(k).raw("</th><td>").text(v).raw("</td></tr>\n"));
            h.raw("</tbody></table></details>\n");
        }
        h.raw("</header>\n");
    }

    private static void meta(Html h, String name, String value) {
        if (value != null) h.raw("<dt>").text(name).raw("</dt><dd>").text(value).raw("</dd>\n");
    }

    /** Something drawn on the timeline: a step on one row, from startMs to endMs (bar) or at startMs (dot). */
    record Mark(ScenarioStepResult step, long startMs, long endMs, boolean bar, boolean fault) {}

    /** A row of the timeline: a target, its marks, and the lanes they were spread over (marks that overlap). */
    static final class Row {
        final String label;
        final List<Mark> marks = new ArrayList<>();
        final List<Integer> lane = new ArrayList<>();
        int faultLanes, checkLanes;

        Row(String label) { this.label = label; }

        double height() { return faultLanes * FAULT_LANE_H + checkLanes * CHECK_LANE_H + 2 * ROW_PAD; }
    }

    /** The time axis of a run: its end (ms) and the ticks' step. */
    record Axis(long endMs, long stepMs) {
        static Axis of(long runEndMs) {
            long end = Math.max(runEndMs, 1);
            long step = niceStep(end / 8.0);
            return new Axis((end + step - 1) / step * step, step);
        }

        double x(double ms) { return LABEL_W + ms * PLOT_W / endMs; }

        String label(long ms) {
            return stepMs >= 1000 || endMs >= 5000 ? num(ms / 1000.0) + "s" : ms + "ms";
        }
    }

    static long niceStep(double raw) {
        long p = 1;
        while (true) {
            for (long m : new long[] {1, 2, 5}) if (m * p >= raw) return m * p;
            p *= 10;
        }
    }

    /** The run's end on the timeline (ms from its start): its duration, or the latest time a step reached. */
    static long runEndMs(ScenarioRun run) {
        long end = 0;
        for (ScenarioStepResult s : run.steps()) {
            for (Long t : new Long[] {s.scheduledMs(), s.startedMs(), s.finishedMs(), s.revertedMs()}) {
                if (t != null) end = Math.max(end, t);
            }
        }
        Long d = durationMs(run);
        return d != null ? Math.max(d, end) : end;
    }

    private static final String[] BANDS = {ScenarioStepResult.BEFORE, ScenarioStepResult.STEPS, ScenarioStepResult.AFTER};

    private static String bandOf(ScenarioStepResult s) {
        return ScenarioStepResult.BEFORE.equals(s.phase()) || ScenarioStepResult.AFTER.equals(s.phase())
                ? s.phase() : ScenarioStepResult.STEPS;
    }

    private static void timeline(Html h, ScenarioRun run) {
        long runEnd = runEndMs(run);
        Axis axis = Axis.of(runEnd);
        Map<String, Map<String, Row>> bands = new LinkedHashMap<>();
        for (String band : BANDS) bands.put(band, new LinkedHashMap<>());
        for (ScenarioStepResult s : run.steps()) {
            Mark m = mark(s, runEnd);
            if (m == null) continue;
            Map<String, Row> rows = bands.get(bandOf(s));
            List<String> on = s.targets().isEmpty() ? List.of("(no target)")
                    : m.fault() ? new ArrayList<>(new LinkedHashSet<>(s.targets())) : List.of(s.targets().getFirst());
            for (String t : on) rows.computeIfAbsent(t, Row::new).marks.add(m);
        }
        for (Map<String, Row> rows : bands.values()) for (Row r : rows.values()) layOut(r, axis);

        double width = LABEL_W + PLOT_W + RIGHT_W;
        double height = AXIS_H;
        for (Map<String, Row> rows : bands.values()) {
            if (rows.isEmpty()) continue;
            height += BAND_H;
            for (Row r : rows.values()) height += r.height();
        }
        height += 8;
        h.raw("<div class=\"timeline\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"timeline\" width=\"")
                .raw(num(width)).raw("\" height=\"").raw(num(height)).raw("\" viewBox=\"0 0 ").raw(num(width)).raw(' ')
                .raw(num(height)).raw("\">\n");
        // axis and vertical grid lines
        h.raw("<g class=\"ticks\">\n");
        for (long t = 0; t <= axis.endMs(); t += axis.stepMs()) {
            double x = axis.x(t);
            h.raw("<line class=\"grid\" x1=\"").raw(num(x)).raw("\" y1=\"").raw(num(AXIS_H - 6)).raw("\" x2=\"").raw(num(x))
                    .raw("\" y2=\"").raw(num(height - 4)).raw("\"/>");
            h.raw("<text class=\"tick\" x=\"").raw(num(x)).raw("\" y=\"").raw(num(AXIS_H - 10))
                    .raw("\" text-anchor=\"middle\">").text(axis.label(t)).raw("</text>\n");
        }
        h.raw("<text class=\"note\" x=\"6\" y=\"").raw(num(AXIS_H - 10)).raw("\">time from the start</text>\n");
        h.raw("<line class=\"axis\" x1=\"").raw(num(LABEL_W)).raw("\" y1=\"").raw(num(AXIS_H - 6)).raw("\" x2=\"")
                .raw(num(LABEL_W + PLOT_W)).raw("\" y2=\"").raw(num(AXIS_H - 6)).raw("\"/>\n</g>\n");
        double y = AXIS_H;
        for (Map.Entry<String, Map<String, Row>> band : bands.entrySet()) {
            Map<String, Row> rows = band.getValue();
            if (rows.isEmpty()) continue;
            boolean ss = !ScenarioStepResult.STEPS.equals(band.getKey());
            h.raw("<g class=\"band-").attr(band.getKey()).raw("\">\n<rect class=\"band").raw(ss ? " ss" : "").raw("\" x=\"0\" y=\"")
                    .raw(num(y)).raw("\" width=\"").raw(num(width)).raw("\" height=\"").raw(num(BAND_H)).raw("\"/>");
            String title = switch (band.getKey()) {
                case ScenarioStepResult.BEFORE -> "steady state before";
                case ScenarioStepResult.AFTER -> "steady state after";
                default -> "steps";
            };
            h.raw("<text class=\"band-label\" x=\"6\" y=\"").raw(num(y + 14)).raw("\">").text(title).raw("</text>\n");
            y += BAND_H;
            for (Row r : rows.values()) {
                h.raw("<line class=\"grid\" x1=\"0\" y1=\"").raw(num(y + r.height())).raw("\" x2=\"").raw(num(width))
                        .raw("\" y2=\"").raw(num(y + r.height())).raw("\"/>");
                h.raw("<text class=\"row-label\" x=\"12\" y=\"").raw(num(y + Math.min(r.height(), FAULT_LANE_H + 2 * ROW_PAD) / 2 + 4))
                        .raw("\">").text(clip(r.label, 24)).raw("<title>").text(r.label).raw("</title></text>\n");
                for (int i = 0; i < r.marks.size(); i++) drawMark(h, axis, r, r.marks.get(i), r.lane.get(i), y);
                y += r.height();
            }
            h.raw("</g>\n");
        }
        h.raw("</svg>\n</div>\n");
    }

    /** Where a step sits on the timeline, or null when it has no time to be drawn at. */
    static Mark mark(ScenarioStepResult s, long runEndMs) {
        String o = nz(s.outcome(), PENDING);
        boolean fault = !isCheck(s);
        Long start = s.startedMs() != null ? s.startedMs() : s.scheduledMs();
        if (start == null) return null;
        if (s.startedMs() == null) return new Mark(s, start, start, false, fault); // not started: a mark where it was due
        if (fault) {
            long end;
            if (s.revertedMs() != null) end = s.revertedMs();
            else if (APPLIED.equals(o) && !"vm.reboot".equals(s.type()) || REVERT_FAILED.equals(o) || RUNNING.equals(o)) end = runEndMs;
            else end = s.finishedMs() != null ? s.finishedMs() : runEndMs;
            return new Mark(s, start, Math.max(start, end), true, true);
        }
        boolean repeated = "until".equals(s.mode()) || "every".equals(s.mode());
        if (!repeated) return new Mark(s, start, start, false, false);
        long end = s.finishedMs() != null ? s.finishedMs() : runEndMs;
        return new Mark(s, start, Math.max(start, end), true, false);
    }

    /** Spreads a row's marks over lanes so that none overlaps another (faults' lanes above the checks'), first fit. */
    private static void layOut(Row r, Axis axis) {
        List<Double> faultEnds = new ArrayList<>(), checkEnds = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < r.marks.size(); i++) { order.add(i); r.lane.add(0); }
        order.sort((a, b) -> Long.compare(r.marks.get(a).startMs(), r.marks.get(b).startMs()));
        for (int i : order) {
            Mark m = r.marks.get(i);
            double x0 = axis.x(m.startMs()), x1;
            List<Double> ends = m.fault() ? faultEnds : checkEnds;
            if (m.fault()) x1 = Math.max(axis.x(m.endMs()), x0 + 6 + 6.2 * faultLabel(m.step()).length());
            else if (m.bar()) x1 = Math.max(axis.x(m.endMs()), x0 + 2 * DOT_R);
            else { x0 -= DOT_R; x1 = x0 + 2 * DOT_R; }
            int lane = 0;
            while (lane < ends.size() && ends.get(lane) > x0 - 2) lane++;
            if (lane == ends.size()) ends.add(x1); else ends.set(lane, x1);
            r.lane.set(i, lane);
        }
        r.faultLanes = faultEnds.size();
        r.checkLanes = checkEnds.size();
        if (r.faultLanes + r.checkLanes == 0) r.checkLanes = 1;
    }

    private static String faultLabel(ScenarioStepResult s) {
        return clip(nz(s.name(), "#" + s.index()), 40) + " \u00b7 " + nz(s.type(), "?");
    }

    private static void drawMark(Html h, Axis axis, Row r, Mark m, int lane, double rowY) {
        ScenarioStepResult s = m.step();
        String o = nz(s.outcome(), PENDING);
        String id = "step-" + s.index();
        if (m.fault()) {
            boolean held = APPLIED.equals(o) && s.revertedMs() == null && !"vm.reboot".equals(s.type()) || REVERT_FAILED.equals(o);
            double y = rowY + ROW_PAD + lane * FAULT_LANE_H + 2;
            double x = axis.x(m.startMs());
            double w = m.bar() ? Math.max(2, axis.x(m.endMs()) - x) : 4;
            if (!m.bar()) x -= 2;
            h.raw("<g class=\"fault o-").attr(o).raw(held ? " held" : "").raw("\" data-step=\"").attr(String.valueOf(s.index()))
                    .raw("\"><title>").text(tooltip(s)).raw("</title><a href=\"#").attr(id).raw("\">");
            h.raw("<rect class=\"fault-bar\" data-name=\"").attr(nz(s.name(), "")).raw("\" x=\"").raw(num(x)).raw("\" y=\"")
                    .raw(num(y)).raw("\" width=\"").raw(num(w)).raw("\" height=\"").raw(num(FAULT_LANE_H - 4)).raw("\" rx=\"3\"/>");
            h.raw("<text x=\"").raw(num(x + 4)).raw("\" y=\"").raw(num(y + FAULT_LANE_H - 8)).raw("\">").text(faultLabel(s))
                    .raw("</text></a></g>\n");
        } else {
            double cy = rowY + ROW_PAD + r.faultLanes * FAULT_LANE_H + lane * CHECK_LANE_H + CHECK_LANE_H / 2;
            h.raw("<g class=\"check o-").attr(o).raw("\" data-step=\"").attr(String.valueOf(s.index()))
                    .raw("\"><title>").text(tooltip(s)).raw("</title><a href=\"#").attr(id).raw("\">");
            if (m.bar()) {
                double x = axis.x(m.startMs());
                double w = Math.max(2 * DOT_R, axis.x(m.endMs()) - x);
                h.raw("<rect class=\"check-mark\" data-name=\"").attr(nz(s.name(), "")).raw("\" x=\"").raw(num(x))
                        .raw("\" y=\"").raw(num(cy - 4)).raw("\" width=\"").raw(num(w)).raw("\" height=\"8\" rx=\"4\"/>");
            } else {
                h.raw("<circle class=\"check-mark\" data-name=\"").attr(nz(s.name(), "")).raw("\" cx=\"")
                        .raw(num(axis.x(m.startMs()))).raw("\" cy=\"").raw(num(cy)).raw("\" r=\"").raw(num(DOT_R)).raw("\"/>");
            }
            h.raw("</a></g>\n");
        }
    }

    private static String tooltip(ScenarioStepResult s) {
        StringBuilder b = new StringBuilder();
        b.append('#').append(s.index()).append(' ').append(nz(s.kind(), "step")).append(' ').append(nz(s.name(), "?"))
                .append(" (").append(nz(s.type(), "?")).append(s.targets().isEmpty() ? "" : " " + targets(s)).append(")\n");
        b.append(nz(s.outcome(), PENDING));
        if (isCheck(s)) b.append(", expect ").append(nz(s.expect(), PASS)).append(", ").append(nz(s.mode(), "once"));
        b.append('\n');
        b.append("started ").append(ms(s.startedMs())).append(" ms, finished ").append(ms(s.finishedMs())).append(" ms");
        if (s.revertedMs() != null) b.append(", reverted ").append(s.revertedMs()).append(" ms");
        String sum = summary(s, false);
        if (!sum.isEmpty()) b.append('\n').append(sum);
        if (s.message() != null) b.append('\n').append(clip(s.message(), 300));
        return b.toString();
    }

    private static void table(Html h, ScenarioRun run) {
        h.raw("<table class=\"steps\" id=\"steps\">\n<thead><tr>");
        for (String c : new String[] {"#", "phase", "kind", "name", "type", "targets", "scheduled ms", "started ms",
                "finished ms", "reverted ms", "drift ms", "outcome", "measured", "message"}) {
            h.raw("<th>").text(c).raw("</th>");
        }
        h.raw("</tr></thead>\n<tbody>\n");
        for (ScenarioStepResult s : run.steps()) {
            String o = nz(s.outcome(), PENDING);
            h.raw("<tr class=\"step k-").attr(nz(s.kind(), "step")).raw("\" id=\"step-").attr(String.valueOf(s.index())).raw("\">");
            h.raw("<td class=\"num\">").text(String.valueOf(s.index()));
            if (s.line() > 0) h.raw("<div class=\"note\">line ").text(String.valueOf(s.line())).raw("</div>");
            h.raw("</td><td>").text(nz(s.phase(), "")).raw("</td><td>").text(nz(s.kind(), "")).raw("</td><td class=\"mono\">")
                    .text(nz(s.name(), "")).raw("</td><td>").text(nz(s.type(), "")).raw("</td><td class=\"mono\">")
                    .text(targets(s)).raw("</td>");
            for (Long t : new Long[] {s.scheduledMs(), s.startedMs(), s.finishedMs(), s.revertedMs()}) {
                h.raw("<td class=\"num\">").text(ms(t)).raw("</td>");
            }
            Long drift = s.scheduledMs() != null && s.startedMs() != null ? Math.abs(s.startedMs() - s.scheduledMs()) : null;
            h.raw("<td class=\"num").raw(drift != null && drift >= DRIFT_WARN_MS ? " drift-warn" : "").raw("\">").text(ms(drift)).raw("</td>");
            h.raw("<td><span class=\"o o-").attr(o).raw("\">").text(o).raw("</span>");
            if (isCheck(s)) {
                h.raw("<div class=\"note\">expect ").text(nz(s.expect(), PASS)).raw(" \u00b7 ").text(nz(s.mode(), "once"));
                if (s.attempts() > 0) h.raw(" \u00b7 ").text(s.attempts() + (s.attempts() == 1 ? " attempt" : " attempts"));
                h.raw("</div>");
            }
            h.raw("</td><td>");
            String sum = summary(s, false);
            if (!sum.isEmpty()) h.raw("<div>").text(sum).raw("</div>");
            if (!s.measured().isEmpty()) {
                StringBuilder all = new StringBuilder();
                s.measured().forEach((k, v) -> all.append(k).append(": ").append(value(v)).append('\n'));
                h.raw("<details><summary>").text(s.measured().size() + (s.measured().size() == 1 ? " value" : " values")).raw("</summary><pre>").text(all.toString().stripTrailing())
                        .raw("</pre></details>");
            }
            h.raw("</td><td>");
            if (s.message() != null) h.raw("<div>").text(s.message()).raw("</div>");
            if (!s.operations().isEmpty()) h.raw("<div class=\"note mono\">").text(String.join(", ", s.operations())).raw("</div>");
            h.raw("</td></tr>\n");
        }
        h.raw("</tbody>\n</table>\n");
    }

    // ------------------------------------------------------------------------------------------------ shared

    private static boolean isCheck(ScenarioStepResult s) {
        return ScenarioStepResult.CHECK.equals(s.kind());
    }

    /** A check's targets as "from→to" (ping, http, tcp), other steps' joined with ", ". */
    static String targets(ScenarioStepResult s) {
        List<String> t = s.targets();
        boolean probe = isCheck(s) && Set.of("ping", "http", "tcp").contains(nz(s.type(), ""));
        return String.join(probe && t.size() == 2 ? "\u2192" : ", ", t);
    }

    /**
     * The measured values in words: ping "loss 0%, rtt 0.31/0.42/0.61 ms (5/5 replies)", http "status 200, body "…"",
     * tcp "connected"/"not connected", exec "exit 0, stdout "…"", repeated checks "9/10 as expected (90%)", then any
     * other value as key=value. {@code brief}: the few words of {@link #line} (no excerpts, no other values).
     */
    static String summary(ScenarioStepResult s, boolean brief) {
        Map<String, Object> m = new LinkedHashMap<>(s.measured());
        List<String> parts = new ArrayList<>();
        Object loss = m.remove("lossPct"), min = m.remove("rttMinMs"), avg = m.remove("rttAvgMs"), max = m.remove("rttMaxMs"),
                sent = m.remove("sent"), received = m.remove("received");
        if (loss != null) parts.add("loss " + value(loss) + "%");
        else if (sent != null && received != null && !brief) parts.add("received " + value(received) + "/" + value(sent));
        if (brief) {
            if (avg != null) parts.add("rtt " + value(avg) + " ms");
        } else {
            if (min != null || avg != null || max != null) {
                parts.add("rtt min/avg/max " + value(min, "-") + "/" + value(avg, "-") + "/" + value(max, "-") + " ms");
            }
            if (loss != null && sent != null && received != null) parts.add(value(received) + "/" + value(sent) + " replies");
        }
        Object status = m.remove("status"), body = m.remove("bodyExcerpt");
        if (status != null) parts.add("status " + value(status));
        if (body != null && !brief) parts.add("body \"" + oneLine(value(body), 60) + "\"");
        Object connected = m.remove("connected");
        if (connected != null) parts.add(Boolean.TRUE.equals(connected) || "true".equals(connected) ? "connected" : "not connected");
        Object exit = m.remove("exitCode"), stdout = m.remove("stdout");
        if (exit != null) parts.add("exit " + value(exit));
        if (stdout != null && !brief) parts.add("stdout \"" + oneLine(value(stdout), 60) + "\"");
        Object attempts = m.remove("attempts"), successes = m.remove("successes"), pct = m.remove("successPct");
        if (attempts != null || successes != null || pct != null) {
            String a = successes != null && attempts != null ? value(successes) + "/" + value(attempts) + " as expected"
                    : attempts != null ? value(attempts) + " attempts" : value(successes, "?") + " as expected";
            parts.add(pct != null ? a + " (" + value(pct) + "%)" : a);
        }
        if (!brief) m.forEach((k, v) -> parts.add(k + "=" + oneLine(value(v), 60)));
        return String.join(", ", parts);
    }

    /** Milliseconds as written in the table ("-" when not reached). */
    private static String ms(Long ms) {
        return ms == null ? "-" : String.valueOf(ms);
    }

    /** Milliseconds as seconds with three decimals ("2.003"). */
    private static String seconds(long ms) {
        return BigDecimal.valueOf(ms, 3).setScale(3, RoundingMode.UNNECESSARY).toPlainString();
    }

    private static String value(Object v, String ifNull) {
        return v == null ? ifNull : value(v);
    }

    /** A measured value: integral numbers without ".0", others with at most three decimals. */
    static String value(Object v) {
        if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) return String.valueOf(d);
            return num(d, 3);
        }
        return String.valueOf(v);
    }

    /** A number with at most two decimals, without trailing zeros (SVG coordinates). */
    static String num(double d) {
        return num(d, 2);
    }

    private static String num(double d, int decimals) {
        String s = BigDecimal.valueOf(d).setScale(decimals, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
        return s.equals("-0") ? "0" : s;
    }

    private static String nz(String s, String ifNull) {
        return s == null ? ifNull : s;
    }

    /** Whitespace runs become one space; at most {@code max} characters (then "…"). */
    static String oneLine(String s, int max) {
        return clip(s.replaceAll("\\s+", " ").strip(), max);
    }

    private static String clip(String s, int max) {
        if (s.codePointCount(0, s.length()) <= max) return s;
        return s.substring(0, s.offsetByCodePoints(0, max - 1)) + "\u2026";
    }

    /** The run's duration from its timestamps (ms), or null when it has not finished or a timestamp does not parse. */
    static Long durationMs(ScenarioRun run) {
        Instant a = instant(run.startedAt()), b = instant(run.finishedAt());
        return a != null && b != null ? Math.max(0, Duration.between(a, b).toMillis()) : null;
    }

    static Instant instant(String s) {
        if (s == null || s.isBlank()) return null;
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (RuntimeException e) {
            try {
                return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
            } catch (RuntimeException e2) {
                return null;
            }
        }
    }

    /** JUnit's timestamp: ISO 8601 without a zone (UTC), to the second. */
    private static String junitTimestamp(String startedAt) {
        Instant i = instant(startedAt);
        return i == null ? null
                : DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(LocalDateTime.ofInstant(i.truncatedTo(ChronoUnit.SECONDS), ZoneOffset.UTC));
    }

    /** Text XML can hold: characters it cannot (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/F) as {@code \\uXXXX}. */
    static String xmlSafe(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok;
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                if (b != null) b.append(c).append(s.charAt(i + 1));
                i++;
                continue;
            }
            ok = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
            if (ok) {
                if (b != null) b.append(c);
            } else {
                if (b == null) b = new StringBuilder(s.length() + 16).append(s, 0, i);
                b.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
            }
        }
        return b == null ? s : b.toString();
    }

    /**
     * Escapes text for HTML content and (double- or single-quoted) attribute values: {@code & < > " '} as entities,
     * every character outside printable ASCII (but tab and LF) as a numeric reference, characters XML cannot hold as
     * {@code \\uXXXX}. The page is then plain ASCII, whatever encoding it is saved in.
     */
    static String escapeHtml(String s) {
        String t = xmlSafe(s);
        StringBuilder b = new StringBuilder(t.length() + 16);
        t.codePoints().forEach(cp -> {
            switch (cp) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                case '\r' -> b.append("&#13;");
                default -> {
                    if (cp == '\t' || cp == '\n' || (cp >= 0x20 && cp < 0x7F)) b.append((char) cp);
                    else b.append("&#x").append(Integer.toHexString(cp).toUpperCase(Locale.ROOT)).append(';');
                }
            }
        });
        return b.toString();
    }

    /** The HTML being written: {@link #raw} for the page's own markup (ASCII or constants), {@link #text}/{@link #attr} for anything else. */
    private static final class Html {
        private final StringBuilder b = new StringBuilder(32 * 1024);

        Html raw(String s) {
            b.append(escapeNonAscii(s));
            return this;
        }

        Html raw(char c) {
            b.append(c);
            return this;
        }

        Html text(String s) {
            b.append(escapeHtml(s));
            return this;
        }

        Html attr(String s) {
            b.append(escapeHtml(s));
            return this;
        }

        /** The page's own constants may hold non-ASCII characters (·, —): written as references like user text's. */
        private static String escapeNonAscii(String s) {
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) > 0x7E) {
                    StringBuilder o = new StringBuilder(s.length() + 16);
                    s.codePoints().forEach(cp -> {
                        if (cp > 0x7E) o.append("&#x").append(Integer.toHexString(cp).toUpperCase(Locale.ROOT)).append(';');
                        else o.append((char) cp);
                    });
                    return o.toString();
                }
            }
            return s;
        }

        @Override
        public String toString() { return b.toString(); }
    }

    /** A StAX writer that indents: elements with element children on their own lines, text-only ones on one line. */
    private static final class Xml {
        private final StringWriter out = new StringWriter();
        private final XMLStreamWriter w;
        /** Per open element: whether it has element children (its end tag then goes on its own line). */
        private final Deque<boolean[]> open = new ArrayDeque<>();

        Xml() throws XMLStreamException {
            w = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
            w.writeStartDocument("UTF-8", "1.0");
        }

        Xml start(String name) throws XMLStreamException {
            child();
            w.writeStartElement(name);
            open.push(new boolean[1]);
            return this;
        }

        Xml empty(String name) throws XMLStreamException {
            child();
            w.writeEmptyElement(name);
            return this;
        }

        private void child() throws XMLStreamException {
            if (!open.isEmpty()) open.peek()[0] = true;
            w.writeCharacters("\n" + "  ".repeat(open.size()));
        }

        Xml attr(String name, Object value) throws XMLStreamException {
            if (value != null) w.writeAttribute(name, xmlSafe(String.valueOf(value)));
            return this;
        }

        Xml text(String s) throws XMLStreamException {
            w.writeCharacters(xmlSafe(s));
            return this;
        }

        Xml end() throws XMLStreamException {
            if (open.pop()[0]) w.writeCharacters("\n" + "  ".repeat(open.size()));
            w.writeEndElement();
            return this;
        }

        String finish() throws XMLStreamException {
            w.writeEndDocument();
            w.close();
            return out + "\n";
        }
    }
}
