package dev.vmctl.engine.scenario;

import dev.vmctl.engine.Engine;
import dev.vmctl.engine.EventBus;
import dev.vmctl.engine.TopologyService;
import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.EventType;
import dev.vmctl.model.HealReport;
import dev.vmctl.model.NicView;
import dev.vmctl.model.ScenarioProblem;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;
import dev.vmctl.model.ScenarioValidation;
import dev.vmctl.model.ScenarioView;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.Lab;
import dev.vmctl.scenario.ScenarioParser;
import dev.vmctl.scenario.ScenarioRunner;
import dev.vmctl.scenario.ScenarioSpec;
import dev.vmctl.topology.Problem;
import dev.vmctl.topology.TopologyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scenarios: saved files, runs (each one operation {@code scenario.run} executing {@link ScenarioRunner} against
 * the engine), their journals, the fault ledger and healing. At most one run per topology at a time.
 */
public final class ScenarioService {
    private static final Logger log = LoggerFactory.getLogger(ScenarioService.class);
    /** The longest a run may take (its operation's deadline). */
    static final Duration RUN_LIMIT = Duration.ofHours(6);

    private final Engine engine;
    private final EventBus events;
    private final ScenarioStore store;
    private final Lab lab;
    private final Map<String, ScenarioRunner.Control> running = new ConcurrentHashMap<>();
    /** topology → the run now using it. */
    private final Map<String, String> busyTopologies = new ConcurrentHashMap<>();

    public ScenarioService(Engine engine, TopologyService topologies, EventBus events) {
        this(engine, events, new EngineLab(engine, topologies));
    }

    ScenarioService(Engine engine, EventBus events, Lab lab) {
        this.engine = engine;
        this.events = events;
        this.store = new ScenarioStore(engine.store());
        this.lab = lab;
    }

    public ScenarioStore store() { return store; }

    // ---------------------------------------------------------------- files

    /** Parses and validates; throws (INVALID) listing every problem. */
    public ScenarioSpec parse(String text, String file, Map<String, String> vars) {
        if (text == null || text.isBlank()) {
            throw VmctlException.invalid("text", "empty", "a scenario file (YAML), see /api/v1/scenario.schema.json");
        }
        return ScenarioParser.parse(text, file == null ? "scenario.yaml" : file, vars == null ? Map.of() : vars);
    }

    /** Validates a file, and when its topology is deployed, checks it against the topology too. Never throws for a bad file. */
    public ScenarioValidation validate(String text, String file, String topology, Map<String, String> vars) {
        String f = file == null ? "scenario.yaml" : file;
        ScenarioSpec spec;
        try {
            spec = parse(text, f, vars);
        } catch (TopologyException e) {
            return new ScenarioValidation(false, null, topology, null, 0, problems(e.problems()));
        } catch (VmctlException e) {
            return new ScenarioValidation(false, null, topology, null, 0,
                    List.of(new ScenarioProblem(f, 0, 0, "", e.getMessage(), e.detail())));
        }
        String topo = topology != null && !topology.isBlank() ? topology : spec.topology();
        if (topo == null || !lab.topologyDeployed(topo)) {
            return new ScenarioValidation(true, spec.name(), topo, null, spec.steps().size(), List.of());
        }
        try {
            ScenarioRunner.resolve(lab, spec, topo, f);
            return new ScenarioValidation(true, spec.name(), topo, true, spec.steps().size(), List.of());
        } catch (TopologyException e) {
            return new ScenarioValidation(true, spec.name(), topo, false, spec.steps().size(), problems(e.problems()));
        }
    }

    static List<ScenarioProblem> problems(List<Problem> ps) {
        return ps.stream().map(p -> new ScenarioProblem(p.file(), p.line(), p.column(), p.path(), p.message(), p.allowed())).toList();
    }

    public ScenarioView save(String text, String file) {
        ScenarioSpec spec = parse(text, file, Map.of());
        store.save(spec.name(), text);
        return view(store.saved(spec.name()).orElseThrow());
    }

