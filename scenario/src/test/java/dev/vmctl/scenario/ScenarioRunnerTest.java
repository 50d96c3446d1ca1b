package dev.vmctl.scenario;

import dev.vmctl.model.ExecResult;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;
import dev.vmctl.scenario.Lab.LabNic;
import dev.vmctl.scenario.Lab.LabVm;
import dev.vmctl.scenario.ScenarioSpec.Check;
import dev.vmctl.scenario.ScenarioSpec.Expect;
import dev.vmctl.scenario.ScenarioSpec.Fault;
import dev.vmctl.scenario.ScenarioSpec.Step;
import dev.vmctl.topology.TopologyException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The runner against a fake lab whose "network" answers pings by its link and partition state. */
class ScenarioRunnerTest {

    /** Two VMs a (198.18.0.2) and b (198.18.0.3) on one network; ping from one to the other works unless cut. */
    static final class FakeLab implements Lab {
        final Map<String, Boolean> links = new HashMap<>(Map.of("a/eth0", true, "b/eth0", true));
        final Map<String, Map<String, String>> impair = new HashMap<>();
        final Map<String, List<List<String>>> partitions = new HashMap<>();
        final Set<String> stopped = new HashSet<>();
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile long execDelayMs = 5;

        @Override public boolean topologyDeployed(String t) { return t.equals("lab"); }

        @Override public List<LabVm> vms(String t) {
            return List.of(new LabVm("a", "lab-n-a", "n/a", "n", true, List.of(new LabNic("eth0", "net", "198.18.0.2"))),
                    new LabVm("b", "lab-n-b", "n/b", "n", true, List.of(new LabNic("eth0", "net", "198.18.0.3"))));
        }

        @Override public List<String> nodes(String t) { return List.of("n"); }

        @Override public List<String> nodeSnapshots(String t, String n) { return List.of("base"); }

