package dev.vmctl.scenario;

import dev.vmctl.model.ExecResult;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.Lab.LabNic;
import dev.vmctl.scenario.Lab.LabVm;
import dev.vmctl.scenario.ScenarioSpec.Check;
import dev.vmctl.scenario.ScenarioSpec.Fault;
import dev.vmctl.scenario.ScenarioSpec.FaultAction;
import dev.vmctl.scenario.ScenarioSpec.LinkDown;
import dev.vmctl.scenario.ScenarioSpec.LinkImpair;
import dev.vmctl.scenario.ScenarioSpec.NodeStop;
import dev.vmctl.scenario.ScenarioSpec.Partition;
import dev.vmctl.scenario.ScenarioSpec.Step;
import dev.vmctl.scenario.ScenarioSpec.VmKill;
import dev.vmctl.scenario.ScenarioSpec.VmReboot;
import dev.vmctl.scenario.ScenarioSpec.VmStop;
import dev.vmctl.topology.Problem;
import dev.vmctl.topology.TopologyException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

/**
 * Executes a scenario against a {@link Lab}: the reset, the steady-state checks before (go/no-go), the timed
 * steps (each at its time, in its own thread; a step without {@code at} when the previous one has finished),
 * the reverts (a fault with a duration that long after it started, the others at the end), the steady-state
 * checks after (the verdict). Every fault is written to the {@link Ledger} before it is applied and marked
 * there once reverted. Every change of the journal goes to the {@link Journal} listener.
 *
 * <p>Times: the journal's milliseconds count from the run's start; a step's {@code at} counts from the start of
 * the steps (after the reset and the steady-state checks before), so {@code scheduledMs = stepsStart + at}.
 */
public final class ScenarioRunner {

    /** The fault ledger (the engine keeps it in SQLite). */
    public interface Ledger {
        /** Records a fault about to be applied; returns its entry. */
        long applying(String runId, int step, Revert revert);

        void reverted(long entry);

        void revertFailed(long entry, String error);
    }

    /** Told every change of a run's journal: the whole journal, and the step that changed (null: the run itself). */
    public interface Journal {
        void changed(ScenarioRun run, ScenarioStepResult step);
    }

    /** A scenario checked against a deployed topology: every reference resolved. Built by {@link #resolve}. */
    public record Plan(ScenarioSpec spec, String topology, Map<String, LabVm> vms, List<String> nodes) {
        LabVm vm(String ref) {
            return vms.get(ref);
        }
    }

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");

    /**
     * Checks a scenario against the lab before anything happens: the topology is deployed, every VM, NIC,
     * node and node snapshot it names exists.
     *
     * @param topologyOverride the topology to run against (null: the file's)
     * @throws TopologyException (INVALID) listing every problem
     */
    public static Plan resolve(Lab lab, ScenarioSpec spec, String topologyOverride, String fileName) {
        String topo = topologyOverride != null && !topologyOverride.isBlank() ? topologyOverride : spec.topology();
        List<Problem> problems = new ArrayList<>();
        if (topo == null || topo.isBlank()) {
            throw new TopologyException(List.of(new Problem(fileName, 0, 0, "topology",
                    "no topology to run against", "give topology: in the file or --topology")));
        }
        if (!lab.topologyDeployed(topo)) {
            throw new TopologyException(List.of(new Problem(fileName, 0, 0, "topology",
                    "topology '" + topo + "' is not deployed", "a deployed topology (vmctl topology ls); deploy it with vmctl up -f")));
        }
        Map<String, LabVm> vms = new LinkedHashMap<>();
        for (LabVm v : lab.vms(topo)) {
            vms.put(v.ref(), v);
            vms.putIfAbsent(v.name(), v);
        }
        List<String> nodes = lab.nodes(topo);
        String allowedVms = String.join(", ", lab.vms(topo).stream().map(LabVm::ref).toList());
        Resolver r = new Resolver(fileName, topo, vms, nodes, allowedVms, problems);
        for (int i = 0; i < spec.steadyState().size(); i++) r.check(spec.steadyState().get(i), "steadyState[" + i + "]");
        for (Step s : spec.steps()) {
            String path = "steps[" + s.index() + "]";
            if (s.check() != null) r.check(s.check(), path + ".check");
            else r.fault(s.fault(), path + ".fault");
        }
        for (int i = 0; i < spec.reset().nodeSnapshots().size(); i++) {
            ScenarioSpec.NodeSnapshot ns = spec.reset().nodeSnapshots().get(i);
            String path = "reset.nodeSnapshots[" + i + "]";
            if (!nodes.contains(ns.node())) {
                problems.add(new Problem(fileName, 0, 0, path, "no node '" + ns.node() + "' in topology " + topo, String.join(", ", nodes)));
            } else if (!lab.nodeSnapshots(topo, ns.node()).contains(ns.snapshot())) {
                problems.add(new Problem(fileName, 0, 0, path, "node " + ns.node() + " has no snapshot '" + ns.snapshot() + "'",
                        String.join(", ", lab.nodeSnapshots(topo, ns.node()))));
            }
        }
        if (!problems.isEmpty()) throw new TopologyException(problems);
        return new Plan(spec, topo, vms, nodes);
    }

