package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;
import dev.vmctl.model.ScenarioValidation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a scenario (a file or a saved one) against a deployed topology; shows a live timeline, then the",
                "journal. Ctrl-C aborts the run (its faults are reverted). Exit 0 pass, 1 fail or aborted, 2 invalid or not runnable.",
                "  vmctl scenario run -f failover.yaml --topology shop --var port=8080 --junit out.xml --html out.html",
                "  vmctl scenario run cache-failover -o json"})
final class ScenarioRunCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "a saved scenario (vmctl scenario ls)")
    String name;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "the scenario file (YAML)")
    Path file;

    @Option(names = "--topology", paramLabel = "NAME", description = "the deployed topology to run against (default: the file's)")
    String topology;

    @Option(names = "--var", paramLabel = "KEY=VALUE", description = "override (or add) one of the file's vars; repeatable")
    List<String> vars = new ArrayList<>();

    @Option(names = "--junit", paramLabel = "FILE", description = "write the JUnit XML report there")
    Path junit;

    @Option(names = "--html", paramLabel = "FILE", description = "write the HTML report (one self-contained file) there")
    Path html;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "6h", converter = Durations.Converter.class,
            description = "how long to wait for the run to end (default ${DEFAULT-VALUE}); the run goes on on the server")
    Duration timeout;

    @Mixin
    OutputOption output;

    ScenarioRunCommand(CliContext ctx) { this.ctx = ctx; }

    static Map<String, String> vars(List<String> given) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : given) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw CliException.usage("--var " + kv + ": expected KEY=VALUE, e.g. --var port=8080");
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    @Override
    public Integer call() {
        if ((name == null) == (file == null)) throw CliException.usage("give a saved scenario's NAME or -f FILE (one of them)");
        Map<String, String> overrides = vars(vars);
        Map<String, Object> body = new LinkedHashMap<>();
        if (file != null) {
            ScenarioValidation v = ScenarioValidateCommand.validate(ctx, file, topology);
            if (!v.valid()) {
                ScenarioValidateCommand.printProblems(ctx.err(), v);
                return CliException.INVALID;
            }
            body.put("text", new String(UpCommand.read(file), StandardCharsets.UTF_8));
            body.put("file", file.toString());
        } else {
            body.put("scenario", name);
        }
        if (topology != null) body.put("topology", topology);
        if (!overrides.isEmpty()) body.put("vars", overrides);

        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        Timeline timeline = new Timeline(progress);
        ScenarioRun run;
        try (ProgressFollower ignored = ProgressFollower.start(ctx.api(), progress, timeline::line)) {
            JsonNode started;
            try {
                started = ctx.api().post("/api/v1/scenario-runs", body, ApiClient.DEFAULT_TIMEOUT);
            } catch (CliException e) {
                // refused before anything happened: a bad file, an unknown VM, a topology that is not deployed
                throw e.httpStatus() >= 400 && e.httpStatus() < 500 ? e.withExitCode(CliException.INVALID) : e;
            }
            run = Json.as(started, ScenarioRun.class);
            progress.println("scenario " + run.scenario() + " on topology " + run.topology() + ": run " + run.id()
                    + " (Ctrl-C aborts it; vmctl scenario abort " + run.id() + ")");
            progress.flush();
            timeline.follow(run.id());
            String id = run.id();
            Thread abortOnExit = new Thread(() -> abortIfRunning(id));
            Runtime.getRuntime().addShutdownHook(abortOnExit);
            try {
                run = await(id);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(abortOnExit);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs
                }
            }
        }
        JsonNode json = ctx.api().get("/api/v1/scenario-runs/" + ApiClient.seg(run.id()));
        run = Json.as(json, ScenarioRun.class);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ScenarioRender.journal(ctx.out(), run);
        ScenarioReportCommand.write(ctx, run.id(), "junit", junit);
        ScenarioReportCommand.write(ctx, run.id(), "html", html);
        if (!run.finished()) {
            throw CliException.failed("scenario run " + run.id() + " still running after " + Durations.format(timeout),
                    "follow it: vmctl scenario report " + run.id() + " -o json");
        }
        return ScenarioRun.PASS.equals(run.verdict()) ? 0 : CliException.FAILED;
    }

    /** Long-polls the run until it has finished or the timeout passed. */
    ScenarioRun await(String id) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000_000);
            long wait = Math.min(60, left);
            JsonNode j = ctx.api().get("/api/v1/scenario-runs/" + ApiClient.seg(id) + "?wait=" + wait, Duration.ofSeconds(wait + 30));
            ScenarioRun r = Json.as(j, ScenarioRun.class);
            if (r.finished() || System.nanoTime() >= deadline) return r;
        }
    }

    /** Ctrl-C: the run must not go on holding faults because its client went away. */
    private void abortIfRunning(String id) {
        try {
            ScenarioRun r = Json.as(ctx.api().get("/api/v1/scenario-runs/" + ApiClient.seg(id)), ScenarioRun.class);
            if (r.finished()) return;
            ctx.err().println("aborting scenario run " + id + " (its faults are reverted)…");
            ctx.err().flush();
            ctx.api().post("/api/v1/scenario-runs/" + ApiClient.seg(id) + "/abort", null, Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            ctx.err().println("could not abort scenario run " + id + ": " + e.getMessage() + " (vmctl scenario abort " + id + ")");
            ctx.err().flush();
        }
    }

    /** Prints the run's scenario.step events; those that arrive before the run's id is known wait for it. */
    static final class Timeline {
        private final PrintWriter out;
        private final List<JsonNode> early = new ArrayList<>();
        private String runId;

        Timeline(PrintWriter out) { this.out = out; }

        synchronized String line(JsonNode event) {
            if (!"scenario.step".equals(event.path("type").asText())) return null;
            if (runId == null) {
                early.add(event);
                return null;
            }
            return render(event);
        }

        synchronized void follow(String id) {
            runId = id;
            for (JsonNode e : early) {
                String l = render(e);
                if (l != null) out.println(l);
            }
            early.clear();
            out.flush();
        }

        private String render(JsonNode event) {
            if (!runId.equals(event.path("name").asText())) return null;
            JsonNode data = event.path("data");
            if (data.isMissingNode() || data.isNull()) return null;
            ScenarioStepResult s = Json.as(data, ScenarioStepResult.class);
            if ("pending".equals(s.outcome())) return null;
            return ScenarioRender.line(s);
        }
    }

}