        @Override public synchronized ExecResult exec(String vm, List<String> argv, Duration timeout) {
            calls.add("exec " + vm + " " + argv.getFirst());
            try {
                Thread.sleep(execDelayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            String to = argv.getLast();
            String peer = to.equals("198.18.0.2") ? "a" : "b";
            boolean ok = links.get(vm + "/eth0") && links.get(peer + "/eth0") && !stopped.contains(vm) && !stopped.contains(peer)
                    && partitions.values().stream().noneMatch(p -> p.get(0).contains(to) || p.get(1).contains(to));
            int count = Integer.parseInt(argv.get(2));
            String out = count + " packets transmitted, " + (ok ? count : 0) + " packets received, " + (ok ? 0 : 100) + "% packet loss\n"
                    + (ok ? "round-trip min/avg/max = 0.400/0.500/0.600 ms\n" : "");
            return new ExecResult(ok ? 0 : 1, out, "", false, execDelayMs);
        }

        @Override public synchronized String setLink(String vm, String nic, boolean up) {
            calls.add("link " + vm + " " + (up ? "up" : "down"));
            links.put(vm + "/" + nic, up);
            return "op-link-" + vm;
        }

        @Override public synchronized String impair(String vm, String nic, Map<String, String> i) {
            calls.add("impair " + vm + " " + i);
            if (i == null) impair.remove(vm + "/" + nic); else impair.put(vm + "/" + nic, i);
            return "op-impair";
        }

        @Override public synchronized Map<String, String> impairment(String vm, String nic) { return impair.get(vm + "/" + nic); }

        @Override public synchronized boolean linkUp(String vm, String nic) { return links.get(vm + "/" + nic); }

        @Override public synchronized String partition(String id, List<String> a, List<String> b) {
            calls.add("partition " + id);
            partitions.put(id, List.of(a, b));
            return "op-part";
        }

        @Override public synchronized String unpartition(String id) {
            calls.add("unpartition " + id);
            partitions.remove(id);
            return "op-unpart";
        }

        @Override public synchronized String reboot(String vm) { calls.add("reboot " + vm); return "op-reboot"; }

        @Override public synchronized String stop(String vm) { calls.add("stop " + vm); stopped.add(vm); return "op-stop"; }

        @Override public synchronized String kill(String vm) { calls.add("kill " + vm); stopped.add(vm); return "op-kill"; }

        @Override public synchronized String start(String vm) { calls.add("start " + vm); return stopped.remove(vm) ? "op-start" : null; }

        @Override public String stopNode(String t, String n) { stopped.addAll(List.of("a", "b")); return "op-node-stop"; }

        @Override public String startNode(String t, String n) { stopped.clear(); return "op-node-start"; }

        @Override public String restoreNode(String t, String n, String s) { calls.add("restore " + n + "@" + s); return "op-restore"; }

        @Override public String snapshotNode(String t, String n, String s) { calls.add("snapshot " + n + "@" + s); return "op-snap"; }
    }

    static final class MemLedger implements ScenarioRunner.Ledger {
        final Map<Long, Revert> open = new HashMap<>();
        final List<Revert> all = new ArrayList<>();
        long next;

        @Override public synchronized long applying(String run, int step, Revert r) {
            open.put(++next, r);
            all.add(r);
            return next;
        }

        @Override public synchronized void reverted(long e) { open.remove(e); }

        @Override public synchronized void revertFailed(long e, String err) {}
    }

    static Check ping(String name, String from, String to, Expect expect) {
        return new Check(name, expect, null, null, null, null, Duration.ofSeconds(2), false,
                new ScenarioSpec.Ping(from, to, 2, 0, null, null), 0);
    }

    static ScenarioSpec spec(List<Check> steady, List<Step> steps) {
        return new ScenarioSpec(ScenarioSpec.API_VERSION, ScenarioSpec.KIND, "t", null, "lab", Map.of(), null, steady, steps, null, null);
    }

    final FakeLab lab = new FakeLab();
    final MemLedger ledger = new MemLedger();
    final List<ScenarioStepResult> changes = new CopyOnWriteArrayList<>();
    final ScenarioRunner runner = new ScenarioRunner(lab, ledger, (run, step) -> { if (step != null) changes.add(step); });

    ScenarioRun run(ScenarioSpec s) {
        return runner.run("r1", ScenarioRunner.resolve(lab, s, null, "t.yaml"), "op1", new ScenarioRunner.Control());
    }

    @Test
    void cutThenCheckFailsAsExpectedThenLinkReturns() {
        ScenarioSpec s = spec(List.of(ping("reach", "n/a", "n/b", Expect.PASS)), List.of(
                new Step(0, Duration.ZERO, null, new Fault("cut", Duration.ofMillis(300), new ScenarioSpec.LinkDown("n/b", "eth0"), 3), 3),
                new Step(1, Duration.ofMillis(100), ping("gone", "n/a", "n/b", Expect.FAIL), null, 4),
                new Step(2, Duration.ofMillis(500), ping("back", "n/a", "n/b", Expect.PASS), null, 5)));
        ScenarioRun r = run(s);
        assertThat(r.verdict()).isEqualTo("pass");
        assertThat(r.faultsHeld()).isZero();
        assertThat(ledger.open).isEmpty();
        ScenarioStepResult cut = r.steps().stream().filter(x -> x.name().equals("cut")).findFirst().orElseThrow();
        assertThat(cut.outcome()).isEqualTo("reverted");
        assertThat(cut.revertedMs() - cut.startedMs()).isBetween(290L, 450L);
        assertThat(cut.operations()).contains("op-link-b");
        ScenarioStepResult gone = r.steps().stream().filter(x -> x.name().equals("gone")).findFirst().orElseThrow();
        assertThat(gone.outcome()).isEqualTo("pass");
        assertThat(gone.measured()).containsEntry("lossPct", 100.0).containsEntry("address", "198.18.0.3");
        assertThat(gone.startedMs() - gone.scheduledMs()).isLessThan(50);
        // steady state before and after
        assertThat(r.steps().stream().filter(x -> x.name().equals("reach")).map(ScenarioStepResult::phase)).containsExactly("before", "after");
        assertThat(lab.links).containsEntry("b/eth0", true);
    }

    @Test
    void aCheckThatExpectsReachabilityDuringACutFailsTheRun() {
        ScenarioSpec s = spec(List.of(), List.of(
                new Step(0, Duration.ZERO, null, new Fault("cut", null, new ScenarioSpec.LinkDown("n/b", "eth0"), 3), 3),
                new Step(1, null, ping("still", "n/a", "n/b", Expect.PASS), null, 4)));
        ScenarioRun r = run(s);
        assertThat(r.verdict()).isEqualTo("fail");
        ScenarioStepResult still = r.steps().get(1);
        assertThat(still.outcome()).isEqualTo("fail");
        assertThat(still.message()).contains("loss 100%");
        // reverted at the end though it had no duration
        assertThat(r.steps().get(0).outcome()).isEqualTo("reverted");
        assertThat(lab.links).containsEntry("b/eth0", true);
    }

    @Test
    void goNoGoFailureAppliesNoFault() {
        lab.links.put("b/eth0", false);
        ScenarioSpec s = spec(List.of(ping("reach", "n/a", "n/b", Expect.PASS)), List.of(
                new Step(0, Duration.ZERO, null, new Fault("kill", null, new ScenarioSpec.VmKill("n/b"), 3), 3)));
        ScenarioRun r = run(s);
        assertThat(r.verdict()).isEqualTo("fail");
        assertThat(r.error()).contains("go/no-go");
        assertThat(r.steps().get(1).outcome()).isEqualTo("skipped");
        assertThat(lab.calls).noneMatch(c -> c.startsWith("kill"));
    }

    @Test
    void partitionImpairAndStopAreRevertedAndLedgered() {
        ScenarioSpec s = spec(List.of(), List.of(
                new Step(0, Duration.ZERO, null, new Fault("split", null, new ScenarioSpec.Partition(List.of("n/a"), List.of("n/b")), 1), 1),
                new Step(1, null, ping("split-holds", "n/a", "n/b", Expect.FAIL), null, 2),
                new Step(2, null, null, new Fault("slow", Duration.ofMillis(100),
                        new ScenarioSpec.LinkImpair("n/a", "eth0", Map.of("delay", "50ms"), ScenarioSpec.Direction.BOTH), 3), 3),
                new Step(3, null, null, new Fault("stop", null, new ScenarioSpec.VmStop("lab-n-b"), 4), 4)));
        ScenarioRun r = run(s);
        assertThat(r.verdict()).isEqualTo("pass");
        assertThat(ledger.all).extracting(Revert::action).containsExactly("unpartition", "impair", "start");
        assertThat(ledger.open).isEmpty();
        assertThat(lab.partitions).isEmpty();
        assertThat(lab.impair).isEmpty();
        assertThat(lab.stopped).isEmpty();
        assertThat(lab.calls).contains("impair a {delay=50ms, direction=both}");
    }

    @Test
    void abortSkipsWhatIsLeftAndRevertsWhatIsHeld() throws Exception {
        ScenarioSpec s = spec(List.of(ping("reach", "n/a", "n/b", Expect.PASS)), List.of(
                new Step(0, Duration.ZERO, null, new Fault("cut", null, new ScenarioSpec.LinkDown("n/a", "eth0"), 1), 1),
                new Step(1, Duration.ofSeconds(30), ping("late", "n/a", "n/b", Expect.PASS), null, 2)));
        ScenarioRunner.Control control = new ScenarioRunner.Control();
        Thread t = Thread.ofVirtual().start(() -> {
            while (changes.stream().noneMatch(c -> "applied".equals(c.outcome()))) Thread.onSpinWait();
            control.abort("aborted by a user");
        });
        ScenarioRun r = runner.run("r2", ScenarioRunner.resolve(lab, s, null, "t.yaml"), "op", control);
        t.join();
        assertThat(r.verdict()).isEqualTo("aborted");
        assertThat(r.error()).isEqualTo("aborted by a user");
        assertThat(r.steps().get(2).outcome()).isEqualTo("skipped");
        assertThat(r.steps().get(1).outcome()).isEqualTo("reverted");
        assertThat(lab.links).containsEntry("a/eth0", true);
        assertThat(ledger.open).isEmpty();
    }

    @Test
    void aRunAbortedBeforeItsStepsLeavesNoStepPending() {
        ScenarioSpec s = spec(List.of(ping("reach", "n/a", "n/b", Expect.PASS)), List.of(
                new Step(0, Duration.ZERO, null, new Fault("cut", null, new ScenarioSpec.LinkDown("n/a", "eth0"), 1), 1)));
        ScenarioRunner.Control control = new ScenarioRunner.Control();
        control.abort("aborted by a user");
        ScenarioRun r = runner.run("r3", ScenarioRunner.resolve(lab, s, null, "t.yaml"), "op", control);
        assertThat(r.verdict()).isEqualTo("aborted");
        assertThat(r.steps()).extracting(ScenarioStepResult::outcome).containsOnly("skipped");
        assertThat(lab.calls).isEmpty();
    }

    @Test
    void resetRestoresNodesFirstAndOnFailSnapshotsBeforeTheReverts() {
        ScenarioSpec s = new ScenarioSpec(ScenarioSpec.API_VERSION, ScenarioSpec.KIND, "t", null, "lab", Map.of(), null, List.of(),
                List.of(new Step(0, Duration.ZERO, null, new Fault("cut", null, new ScenarioSpec.LinkDown("n/b", "eth0"), 1), 1),
                        new Step(1, null, ping("reach", "n/a", "n/b", Expect.PASS), null, 2)),
                new ScenarioSpec.Reset(List.of(new ScenarioSpec.NodeSnapshot("n", "base"))), ScenarioSpec.OnFail.SNAPSHOT);
        ScenarioRun r = run(s);
        assertThat(r.verdict()).isEqualTo("fail");
        assertThat(lab.calls.getFirst()).isEqualTo("restore n@base");
        int snapshot = lab.calls.indexOf("snapshot n@t-fail-r1");
        assertThat(snapshot).as(lab.calls.toString()).isGreaterThan(0).isLessThan(lab.calls.indexOf("link b up"));
        assertThat(r.steps()).extracting(ScenarioStepResult::type).contains("node.restore", "node.snapshot");
    }

    @Test
    void aResetToAnUnknownSnapshotIsRefusedBeforeAnythingHappens() {
        ScenarioSpec s = new ScenarioSpec(ScenarioSpec.API_VERSION, ScenarioSpec.KIND, "t", null, "lab", Map.of(), null,
                List.of(ping("reach", "n/a", "n/b", Expect.PASS)), List.of(),
                new ScenarioSpec.Reset(List.of(new ScenarioSpec.NodeSnapshot("n", "nope"))), null);
        assertThatThrownBy(() -> ScenarioRunner.resolve(lab, s, null, "t.yaml")).hasMessageContaining("no snapshot 'nope'");
        assertThat(lab.calls).isEmpty();
    }

    @Test
    void repeatedCheckCountsSuccesses() {
        Check every = new Check("every", Expect.PASS, null, Duration.ofMillis(50), Duration.ofMillis(500), 40.0, Duration.ofSeconds(1), false,
                new ScenarioSpec.Ping("n/a", "n/b", 1, 0, null, null), 0);
        ScenarioSpec s = spec(List.of(), List.of(
                new Step(0, Duration.ZERO, every, null, 1),
                new Step(1, Duration.ofMillis(250), null, new Fault("cut", null, new ScenarioSpec.LinkDown("n/b", "eth0"), 2), 2)));
        ScenarioRun r = run(s);
        ScenarioStepResult e = r.steps().getFirst();
        assertThat((Integer) e.measured().get("attempts")).isBetween(7, 11);
        assertThat((Double) e.measured().get("successPct")).isBetween(30.0, 70.0);
        assertThat(e.outcome()).isEqualTo("pass");
    }

    @Test
    void unknownReferencesAreRefusedBeforeAnythingHappens() {
        ScenarioSpec s = spec(List.of(ping("x", "n/zz", "n/b", Expect.PASS)), List.of(
                new Step(0, null, null, new Fault("cut", null, new ScenarioSpec.LinkDown("n/b", "eth7"), 5), 5)));
        assertThatThrownBy(() -> ScenarioRunner.resolve(lab, s, null, "t.yaml")).isInstanceOf(TopologyException.class)
                .satisfies(e -> assertThat(((TopologyException) e).problems()).extracting(p -> p.path())
                        .containsExactly("steadyState[0].ping.from", "steps[0].fault.link.down.nic"));
        assertThatThrownBy(() -> ScenarioRunner.resolve(lab, s, "other", "t.yaml")).hasMessageContaining("not deployed");
        assertThat(lab.calls).isEmpty();
    }
}