    private record Resolver(String file, String topo, Map<String, LabVm> vms, List<String> nodes, String allowedVms,
                            List<Problem> problems) {
        void check(Check c, String path) {
            String p = path + "." + c.probe().type();
            vm(c.probe().from(), p + (c.probe() instanceof ScenarioSpec.Exec ? ".on" : ".from"), c.line());
            String to = to(c.probe());
            if (to != null && !IPV4.matcher(to).matches()) vm(to, p + ".to", c.line());
        }

        void fault(Fault f, String path) {
            String p = path + "." + f.action().type();
            switch (f.action()) {
                case LinkDown d -> nic(d.vm(), d.nic(), p, f.line());
                case LinkImpair d -> nic(d.vm(), d.nic(), p, f.line());
                case Partition d -> {
                    for (int i = 0; i < d.a().size(); i++) addressed(d.a().get(i), p + ".a[" + i + "]", f.line());
                    for (int i = 0; i < d.b().size(); i++) addressed(d.b().get(i), p + ".b[" + i + "]", f.line());
                }
                case VmReboot d -> vm(d.vm(), p + ".vm", f.line());
                case VmStop d -> vm(d.vm(), p + ".vm", f.line());
                case VmKill d -> vm(d.vm(), p + ".vm", f.line());
                case NodeStop d -> {
                    if (!nodes.contains(d.node())) {
                        problems.add(new Problem(file, f.line(), 0, p + ".node", "no node '" + d.node() + "' in topology " + topo,
                                String.join(", ", nodes)));
                    }
                }
            }
        }

        LabVm vm(String ref, String path, int line) {
            LabVm v = vms.get(ref);
            if (v == null) problems.add(new Problem(file, line, 0, path, "no VM '" + ref + "' in topology " + topo, allowedVms));
            return v;
        }

        void nic(String ref, String nic, String path, int line) {
            LabVm v = vm(ref, path + ".vm", line);
            if (v != null && v.nics().stream().noneMatch(n -> n.name().equals(nic))) {
                problems.add(new Problem(file, line, 0, path + ".nic", "VM " + ref + " has no NIC '" + nic + "'",
                        String.join(", ", v.nics().stream().map(LabNic::name).toList())));
            }
        }

        void addressed(String ref, String path, int line) {
            LabVm v = vm(ref, path, line);
            if (v != null && v.nics().stream().noneMatch(n -> n.ip() != null)) {
                problems.add(new Problem(file, line, 0, path, "VM " + ref + " has no IPv4 address to partition", "VMs with an address"));
            }
        }
    }

    static String to(ScenarioSpec.Probe p) {
        return switch (p) {
            case ScenarioSpec.Ping x -> x.to();
            case ScenarioSpec.Http x -> x.to();
            case ScenarioSpec.Tcp x -> x.to();
            case ScenarioSpec.Exec x -> null;
        };
    }

