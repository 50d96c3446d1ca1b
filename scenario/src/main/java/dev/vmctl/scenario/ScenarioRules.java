package dev.vmctl.scenario;

import dev.vmctl.model.Names;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The fields, limits and "allowed" texts of the scenario format, shared by the reader, the schema test
 * and the docs. The JSON Schema (scenario.schema.json) declares exactly the fields of {@link Shape}; a test
 * keeps them equal.
 */
final class ScenarioRules {
    private ScenarioRules() {}

    // ---- names and references

    static final Pattern NAME = Pattern.compile(Names.PATTERN);
    static final String NAME_FORM = "lower-case letters, digits and '-', starting with a letter or digit, 1-63 characters ("
            + Names.PATTERN + ")";

    static final Pattern VAR_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");
    static final String VAR_FORM = "letters, digits, '_' and '-', starting with a letter or '_', e.g. port or api_host";

    /** A VM reference: node/vm, or a VM's full (deployed) name. */
    static final String VM_REF = "a VM as node/vm (e.g. svc/api) or its full name (e.g. shop-svc-api)";
    static final String TARGET = VM_REF + ", or an IPv4 address (e.g. 198.18.1.10)";
    static final String NODE_REF = "the name of a node of the topology (" + Names.PATTERN + ")";

    static final Pattern NIC = Pattern.compile("eth([0-9]|1[0-5])");
    static final String NIC_FORM = "eth0..eth15, the guest's name of the NIC (eth0 is the VM's first NIC)";

    static final Pattern IPV4 = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");

    static boolean name(String s) {
        return s != null && NAME.matcher(s).matches();
    }

    static boolean vmRef(String s) {
        if (s == null) return false;
        int slash = s.indexOf('/');
        if (slash < 0) return name(s);
        return name(s.substring(0, slash)) && name(s.substring(slash + 1));
    }

    static boolean ipv4(String s) {
        if (s == null || !IPV4.matcher(s).matches()) return false;
        return Arrays.stream(s.split("\\.")).allMatch(p -> Integer.parseInt(p) <= 255);
    }

    // ---- durations

    static final Duration MAX_DURATION = Duration.ofHours(24);
    static final String DURATION_FORM = "e.g. 500ms, 2s, 1.5s, 1m, 1m30s";
    static final String DURATION = DURATION_FORM + "; at most 24h";
    static final String AT = "a time from the run's start, 0s..24h, " + DURATION_FORM;

    // ---- value ranges

    static final int MIN_PORT = 1, MAX_PORT = 65535;
    static final int MIN_COUNT = 1, MAX_COUNT = 1000;
    static final int MIN_STATUS = 100, MAX_STATUS = 599;
    static final int MIN_EXIT = 0, MAX_EXIT = 255;
    static final double MAX_RTT_MS = 60_000;

    static final int DEFAULT_COUNT = 1;
    static final int DEFAULT_HTTP_PORT = 80;
    static final String DEFAULT_PATH = "/";
    static final int DEFAULT_STATUS = 200;
    static final double DEFAULT_MIN_SUCCESS_PCT = 100;

    /** The impairment keys of link.impair (those of the NIC API's impair object, see Impairment.parse). */
    static final List<String> IMPAIRMENTS = List.of("delay", "jitter", "loss", "rate", "corrupt", "duplicate");