    public List<ScenarioView> list() {
        return store.saved().stream().map(this::view).toList();
    }

    public ScenarioView get(String name) {
        return view(store.saved(name).orElseThrow(() -> VmctlException.notFound("scenario", name)));
    }

    public ScenarioView delete(String name) {
        ScenarioView v = get(name);
        store.delete(name);
        return v;
    }

    private ScenarioView view(ScenarioStore.Saved s) {
        List<String> checks = new ArrayList<>(), faults = new ArrayList<>();
        String description = null, topology = null;
        int steps = 0;
        try {
            ScenarioSpec spec = ScenarioParser.parse(s.text(), s.name() + ".yaml", Map.of());
            description = spec.description();
            topology = spec.topology();
            steps = spec.steps().size();
            spec.steadyState().forEach(c -> checks.add(c.name()));
            for (ScenarioSpec.Step st : spec.steps()) {
                if (st.check() != null) checks.add(st.check().name());
                else faults.add(st.fault().name());
            }
        } catch (VmctlException e) {
            description = "(no longer valid: " + e.getMessage() + ")";
        }
        List<ScenarioRun> last = store.runs(s.name(), 1);
        return new ScenarioView(s.name(), description, topology, s.savedAt(), steps, checks, faults,
                last.isEmpty() ? null : last.getFirst().id(), last.isEmpty() ? null : last.getFirst().verdict(), s.text());
    }

    // ---------------------------------------------------------------- runs

    /**
     * What to run: a saved scenario's name or a file's text (one of them), the topology (null: the file's),
     * vars overriding the file's, and how messages name the file.
     */
    public record RunRequest(String scenario, String text, String file, String topology, Map<String, String> vars) {}

    /**
     * Checks the scenario (file and references; a 400 listing every problem, nothing done), then starts the
     * run as an operation and answers at once with the journal as it starts.
     */
    public Accepted<ScenarioRun> start(RunRequest req) {
        String text = req.text();
        String file = req.file();
        if ((req.scenario() == null) == (text == null)) {
            throw VmctlException.invalid("scenario", "give exactly one of scenario (a saved name) and text (a file)",
                    "scenario: NAME of vmctl scenario ls, or text: the YAML file");
        }
        if (req.scenario() != null) {
            text = store.saved(req.scenario()).orElseThrow(() -> VmctlException.notFound("scenario", req.scenario())).text();
            file = req.scenario() + ".yaml";
        }
        ScenarioSpec spec = parse(text, file, req.vars());
        ScenarioRunner.Plan plan = ScenarioRunner.resolve(lab, spec, req.topology(), file == null ? "scenario.yaml" : file);
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String other = busyTopologies.putIfAbsent(plan.topology(), id);
        if (other != null) {
            throw VmctlException.conflict("topology " + plan.topology() + " is being used by scenario run " + other,
                    "wait for it (vmctl scenario runs) or abort it: vmctl scenario abort " + other);
        }
        ScenarioRunner.Control control = new ScenarioRunner.Control();
        running.put(id, control);
        String fileText = text;
        ScenarioRun initial = new ScenarioRun(id, spec.name(), plan.topology(), ScenarioRun.RUNNING, Instant.now().toString(), null, null,
                spec.vars(), 0, null, List.of());
        try {
            Operations.Op op = engine.ops().submit(new Operations.Spec("scenario.run", "scenario-run:" + id,
                    List.of("scenario:" + spec.name(), "topology:" + plan.topology(), "scenario-run:" + id), true), o -> {
                o.onCancel(() -> control.abort("aborted: operation cancelled"));
                try {
                    ScenarioRunner runner = new ScenarioRunner(lab, ledger(plan.topology()), (run, step) -> changed(run, step, fileText));
                    ScenarioRun end = runner.run(id, plan, o.id(), control);
                    if (ScenarioRun.FAIL.equals(end.verdict())) {
                        throw new VmctlException(VmctlException.Kind.CONFLICT, "scenario " + spec.name() + " failed"
                                + (end.error() == null ? "" : ": " + end.error()), null);
                    }
                    if (ScenarioRun.ABORTED.equals(end.verdict())) throw new Operations.CancelledException("scenario run aborted: " + end.error());
                    return end;
                } finally {
                    running.remove(id);
                    busyTopologies.remove(plan.topology(), id);
                }
            });
            store.saveRun(withOperation(initial, op.id()), fileText);
            return new Accepted<>(op.view(), run(id));
        } catch (RuntimeException e) {
            running.remove(id);
            busyTopologies.remove(plan.topology(), id);
            throw e;
        }
    }