    private final Lab lab;
    private final Ledger ledger;
    private final Journal listener;

    public ScenarioRunner(Lab lab, Ledger ledger, Journal listener) {
        this.lab = lab;
        this.ledger = ledger;
        this.listener = listener;
    }

    /** A run in progress: abort it from any thread. */
    public static final class Control {
        private final AtomicBoolean aborted = new AtomicBoolean();
        private volatile String reason;
        private final List<Thread> threads = new CopyOnWriteArrayList<>();

        /** Aborts the run: steps not yet started are skipped, checks stop after their current attempt, faults are reverted. */
        public void abort(String why) {
            if (aborted.compareAndSet(false, true)) {
                reason = why;
                for (Thread t : threads) t.interrupt();
            }
        }

        public boolean aborted() { return aborted.get(); }

        public String reason() { return reason; }
    }

    /** Runs the plan to its end (or abort) on the calling thread; returns the final journal. */
    public ScenarioRun run(String runId, Plan plan, String operation, Control control) {
        return new Execution(runId, plan, operation, control).run();
    }

    /** One run's state; every journal change goes through {@link #set}. */
    private final class Execution {
        final String id;
        final Plan plan;
        final ScenarioSpec spec;
        final String operation;
        final Control control;
        final long t0 = System.nanoTime();
        final Instant startedAt = Instant.now();
        final List<ScenarioStepResult> journal = new ArrayList<>();
        final List<Integer> beforePos = new ArrayList<>(), stepPos = new ArrayList<>(), afterPos = new ArrayList<>();
        final List<Integer> resetPos = new ArrayList<>();
        /** Faults applied and not yet reverted, in the order they were applied. */
        final List<Held> held = new ArrayList<>();
        final AtomicBoolean stopping = new AtomicBoolean();
        volatile boolean failed;
        String verdict = ScenarioRun.RUNNING;
        String error;
        Instant finishedAt;

        record Held(int pos, long entry, Revert revert, long startedMs, Duration duration) {}

        Execution(String id, Plan plan, String operation, Control control) {
            this.id = id;
            this.plan = plan;
            this.spec = plan.spec();
            this.operation = operation;
            this.control = control;
            List<ScenarioSpec.NodeSnapshot> resets = spec.reset().nodeSnapshots();
            for (int i = 0; i < resets.size(); i++) {
                resetPos.add(journal.size());
                journal.add(new ScenarioStepResult(i, ScenarioStepResult.BEFORE, "action", "reset " + resets.get(i).node(), "node.restore",
                        List.of(resets.get(i).node()), null, null, null, null, "pending", null, null, null, Map.of("snapshot", resets.get(i).snapshot()),
                        0, List.of(), 0));
            }
            for (int i = 0; i < spec.steadyState().size(); i++) {
                beforePos.add(journal.size());
                journal.add(pendingCheck(i, ScenarioStepResult.BEFORE, spec.steadyState().get(i)));
            }
            for (Step s : spec.steps()) {
                stepPos.add(journal.size());
                if (s.check() != null) {
                    journal.add(pendingCheck(s.index(), ScenarioStepResult.STEPS, s.check()));
                } else {
                    Fault f = s.fault();
                    journal.add(new ScenarioStepResult(s.index(), ScenarioStepResult.STEPS, ScenarioStepResult.FAULT, f.name(), f.action().type(),
                            f.action().refs(), null, null, null, null, "pending", null, null, null, Map.of(), 0, List.of(), f.line()));
                }
            }
            for (int i = 0; i < spec.steadyState().size(); i++) {
                afterPos.add(journal.size());
                journal.add(pendingCheck(i, ScenarioStepResult.AFTER, spec.steadyState().get(i)));
            }
        }