    /** The kinds of mapping in a scenario file: their fields, in the order the docs and schema list them, and the required ones. */
    enum Shape {
        SCENARIO("a scenario", "scenario",
                "apiVersion kind name description topology vars defaults steadyState steps reset onFail", "apiVersion kind name"),
        DEFAULTS("defaults", "defaults", "timeout stopOnFail", ""),
        RESET("reset", "reset", "nodeSnapshots", ""),
        NODE_SNAPSHOT("a node snapshot", "nodeSnapshot", "node snapshot", "node snapshot"),
        STEP("a step", "step", "at check fault", ""),
        CHECK("a check", "check",
                "name expect until every for minSuccessPct timeout stopOnFail ping http tcp exec", "name"),
        FAULT("a fault", "fault",
                "name duration link.down link.impair partition vm.reboot vm.stop vm.kill node.stop", "name"),
        PING("a ping probe", "ping", "from to count interval maxLossPct maxRttMs minRttMs", "from to"),
        HTTP("an http probe", "http", "from to port path expectStatus bodyMatches", "from to"),
        TCP("a tcp probe", "tcp", "from to port", "from to port"),
        EXEC("an exec probe", "exec", "on argv expectExit stdoutMatches", "on argv"),
        LINK_DOWN("a link.down fault", "linkDown", "vm nic", "vm nic"),
        LINK_IMPAIR("a link.impair fault", "linkImpair", "vm nic delay jitter loss rate corrupt duplicate direction", "vm nic"),
        PARTITION("a partition fault", "partition", "a b", "a b"),
        VM_REBOOT("a vm.reboot fault", "vmReboot", "vm", "vm"),
        VM_STOP("a vm.stop fault", "vmStop", "vm", "vm"),
        VM_KILL("a vm.kill fault", "vmKill", "vm", "vm"),
        NODE_STOP("a node.stop fault", "nodeStop", "node", "node");

        final String what;
        /** The schema's name for it: "scenario" is the root, the others are entries of $defs. */
        final String def;
        final List<String> fields;
        final Set<String> required;

        Shape(String what, String def, String fields, String required) {
            this.what = what;
            this.def = def;
            this.fields = List.of(fields.split(" "));
            this.required = required.isEmpty() ? Set.of() : new LinkedHashSet<>(List.of(required.split(" ")));
        }

        String allowedFields() { return String.join(", ", fields); }
    }

    /** The probe keys of a check (exactly one per check), and the shape of each. */
    static final Map<String, Shape> PROBES = ordered("ping", Shape.PING, "http", Shape.HTTP, "tcp", Shape.TCP, "exec", Shape.EXEC);

    /** The action keys of a fault (exactly one per fault), and the shape of each. */
    static final Map<String, Shape> ACTIONS = ordered("link.down", Shape.LINK_DOWN, "link.impair", Shape.LINK_IMPAIR,
            "partition", Shape.PARTITION, "vm.reboot", Shape.VM_REBOOT, "vm.stop", Shape.VM_STOP, "vm.kill", Shape.VM_KILL,
            "node.stop", Shape.NODE_STOP);