    private static ScenarioRun withOperation(ScenarioRun r, String op) {
        return new ScenarioRun(r.id(), r.scenario(), r.topology(), r.verdict(), r.startedAt(), r.finishedAt(), r.error(), r.vars(),
                r.faultsHeld(), op, r.steps());
    }

    private ScenarioRunner.Ledger ledger(String topology) {
        return new ScenarioRunner.Ledger() {
            @Override public long applying(String runId, int step, dev.vmctl.scenario.Revert revert) {
                return store.applying(runId, step, topology, revert);
            }

            @Override public void reverted(long entry) { store.reverted(entry); }

            @Override public void revertFailed(long entry, String error) { store.revertFailed(entry, error); }
        };
    }

    /** Every journal change: kept in SQLite (a crash loses nothing up to that step) and announced. */
    private void changed(ScenarioRun run, ScenarioStepResult step, String text) {
        store.saveRun(run, text);
        if (step == null) {
            EventType t = run.finished() ? EventType.SCENARIO_FINISHED : EventType.SCENARIO_STARTED;
            events.publish(t, null, run.id(), null, null, run.scenario() + " on " + run.topology() + ": " + run.verdict(), run.operation(), run);
        } else {
            events.publish(EventType.SCENARIO_STEP, null, run.id(), null, null,
                    step.kind() + " " + step.name() + ": " + step.outcome(), run.operation(), step);
        }
    }

    public ScenarioRun run(String id) {
        return store.run(id).orElseThrow(() -> VmctlException.notFound("scenario run", id));
    }

    public List<ScenarioRun> runs(String scenario, int limit) {
        return store.runs(scenario, limit);
    }

    /** Waits (at most {@code timeout}) until the run has finished; answers it as it is then. */
    public ScenarioRun await(String id, Duration timeout) {
        ScenarioRun r = run(id);
        if (r.finished() || r.operation() == null) return r;
        engine.ops().await(r.operation(), timeout);
        return run(id);
    }

    /** Aborts a running run: what is not started is skipped, every fault it holds is reverted. */
    public ScenarioRun abort(String id) {
        ScenarioRun r = run(id);
        ScenarioRunner.Control c = running.get(id);
        if (c == null) {
            if (r.finished()) throw VmctlException.conflict("scenario run " + id + " has already finished (" + r.verdict() + ")", null);
            throw VmctlException.conflict("scenario run " + id + " is not running on this server", "vmctl heal reverts what it left");
        }
        c.abort("aborted by a user");
        return await(id, Duration.ofMinutes(2));
    }

    // ---------------------------------------------------------------- healing