        ScenarioStepResult pendingCheck(int index, String phase, Check c) {
            List<String> targets = new ArrayList<>();
            targets.add(c.probe().from());
            String to = to(c.probe());
            if (to != null) targets.add(to);
            return new ScenarioStepResult(index, phase, ScenarioStepResult.CHECK, c.name(), c.probe().type(), targets, null, null, null, null,
                    "pending", c.expect().name().toLowerCase(Locale.ROOT), mode(c), null, Map.of(), 0, List.of(), c.line());
        }

        long now() {
            return (System.nanoTime() - t0) / 1_000_000;
        }

        synchronized ScenarioRun snapshot() {
            return new ScenarioRun(id, spec.name(), plan.topology(), verdict, startedAt.toString(),
                    finishedAt == null ? null : finishedAt.toString(), error, spec.vars(), held.size(), operation, journal);
        }

        /** Changes one journal line; the listener hears the changes in the order they were made. */
        synchronized void set(int pos, ScenarioStepResult r) {
            journal.set(pos, r);
            listener.changed(snapshot(), r);
        }

        synchronized ScenarioStepResult at(int pos) {
            return journal.get(pos);
        }

        ScenarioRun run() {
            synchronized (this) {
                listener.changed(snapshot(), null);
            }
            try {
                reset();
                boolean go = steadyState(beforePos);
                if (!go && !control.aborted()) {
                    error = "steady state before the steps does not hold (go/no-go): no fault was applied";
                    for (int p : stepPos) skip(p, "steady state before does not hold");
                } else if (!control.aborted()) {
                    steps();
                }
            } catch (RuntimeException e) {
                failed = true;
                error = "scenario run: " + e.getMessage();
            } finally {
                if ((failed || anyFailed()) && !control.aborted() && spec.onFail() == ScenarioSpec.OnFail.SNAPSHOT) postMortem();
                revertAll();
            }
            if (!control.aborted()) {
                if (!steadyState(afterPos)) failed = true;
            } else {
                for (int p : afterPos) skip(p, "run aborted");
            }
            for (int p = 0; p < journal.size(); p++) skip(p, control.aborted() ? "run aborted" : "not reached");
            synchronized (this) {
                finishedAt = Instant.now();
                if (control.aborted()) {
                    verdict = ScenarioRun.ABORTED;
                    if (error == null) error = control.reason();
                } else {
                    verdict = failed || anyFailed() ? ScenarioRun.FAIL : ScenarioRun.PASS;
                }
            }
            ScenarioRun last;
            synchronized (this) {
                last = snapshot();
                listener.changed(last, null);
            }
            return last;
        }

        synchronized boolean anyFailed() {
            for (ScenarioStepResult r : journal) {
                if (List.of("fail", "error", "failed", "revert-failed").contains(r.outcome())) return true;
            }
            return false;
        }

        void reset() {
            List<ScenarioSpec.NodeSnapshot> resets = spec.reset().nodeSnapshots();
            for (int i = 0; i < resets.size(); i++) {
                int pos = resetPos.get(i);
                ScenarioStepResult r = at(pos);
                long start = now();
                set(pos, with(r, start, start, null, null, "running", null, r.measured(), 0, List.of()));
                try {
                    String op = lab.restoreNode(plan.topology(), resets.get(i).node(), resets.get(i).snapshot());
                    set(pos, with(r, start, start, now(), null, "pass", "restored", r.measured(), 1, ops(op)));
                } catch (RuntimeException e) {
                    set(pos, with(r, start, start, now(), null, "error", e.getMessage(), r.measured(), 1, List.of()));
                    throw new VmctlException(VmctlException.Kind.CONFLICT, "reset: node " + resets.get(i).node() + ": " + e.getMessage(), null);
                }
            }
        }

        boolean steadyState(List<Integer> positions) {
            boolean ok = true;
            for (int i = 0; i < positions.size(); i++) {
                if (control.aborted()) {
                    skip(positions.get(i), "run aborted");
                    continue;
                }
                long now = now();
                if (!runCheck(positions.get(i), spec.steadyState().get(i), now)) ok = false;
            }
            return ok;
        }

