package dev.vmctl.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A validated scenario file ({@code apiVersion: vmctl/v1, kind: Scenario}). Built only by {@link ScenarioParser}
 * (which has already substituted {@code ${var}} references and checked every field); immutable.
 * Durations are {@link Duration}s; {@code line}s are 1-based lines in the file (0 when built in code).
 *
 * @param topology the deployed topology it runs against (may be overridden at run time; null = the run must name one)
 * @param vars     the file's vars after overrides (what was substituted)
 * @param steadyState checks run before the first step (go/no-go) and after the last (the verdict)
 */
public record ScenarioSpec(String apiVersion, String kind, String name, String description, String topology,
                           Map<String, String> vars, Defaults defaults, List<Check> steadyState, List<Step> steps,
                           Reset reset, OnFail onFail) {
    public static final String API_VERSION = "vmctl/v1";
    public static final String KIND = "Scenario";

    public ScenarioSpec {
        vars = vars == null ? Map.of() : Map.copyOf(vars);
        steadyState = steadyState == null ? List.of() : List.copyOf(steadyState);
        steps = steps == null ? List.of() : List.copyOf(steps);
        defaults = defaults == null ? Defaults.NONE : defaults;
        reset = reset == null ? Reset.NONE : reset;
        onFail = onFail == null ? OnFail.NOTHING : onFail;
    }

    /** {@code defaults}: the timeout of one check attempt, and whether a failed check ends the run. */
    public record Defaults(Duration timeout, boolean stopOnFail) {
        public static final Duration TIMEOUT = Duration.ofSeconds(5);
        public static final Defaults NONE = new Defaults(TIMEOUT, false);
    }

    /** {@code reset.nodeSnapshots}: node snapshots restored before the run (every replay starts the same). */
    public record Reset(List<NodeSnapshot> nodeSnapshots) {
        public static final Reset NONE = new Reset(List.of());

        public Reset {
            nodeSnapshots = nodeSnapshots == null ? List.of() : List.copyOf(nodeSnapshots);
        }
    }

    /** A node of the topology and the name of one of its snapshots ("node: svc, snapshot: base" or "svc@base"). */
    public record NodeSnapshot(String node, String snapshot) {}

    /** {@code onFail}: nothing, or {@code snapshot} (node snapshots of the failed state, for a post-mortem). */
    public enum OnFail { NOTHING, SNAPSHOT }

    /**
     * One entry of {@code steps}: exactly one of {@code check} and {@code fault}.
     *
     * @param at when it starts, from the run's start; null = when the previous step has finished
     */
    public record Step(int index, Duration at, Check check, Fault fault, int line) {
        public String name() { return check != null ? check.name() : fault.name(); }
    }

    /** pass: the probe must succeed; fail: it must fail (e.g. unreachable during a cut). */
    public enum Expect { PASS, FAIL }

    /**
     * A check: a probe and how often it is tried.
     * <ul>
     * <li>once (until, every and forD null): one attempt;</li>
     * <li>{@code until}: attempts (one every {@link #RETRY}) until one gives the expected result or the deadline passes;</li>
     * <li>{@code every} + {@code forD}: an attempt every {@code every} for {@code forD}; it passes when at least
     *     {@code minSuccessPct} % of the attempts gave the expected result (default 100).</li>
     * </ul>
     *
     * @param timeout    the deadline of one attempt (defaults.timeout when not given)
     * @param stopOnFail a failure ends the run (the remaining steps are skipped; steady state after still runs)
     */
    public record Check(String name, Expect expect, Duration until, Duration every, Duration forD, Double minSuccessPct,
                        Duration timeout, boolean stopOnFail, Probe probe, int line) {
        public static final Duration RETRY = Duration.ofMillis(500);

        public boolean repeated() { return every != null; }
    }

    /** What a check tries. {@code from}/{@code on} are VM references; {@code to} a VM reference or an IPv4 address. */
    public sealed interface Probe permits Ping, Http, Tcp, Exec {
        /** ping, http, tcp, exec. */
        String type();

        /** The VM the probe runs in. */
        String from();
    }

    /**
     * {@code count} echo requests, one every {@code interval} (default {@link #INTERVAL}, at least {@link #MIN_INTERVAL});
     * passes when loss ≤ maxLossPct (default 0) and the RTT bounds (ms) hold.
     */
    public record Ping(String from, String to, int count, double maxLossPct, Double maxRttMs, Double minRttMs, Duration interval)
            implements Probe {
        public static final Duration INTERVAL = Duration.ofMillis(200);
        public static final Duration MIN_INTERVAL = Duration.ofMillis(10);

        public Ping {
            interval = interval == null ? INTERVAL : interval;
        }

        /** With the default interval. */
        public Ping(String from, String to, int count, double maxLossPct, Double maxRttMs, Double minRttMs) {
            this(from, to, count, maxLossPct, maxRttMs, minRttMs, null);
        }

        public String type() { return "ping"; }
    }

    /** An HTTP GET of {@code http://TO:PORT/PATH} from inside {@code from}; passes on expectStatus (default 200) and bodyMatches (a regex, found). */
    public record Http(String from, String to, int port, String path, int expectStatus, String bodyMatches) implements Probe {
        public String type() { return "http"; }
    }

    /** A TCP connection to TO:PORT from inside {@code from}. */
    public record Tcp(String from, String to, int port) implements Probe {
        public String type() { return "tcp"; }
    }

    /** A command in the VM {@code on}; passes on expectExit (default 0) and stdoutMatches (a regex, found). */
    public record Exec(String on, List<String> argv, int expectExit, String stdoutMatches) implements Probe {
        public Exec {
            argv = List.copyOf(argv);
        }

        public String type() { return "exec"; }

        public String from() { return on; }
    }

    /**
     * A fault: applied at its step's time; with {@code duration} reverted that long after it was applied,
     * without it at the end of the run (before the steady-state checks after).
     */
    public record Fault(String name, Duration duration, FaultAction action, int line) {}

    /** What a fault does. */
    public sealed interface FaultAction permits LinkDown, LinkImpair, Partition, VmReboot, VmStop, VmKill, NodeStop {
        /** link.down, link.impair, partition, vm.reboot, vm.stop, vm.kill, node.stop. */
        String type();

        /** VM or node references it acts on. */
        List<String> refs();
    }

    /** The guest sees carrier loss on NIC {@code nic} of {@code vm}. */
    public record LinkDown(String vm, String nic) implements FaultAction {
        public String type() { return "link.down"; }

        public List<String> refs() { return List.of(vm); }
    }

    public enum Direction { EGRESS, INGRESS, BOTH }

    /**
     * Impairs NIC {@code nic} of {@code vm}: {@code impair} has the keys of the NIC API's impair object
     * (delay, jitter, loss, rate, corrupt, duplicate; already checked by {@code Impairment.parse}).
     * egress: what the VM sends; ingress: what it receives; both.
     */
    public record LinkImpair(String vm, String nic, Map<String, String> impair, Direction direction) implements FaultAction {
        public LinkImpair {
            impair = Map.copyOf(impair);
        }

        public String type() { return "link.impair"; }

        public List<String> refs() { return List.of(vm); }
    }

    /** IPv4 traffic between the VMs of {@code a} and those of {@code b} is dropped both ways; links stay up. */
    public record Partition(List<String> a, List<String> b) implements FaultAction {
        public Partition {
            a = List.copyOf(a);
            b = List.copyOf(b);
        }

        public String type() { return "partition"; }

        public List<String> refs() {
            return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
        }
    }

    /** The VM reboots (nothing to revert). */
    public record VmReboot(String vm) implements FaultAction {
        public String type() { return "vm.reboot"; }

        public List<String> refs() { return List.of(vm); }
    }

    /** The VM is stopped; started again on revert. */
    public record VmStop(String vm) implements FaultAction {
        public String type() { return "vm.stop"; }

        public List<String> refs() { return List.of(vm); }
    }

    /** The VM's QEMU is killed (SIGKILL); the VM is started again on revert. */
    public record VmKill(String vm) implements FaultAction {
        public String type() { return "vm.kill"; }

        public List<String> refs() { return List.of(vm); }
    }

    /** Every VM of a node is stopped; the node is started again on revert. */
    public record NodeStop(String node) implements FaultAction {
        public String type() { return "node.stop"; }

        public List<String> refs() { return List.of(node); }
    }
}