    /**
     * Reverts every fault a run still holds (topology null: all topologies); running runs in scope are aborted
     * first. With {@code all}, also every link down, impairment and partition made by hand on the topology's VMs.
     */
    public HealReport heal(String topology, boolean all) {
        if (topology != null && !lab.topologyDeployed(topology)) throw VmctlException.notFound("topology", topology);
        List<String> reverted = new ArrayList<>(), failed = new ArrayList<>(), aborted = new ArrayList<>();
        for (Map.Entry<String, String> e : Map.copyOf(busyTopologies).entrySet()) {
            if (topology != null && !topology.equals(e.getKey())) continue;
            ScenarioRunner.Control c = running.get(e.getValue());
            if (c != null) {
                c.abort("aborted by vmctl heal");
                aborted.add(e.getValue());
                await(e.getValue(), Duration.ofMinutes(2));
            }
        }
        for (ScenarioStore.OpenFault f : store.open(topology)) {
            String what = "run " + f.runId() + ": " + f.revert().describe();
            try {
                f.revert().apply(lab);
                store.reverted(f.id());
                reverted.add(what);
            } catch (RuntimeException e) {
                store.revertFailed(f.id(), e.getMessage());
                failed.add(what + ": " + e.getMessage());
            }
        }
        if (all) {
            List<String> topologies = topology != null ? List.of(topology)
                    : engine.store().topologies().stream().map(t -> t.name()).toList();
            for (String t : topologies) {
                for (Lab.LabVm vm : lab.vms(t)) {
                    VmView v = engine.vms().get(vm.id());
                    for (NicView n : v.nics()) {
                        if ("down".equals(n.link())) attempt(reverted, failed, vm.ref() + " " + n.name() + ": link up",
                                () -> lab.setLink(vm.id(), n.name(), true));
                        if (n.impair() != null) attempt(reverted, failed, vm.ref() + " " + n.name() + ": impairment cleared",
                                () -> lab.impair(vm.id(), n.name(), null));
                    }
                }
            }
            for (String p : engine.networks().partitions()) {
                attempt(reverted, failed, "partition " + p + " removed", () -> lab.unpartition(p));
            }
        }
        return new HealReport(reverted, failed, aborted);
    }

    private static void attempt(List<String> ok, List<String> failed, String what, Runnable r) {
        try {
            r.run();
            ok.add(what);
        } catch (RuntimeException e) {
            failed.add(what + ": " + e.getMessage());
        }
    }

    /**
     * At start-up, after the engine's reconciliation: runs that were running when the server died are
     * {@code aborted}, and every fault the ledger still holds is reverted (in the background: the VMs it
     * touches may still be re-attaching).
     */
    public void reconcile() {
        for (ScenarioRun r : store.unfinishedRuns()) {
            ScenarioRun aborted = new ScenarioRun(r.id(), r.scenario(), r.topology(), ScenarioRun.ABORTED, r.startedAt(),
                    Instant.now().toString(), "server restarted during the run; its faults are reverted at start-up",
                    r.vars(), 0, r.operation(), r.steps().stream().map(ScenarioService::unfinished).toList());
            store.saveRun(aborted, store.runText(r.id()).orElse(""));
            log.info("scenario run {} ({}) aborted: the server restarted during it", r.id(), r.scenario());
        }
        if (store.open(null).isEmpty()) return;
        Thread.ofVirtual().name("scenario-heal").start(() -> {
            HealReport h = heal(null, false);
            log.info("scenario faults left by a previous server reverted: {}; failed: {}", h.reverted(), h.failed());
        });
    }

    private static ScenarioStepResult unfinished(ScenarioStepResult s) {
        if (!List.of("pending", "running", "applied").contains(s.outcome())) return s;
        String outcome = "applied".equals(s.outcome()) ? "reverted" : "skipped";
        return new ScenarioStepResult(s.index(), s.phase(), s.kind(), s.name(), s.type(), s.targets(), s.scheduledMs(), s.startedMs(),
                s.finishedMs(), s.revertedMs(), outcome, s.expect(), s.mode(),
                "applied".equals(s.outcome()) ? "reverted at start-up after the server restarted" : "run aborted: server restarted",
                s.measured(), s.attempts(), s.operations(), s.line());
    }

    public Optional<ScenarioRunner.Control> control(String id) {
        return Optional.ofNullable(running.get(id));
    }

    /** Aborts every run (server shutdown): their faults are reverted before the server stops. */
    public void close() {
        for (var c : running.values()) c.abort("server shutting down");
        for (String id : List.copyOf(running.keySet())) {
            try {
                await(id, Duration.ofSeconds(60));
            } catch (RuntimeException e) {
                log.warn("scenario run {}: {}", id, e.getMessage());
            }
        }
    }
}