    private static Map<String, Shape> ordered(Object... kv) {
        Map<String, Shape> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Shape) kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** What a field accepts, for "missing", "wrong type" and "out of range" messages. */
    static String allowed(Shape shape, String field) {
        return switch (shape.name() + "." + field) {
            case "SCENARIO.apiVersion" -> ScenarioSpec.API_VERSION;
            case "SCENARIO.kind" -> ScenarioSpec.KIND;
            case "SCENARIO.description" -> "a text";
            case "SCENARIO.topology" -> "the name of a deployed topology (" + Names.PATTERN + ")";
            case "SCENARIO.vars" -> "a mapping of variable names to values, e.g. {port: \"8080\"}";
            case "SCENARIO.defaults" -> "a mapping {timeout, stopOnFail}";
            case "SCENARIO.steadyState" -> "a list of checks: {name, <probe>, expect?, until?, every?, for?, minSuccessPct?, timeout?, stopOnFail?}";
            case "SCENARIO.steps" -> "a list of steps: {at?, check: {…}} or {at?, fault: {…}}";
            case "SCENARIO.reset" -> "a mapping {nodeSnapshots: [node@snapshot, …]}";
            case "SCENARIO.onFail" -> "snapshot, nothing";
            case "DEFAULTS.timeout" -> "the deadline of one attempt of a check, > 0, " + DURATION + "; default 5s";
            case "CHECK.timeout" -> "the deadline of one attempt, > 0, " + DURATION + "; default defaults.timeout (5s)";
            case "DEFAULTS.stopOnFail", "CHECK.stopOnFail" -> "true, false";
            case "RESET.nodeSnapshots" -> "a list of node@snapshot strings or {node, snapshot} mappings";
            case "NODE_SNAPSHOT.node" -> NODE_REF;
            case "NODE_SNAPSHOT.snapshot" -> "the name of a snapshot of the node (" + Names.PATTERN + ")";
            case "STEP.at" -> AT;
            case "STEP.check" -> "a check: {name, <probe>, …}";
            case "STEP.fault" -> "a fault: {name, <action>, duration?}";
            case "CHECK.name", "FAULT.name" -> NAME_FORM + "; unique among the checks and faults of the file";
            case "CHECK.expect" -> "pass, fail";
            case "CHECK.until" -> "how long to retry until the expected result, > 0, " + DURATION;
            case "CHECK.every" -> "the interval of repeated attempts, > 0, " + DURATION + "; with for";
            case "CHECK.for" -> "how long to repeat, > 0, " + DURATION + "; with every";
            case "CHECK.minSuccessPct" -> "0..100, default 100; with every and for";
            case "CHECK.ping" -> "{from, to, count?, interval?, maxLossPct?, maxRttMs?, minRttMs?}";
            case "CHECK.http" -> "{from, to, port?, path?, expectStatus?, bodyMatches?}";
            case "CHECK.tcp" -> "{from, to, port}";
            case "CHECK.exec" -> "{on, argv, expectExit?, stdoutMatches?}";
            case "FAULT.duration" -> "how long until the fault is reverted, > 0, " + DURATION + "; without it, at the end of the run";
            case "FAULT.link.down" -> "{vm, nic}";
            case "FAULT.link.impair" -> "{vm, nic, delay?, jitter?, loss?, rate?, corrupt?, duplicate?, direction?}";
            case "FAULT.partition" -> "{a: [VM, …], b: [VM, …]}";
            case "FAULT.vm.reboot", "FAULT.vm.stop", "FAULT.vm.kill" -> "{vm}";
            case "FAULT.node.stop" -> "{node}";
            case "PING.to", "HTTP.to", "TCP.to" -> TARGET;
            case "PING.count" -> MIN_COUNT + ".." + MAX_COUNT + ", default " + DEFAULT_COUNT;
            case "PING.interval" -> "the time between two echo requests, 10ms..24h, " + DURATION_FORM + "; default 200ms";
            case "PING.maxLossPct" -> "0..100, default 0";
            case "PING.maxRttMs", "PING.minRttMs" -> "0.." + (int) MAX_RTT_MS + " (milliseconds)";
            case "HTTP.port" -> MIN_PORT + ".." + MAX_PORT + ", default " + DEFAULT_HTTP_PORT;
            case "TCP.port" -> MIN_PORT + ".." + MAX_PORT;
            case "HTTP.path" -> "a path starting with /, default /";
            case "HTTP.expectStatus" -> MIN_STATUS + ".." + MAX_STATUS + ", default " + DEFAULT_STATUS;
            case "HTTP.bodyMatches", "EXEC.stdoutMatches" -> "a Java regular expression, found anywhere in the text";
            case "EXEC.argv" -> "a list of strings, e.g. [sh, -c, 'wget -qO- http://svc-api:8080/']";
            case "EXEC.expectExit" -> MIN_EXIT + ".." + MAX_EXIT + ", default 0";
            case "LINK_DOWN.nic", "LINK_IMPAIR.nic" -> NIC_FORM;
            case "LINK_IMPAIR.delay", "LINK_IMPAIR.jitter" -> "e.g. 50ms, 1.5s, 0..60s";
            case "LINK_IMPAIR.loss", "LINK_IMPAIR.corrupt", "LINK_IMPAIR.duplicate" -> "0%..100%, e.g. 2% or 0.5%";
            case "LINK_IMPAIR.rate" -> "e.g. 500kbit, 10mbit, 1gbit";
            case "LINK_IMPAIR.direction" -> "egress, ingress, both; default egress";
            case "PARTITION.a", "PARTITION.b" -> "a non-empty list of VMs: node/vm or full names";
            case "NODE_STOP.node" -> NODE_REF;
            case "SCENARIO.name" -> NAME_FORM;
            default -> field.equals("from") || field.equals("on") || field.equals("vm") ? VM_REF : null;
        };
    }
}