        void steps() {
            long stepsStart = now();
            List<Step> steps = spec.steps();
            List<CountDownLatch> done = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) done.add(new CountDownLatch(1));
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                int pos = stepPos.get(i);
                CountDownLatch previous = i == 0 ? null : done.get(i - 1);
                CountDownLatch mine = done.get(i);
                Thread t = Thread.ofVirtual().name("scenario-" + id + "-step-" + i).unstarted(() -> {
                    try {
                        Long scheduled;
                        if (s.at() != null) {
                            scheduled = stepsStart + s.at().toMillis();
                            sleepUntil(scheduled);
                        } else if (previous != null) {
                            previous.await();
                            scheduled = now();
                        } else {
                            scheduled = stepsStart;
                        }
                        if (stopping.get() || control.aborted()) {
                            skip(pos, control.aborted() ? "run aborted" : "an earlier check with stopOnFail failed");
                            return;
                        }
                        if (s.check() != null) {
                            boolean ok = runCheck(pos, s.check(), scheduled);
                            if (!ok && s.check().stopOnFail()) stopping.set(true);
                        } else {
                            applyFault(pos, s, scheduled);
                        }
                    } catch (InterruptedException e) {
                        skip(pos, "run aborted");
                    } finally {
                        mine.countDown();
                    }
                });
                threads.add(t);
                control.threads.add(t);
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) join(t);
            // faults with a duration revert on their own schedule; wait for those still held
            waitTimedReverts();
        }

        void sleepUntil(long ms) throws InterruptedException {
            long target = t0 + ms * 1_000_000;
            while (true) {
                long left = target - System.nanoTime();
                if (left <= 0) return;
                if (control.aborted() || Thread.interrupted()) throw new InterruptedException();
                if (left > 2_000_000) LockSupport.parkNanos(left - 1_000_000);
                else Thread.onSpinWait();
            }
        }

        void join(Thread t) {
            while (true) {
                try {
                    t.join();
                    return;
                } catch (InterruptedException e) {
                    control.abort("interrupted");
                }
            }
        }

        // ---- checks ----

        boolean runCheck(int pos, Check c, long scheduled) {
            ScenarioStepResult r = at(pos);
            long start = now();
            set(pos, with(r, scheduled, start, null, null, "running", null, Map.of(), 0, List.of()));
            Duration timeout = c.timeout() == null ? ScenarioSpec.Defaults.TIMEOUT : c.timeout();
            boolean wantSuccess = c.expect() == ScenarioSpec.Expect.PASS;
            Probes.Attempt last;
            int attempts = 0, met = 0;
            String outcome;
            String message;
            Map<String, Object> measured = new LinkedHashMap<>();
            if (c.every() != null) {
                long end = start + c.forD().toMillis();
                long next = start;
                last = null;
                while (!control.aborted()) {
                    last = attempt(c, timeout);
                    attempts++;
                    if (!last.error() && last.success() == wantSuccess) met++;
                    next += c.every().toMillis();
                    if (next >= end) break;
                    try {
                        sleepUntil(Math.max(next, now()));
                    } catch (InterruptedException e) {
                        break;
                    }
                }
                double pct = attempts == 0 ? 0 : Math.round(met * 1000.0 / attempts) / 10.0;
                double min = c.minSuccessPct() == null ? 100 : c.minSuccessPct();
                measured.put("attempts", attempts);
                measured.put("successes", met);
                measured.put("successPct", pct);
                measured.put("minSuccessPct", min);
                if (last != null) measured.put("last", last.measured());
                boolean ok = attempts > 0 && pct >= min;
                outcome = ok ? "pass" : "fail";
                message = met + "/" + attempts + " attempts as expected (" + Probes.fmt(pct) + "%, need " + Probes.fmt(min) + "%)"
                        + (last == null ? "" : "; last: " + last.message());
            } else if (c.until() != null) {
                long deadline = start + c.until().toMillis();
                while (true) {
                    Duration left = Duration.ofMillis(Math.max(1000, deadline - now()));
                    last = attempt(c, timeout.compareTo(left) < 0 ? timeout : left);
                    attempts++;
                    if (!last.error() && last.success() == wantSuccess) break;
                    if (now() + Check.RETRY.toMillis() > deadline || control.aborted()) break;
                    try {
                        sleepUntil(now() + Check.RETRY.toMillis());
                    } catch (InterruptedException e) {
                        break;
                    }
                }
                measured.putAll(last.measured());
                boolean ok = !last.error() && last.success() == wantSuccess;
                outcome = last.error() && !ok ? "error" : ok ? "pass" : "fail";
                message = (ok ? "as expected after " : "not as expected within " + c.until().toMillis() + " ms, ")
                        + attempts + " attempt" + (attempts == 1 ? "" : "s") + ": " + last.message();
            } else {
                last = attempt(c, timeout);
                attempts = 1;
                measured.putAll(last.measured());
                boolean ok = !last.error() && last.success() == wantSuccess;
                outcome = last.error() ? "error" : ok ? "pass" : "fail";
                message = last.message() + (wantSuccess ? "" : last.success() ? " (expected to fail)" : " (failed as expected)");
            }
            if (control.aborted() && !"pass".equals(outcome)) {
                outcome = "skipped";
                message = "run aborted: " + message;
            }
            set(pos, with(r, scheduled, start, now(), null, outcome, message, measured, attempts, List.of()));
            return "pass".equals(outcome);
        }

        Probes.Attempt attempt(Check c, Duration timeout) {
            LabVm from = plan.vm(c.probe().from());
            String to = to(c.probe());
            String address = null;
            if (to != null) {
                address = IPV4.matcher(to).matches() ? to : address(from, plan.vm(to));
                if (address == null) {
                    return new Probes.Attempt(false, true, Map.of(), "VM " + to + " has no IPv4 address");
                }
            }
            List<String> argv = Probes.argv(c.probe(), address, timeout);
            ExecResult r;
            try {
                r = lab.exec(from.id(), argv, timeout.plus(Probes.EXEC_SLACK));
            } catch (RuntimeException e) {
                return new Probes.Attempt(false, true, Map.of(), "cannot run the probe in " + c.probe().from() + ": " + e.getMessage());
            }
            Probes.Attempt a = Probes.read(c.probe(), r);
            if (address != null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("address", address);
                m.putAll(a.measured());
                a = new Probes.Attempt(a.success(), a.error(), m, a.message());
            }
            return a;
        }

        // ---- faults ----

        void applyFault(int pos, Step s, long scheduled) {
            Fault f = s.fault();
            ScenarioStepResult r = at(pos);
            long start = now();
            Map<String, Object> measured = new LinkedHashMap<>();
            Revert revert;
            try {
                revert = revertOf(f.action(), s.index(), measured);
            } catch (RuntimeException e) {
                failed = true;
                set(pos, with(r, scheduled, start, now(), null, "failed", "cannot prepare the fault: " + e.getMessage(), measured, 1, List.of()));
                return;
            }
            if (Revert.NONE.equals(revert.action())) { // nothing to undo (a reboot): no ledger entry, nothing held
                set(pos, with(r, scheduled, start, null, null, "running", null, measured, 1, List.of()));
                try {
                    String op = applyAction(f.action(), revert);
                    set(pos, with(r, scheduled, start, now(), null, "applied", revert.describe(), measured, 1, ops(op)));
                } catch (RuntimeException e) {
                    failed = true;
                    set(pos, with(r, scheduled, start, now(), null, "failed", "cannot apply: " + e.getMessage(), measured, 1, List.of()));
                }
                return;
            }
            long entry = ledger.applying(id, s.index(), revert);
            Held h = new Held(pos, entry, revert, start, f.duration());
            synchronized (this) {
                held.add(h);
            }
            set(pos, with(r, scheduled, start, null, null, "running", null, measured, 1, List.of()));
            String op;
            try {
                op = applyAction(f.action(), revert);
            } catch (RuntimeException e) {
                failed = true;
                set(pos, with(r, scheduled, start, now(), null, "failed", "cannot apply: " + e.getMessage(), measured, 1, List.of()));
                revert(h); // partial effects
                return;
            }
            set(pos, with(r, scheduled, start, now(), null, "applied", revert.describe(), measured, 1, ops(op)));
            if (f.duration() != null) {
                Thread t = Thread.ofVirtual().name("scenario-" + id + "-revert-" + s.index()).start(() -> {
                    try {
                        sleepUntil(start + f.duration().toMillis());
                    } catch (InterruptedException e) {
                        return; // revertAll takes it
                    }
                    revert(h);
                });
                control.threads.add(t);
                synchronized (this) {
                    timedReverts.add(t);
                }
            }
        }

        final List<Thread> timedReverts = new ArrayList<>();

        void waitTimedReverts() {
            List<Thread> ts;
            synchronized (this) {
                ts = List.copyOf(timedReverts);
            }
            for (Thread t : ts) join(t);
        }

        Revert revertOf(FaultAction a, int step, Map<String, Object> measured) {
            return switch (a) {
                case LinkDown d -> {
                    LabVm v = plan.vm(d.vm());
                    measured.put("nic", d.nic());
                    yield new Revert(Revert.LINK_UP, v.id(), d.nic(), plan.topology(), v.node(), null, null, null, null,
                            "link.down " + d.vm() + " " + d.nic());
                }
                case LinkImpair d -> {
                    LabVm v = plan.vm(d.vm());
                    Map<String, String> before = lab.impairment(v.id(), d.nic());
                    measured.put("nic", d.nic());
                    measured.putAll(d.impair());
                    measured.put("direction", d.direction().name().toLowerCase(Locale.ROOT));
                    yield new Revert(Revert.IMPAIR, v.id(), d.nic(), plan.topology(), v.node(), null, before, null, null,
                            "link.impair " + d.vm() + " " + d.nic() + " " + d.impair() + " " + d.direction().name().toLowerCase(Locale.ROOT));
                }
                case Partition d -> {
                    List<String> ipsA = addresses(d.a()), ipsB = addresses(d.b());
                    measured.put("a", ipsA);
                    measured.put("b", ipsB);
                    String pid = (id.replaceAll("[^a-z0-9]", "") + "s" + step);
                    yield new Revert(Revert.UNPARTITION, null, null, plan.topology(), null, pid, null, ipsA, ipsB,
                            "partition " + d.a() + " | " + d.b());
                }
                case VmReboot d -> Revert.none("vm.reboot " + d.vm());
                case VmStop d -> new Revert(Revert.START, plan.vm(d.vm()).id(), null, plan.topology(), null, null, null, null, null,
                        "vm.stop " + d.vm());
                case VmKill d -> new Revert(Revert.START, plan.vm(d.vm()).id(), null, plan.topology(), null, null, null, null, null,
                        "vm.kill " + d.vm());
                case NodeStop d -> new Revert(Revert.NODE_START, null, null, plan.topology(), d.node(), null, null, null, null,
                        "node.stop " + d.node());
            };
        }

        String applyAction(FaultAction a, Revert rv) {
            return switch (a) {
                case LinkDown d -> lab.setLink(rv.vmId(), d.nic(), false);
                case LinkImpair d -> {
                    Map<String, String> m = new LinkedHashMap<>(d.impair());
                    m.put("direction", d.direction().name().toLowerCase(Locale.ROOT));
                    yield lab.impair(rv.vmId(), d.nic(), m);
                }
                case Partition d -> lab.partition(rv.partition(), rv.a(), rv.b());
                case VmReboot d -> lab.reboot(plan.vm(d.vm()).id());
                case VmStop d -> lab.stop(rv.vmId());
                case VmKill d -> lab.kill(rv.vmId());
                case NodeStop d -> lab.stopNode(plan.topology(), d.node());
            };
        }

        List<String> addresses(List<String> refs) {
            List<String> out = new ArrayList<>();
            for (String ref : refs) {
                for (LabNic n : plan.vm(ref).nics()) if (n.ip() != null) out.add(n.ip());
            }
            return out;
        }

        /** Reverts one held fault (once: whoever removes it from {@link #held} does it). */
        void revert(Held h) {
            synchronized (this) {
                if (!held.remove(h)) return;
            }
            ScenarioStepResult r = at(h.pos());
            try {
                String op = h.revert().apply(lab);
                ledger.reverted(h.entry());
                List<String> ops = new ArrayList<>(r.operations());
                if (op != null) ops.add(op);
                String outcome = "failed".equals(r.outcome()) ? "failed" : "reverted";
                set(h.pos(), with(r, r.scheduledMs(), r.startedMs(), r.finishedMs() == null ? now() : r.finishedMs(), now(), outcome,
                        r.message(), r.measured(), r.attempts(), ops));
            } catch (RuntimeException e) {
                ledger.revertFailed(h.entry(), e.getMessage());
                failed = true;
                set(h.pos(), with(r, r.scheduledMs(), r.startedMs(), r.finishedMs(), null, "revert-failed",
                        "revert failed (vmctl heal retries): " + e.getMessage(), r.measured(), r.attempts(), r.operations()));
            }
        }

        /** Reverts what is still held, newest first; interrupts the timed reverts waiting. */
        void revertAll() {
            List<Held> hs;
            synchronized (this) {
                hs = new ArrayList<>(held);
            }
            for (Thread t : timedReverts) t.interrupt();
            for (int i = hs.size() - 1; i >= 0; i--) revert(hs.get(i));
        }

        void postMortem() {
            String name = spec.name() + "-fail-" + id.substring(0, Math.min(8, id.length()));
            for (String node : plan.nodes()) {
                int pos;
                synchronized (this) {
                    pos = journal.size();
                    journal.add(new ScenarioStepResult(pos, ScenarioStepResult.AFTER, "action", "post-mortem " + node, "node.snapshot",
                            List.of(node), null, null, null, null, "pending", null, null, null, Map.of("snapshot", name), 0, List.of(), 0));
                }
                ScenarioStepResult r = at(pos);
                long start = now();
                try {
                    String op = lab.snapshotNode(plan.topology(), node, name);
                    set(pos, with(r, start, start, now(), null, "pass", "snapshot " + name, r.measured(), 1, ops(op)));
                } catch (RuntimeException e) {
                    set(pos, with(r, start, start, now(), null, "error", e.getMessage(), r.measured(), 1, List.of()));
                }
            }
        }

        void skip(int pos, String why) {
            ScenarioStepResult r = at(pos);
            if (!"pending".equals(r.outcome())) return;
            set(pos, with(r, r.scheduledMs(), null, null, null, "skipped", why, r.measured(), 0, List.of()));
        }
    }

    /** The address of {@code to} as {@code from} reaches it: on a network they share, else its first address. */
    static String address(LabVm from, LabVm to) {
        if (to == null) return null;
        for (LabNic f : from.nics()) {
            for (LabNic t : to.nics()) if (t.ip() != null && f.network() != null && f.network().equals(t.network())) return t.ip();
        }
        for (LabNic t : to.nics()) if (t.ip() != null) return t.ip();
        return null;
    }

    static String mode(Check c) {
        return c.every() != null ? "every" : c.until() != null ? "until" : "once";
    }

    private static List<String> ops(String op) {
        return op == null ? List.of() : List.of(op);
    }

    private static ScenarioStepResult with(ScenarioStepResult r, Long scheduled, Long started, Long finished, Long reverted,
                                           String outcome, String message, Map<String, Object> measured, int attempts,
                                           List<String> operations) {
        return new ScenarioStepResult(r.index(), r.phase(), r.kind(), r.name(), r.type(), r.targets(), scheduled, started, finished,
                reverted, outcome, r.expect(), r.mode(), message, measured, attempts, operations, r.line());
    }

}
