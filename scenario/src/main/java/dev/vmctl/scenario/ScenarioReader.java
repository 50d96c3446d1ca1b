package dev.vmctl.scenario;

import dev.vmctl.model.Impairment;
import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.ScenarioRules.Shape;
import dev.vmctl.scenario.ScenarioSpec.Check;
import dev.vmctl.scenario.ScenarioSpec.Defaults;
import dev.vmctl.scenario.ScenarioSpec.Direction;
import dev.vmctl.scenario.ScenarioSpec.Expect;
import dev.vmctl.scenario.ScenarioSpec.Fault;
import dev.vmctl.scenario.ScenarioSpec.FaultAction;
import dev.vmctl.scenario.ScenarioSpec.NodeSnapshot;
import dev.vmctl.scenario.ScenarioSpec.OnFail;
import dev.vmctl.scenario.ScenarioSpec.Probe;
import dev.vmctl.scenario.ScenarioSpec.Reset;
import dev.vmctl.scenario.ScenarioSpec.Step;
import dev.vmctl.topology.Problem;
import dev.vmctl.topology.YamlTree.Entry;
import dev.vmctl.topology.YamlTree.Loc;
import dev.vmctl.topology.YamlTree.ScalarKind;
import dev.vmctl.topology.YamlTree.Y;
import dev.vmctl.topology.YamlTree.YList;
import dev.vmctl.topology.YamlTree.YMap;
import dev.vmctl.topology.YamlTree.YScalar;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Turns the (substituted) YAML tree of a scenario file into {@link ScenarioSpec} records and checks every
 * field on the way: each problem points at the value (or key, or mapping) it is about. Nothing stops at
 * the first problem; a part that cannot be read becomes null and the file is rejected at the end.
 */
final class ScenarioReader {
    private final String file;
    private final List<Problem> problems;
    private final Set<Y> reported; // scalars whose variables could not be substituted (reported already)
    /** Check and fault name → the path of the first one that has it. */
    private final Map<String, String> names = new HashMap<>();

    ScenarioReader(String file, List<Problem> problems, Set<Y> reported) {
        this.file = file;
        this.problems = problems;
        this.reported = reported;
    }

    /** The spec, or null when the file has problems (they are in the list). */
    ScenarioSpec scenario(Y root, Map<String, String> vars) {
        Obj o = obj(root, "", Shape.SCENARIO);
        if (o == null) return null;
        String apiVersion = o.str("apiVersion");
        if (apiVersion != null && !ScenarioSpec.API_VERSION.equals(apiVersion)) {
            o.problem("apiVersion", "'" + apiVersion + "' is not a supported version", ScenarioSpec.API_VERSION);
        }
        String kind = o.str("kind");
        if (kind != null && !ScenarioSpec.KIND.equals(kind)) {
            o.problem("kind", "'" + kind + "' is not a supported kind", ScenarioSpec.KIND);
        }
        String name = o.name("name", "scenario name");
        String description = o.str("description");
        String topology = o.name("topology", "topology name");
        // vars were read (and reported) before the substitution
        Defaults defaults = defaults(o);
        List<Check> steady = o.list("steadyState", (y, p, i) -> check(y, p, defaults));
        List<Step> steps = steps(o, defaults);
        Reset reset = reset(o);
        OnFail onFail = o.choice("onFail", OnFail.class, OnFail.NOTHING);
        if (o.items("steadyState") == 0 && o.items("steps") == 0) {
            problem(o.has("steps") ? o.loc("steps") : o.map.loc(), "steps", "a scenario has at least one step or steady-state check",
                    ScenarioRules.allowed(Shape.SCENARIO, "steps"));
        }
        if (!problems.isEmpty()) return null;
        return new ScenarioSpec(apiVersion, kind, name, description, topology, vars, defaults, steady, steps, reset, onFail);
    }

    private Defaults defaults(Obj root) {
        Obj o = root.obj("defaults", Shape.DEFAULTS);
        if (o == null) return Defaults.NONE;
        Duration timeout = o.duration("timeout", false);
        Boolean stop = o.bool("stopOnFail");
        return new Defaults(timeout == null ? Defaults.TIMEOUT : timeout, stop != null && stop);
    }

    private Reset reset(Obj root) {
        Obj o = root.obj("reset", Shape.RESET);
        if (o == null) return Reset.NONE;
        Map<String, String> seen = new HashMap<>();
        List<NodeSnapshot> l = o.list("nodeSnapshots", (y, p, i) -> {
            NodeSnapshot ns = nodeSnapshot(y, p);
            if (ns != null && ns.node() != null) {
                String other = seen.putIfAbsent(ns.node(), p);
                if (other != null) {
                    problem(y.loc(), p, "node '" + ns.node() + "' is listed twice (also " + other + ")", "one snapshot per node");
                }
            }
            return ns == null || ns.node() == null || ns.snapshot() == null ? null : ns;
        });
        return new Reset(l);
    }

    private NodeSnapshot nodeSnapshot(Y y, String path) {
        String form = "node@snapshot, e.g. svc@base, or {node: svc, snapshot: base}";
        if (reported.contains(y)) return null;
        if (y instanceof YScalar s && s.kind() == ScalarKind.STRING) {
            int at = s.text().indexOf('@');
            String node = at < 0 ? null : s.text().substring(0, at), snap = at < 0 ? null : s.text().substring(at + 1);
            if (!ScenarioRules.name(node) || !ScenarioRules.name(snap)) {
                problem(s.loc(), path, "'" + s.text() + "' is not a node@snapshot reference", form + "; both " + ScenarioRules.NAME_FORM);
                return null;
            }
            return new NodeSnapshot(node, snap);
        }
        if (y instanceof YMap) {
            Obj o = obj(y, path, Shape.NODE_SNAPSHOT);
            return new NodeSnapshot(o.name("node", "node name"), o.name("snapshot", "snapshot name"));
        }
        wrongType(y, path, "a node snapshot", form);
        return null;
    }

    // ---- steps

    private List<Step> steps(Obj root, Defaults defaults) {
        Duration[] last = {null};
        String[] lastPath = {null};
        return root.list("steps", (y, p, i) -> {
            Obj o = obj(y, p, Shape.STEP);
            if (o == null) return null;
            Duration at = o.duration("at", true);
            if (at != null) {
                if (last[0] != null && at.compareTo(last[0]) < 0) {
                    o.problem("at", "at " + Durations.format(at) + " is earlier than the at " + Durations.format(last[0])
                            + " of " + lastPath[0], "steps in time order: an at no earlier than the previous step's");
                }
                last[0] = at;
                lastPath[0] = p;
            }
            boolean hasCheck = o.has("check"), hasFault = o.has("fault");
            if (hasCheck && hasFault) {
                o.problem("fault", "a step has either check or fault, this one has both",
                        "one step for the check and another for the fault");
            } else if (!hasCheck && !hasFault) {
                problem(o.map.loc(), p, "a step has neither check nor fault", "{at?, check: {…}} or {at?, fault: {…}}");
            }
            Check check = hasCheck ? o.value("check", (v, vp) -> check(v, vp, defaults)) : null;
            Fault fault = hasFault ? o.value("fault", this::fault) : null;
            if (check == null && fault == null) return null;
            return new Step(i, at, check, fault, y.loc().line());
        });
    }

    // ---- checks

    private Check check(Y y, String path, Defaults defaults) {
        Obj o = obj(y, path, Shape.CHECK);
        if (o == null) return null;
        String name = o.name("name", "check name");
        unique(o, name, path);
        Expect expect = o.choice("expect", Expect.class, Expect.PASS);
        Duration until = o.duration("until", false);
        Duration every = o.duration("every", false);
        Duration forD = o.duration("for", false);
        Double minSuccess = o.number("minSuccessPct", 0, 100);
        Duration timeout = o.duration("timeout", false);
        Boolean stop = o.bool("stopOnFail");
        if (o.has("every") && !o.has("for")) {
            o.problem("every", "every needs for (how long to repeat)", "every: 500ms, for: 5s");
        } else if (o.has("for") && !o.has("every")) {
            o.problem("for", "for needs every (how often to try)", "every: 500ms, for: 5s");
        } else if (every != null && forD != null && every.compareTo(forD) > 0) {
            o.problem("every", "every " + Durations.format(every) + " is longer than for " + Durations.format(forD),
                    "an interval no longer than for");
        }
        if (o.has("until") && (o.has("every") || o.has("for"))) {
            o.problem("until", "until and every/for are two modes of a check; give one",
                    "once (neither), until: D, or every: I with for: D");
        }
        if (o.has("minSuccessPct") && !o.has("every")) {
            o.problem("minSuccessPct", "minSuccessPct applies to repeated checks only", "every: I, for: D, minSuccessPct: 0..100");
        }
        Probe probe = one(o, ScenarioRules.PROBES, "a check has exactly one probe", (key, v, vp) -> switch (key) {
            case "ping" -> ping(v, vp);
            case "http" -> http(v, vp);
            case "tcp" -> tcp(v, vp);
            default -> exec(v, vp);
        });
        if (every != null && minSuccess == null) minSuccess = ScenarioRules.DEFAULT_MIN_SUCCESS_PCT;
        return new Check(name, expect, until, every, forD, minSuccess, timeout == null ? defaults.timeout() : timeout,
                stop == null ? defaults.stopOnFail() : stop, probe, y.loc().line());
    }

    private Probe ping(Y y, String path) {
        Obj o = obj(y, path, Shape.PING);
        if (o == null) return null;
        String from = o.vmRef("from"), to = o.target("to");
        Integer count = o.integer("count", ScenarioRules.MIN_COUNT, ScenarioRules.MAX_COUNT);
        Duration interval = o.duration("interval", false);
        if (interval != null && interval.compareTo(ScenarioSpec.Ping.MIN_INTERVAL) < 0) {
            o.problem("interval", "interval " + Durations.format(interval) + " is shorter than "
                    + Durations.format(ScenarioSpec.Ping.MIN_INTERVAL), ScenarioRules.allowed(Shape.PING, "interval"));
            interval = null;
        }
        Double loss = o.number("maxLossPct", 0, 100);
        Double max = o.number("maxRttMs", 0, ScenarioRules.MAX_RTT_MS), min = o.number("minRttMs", 0, ScenarioRules.MAX_RTT_MS);
        if (max != null && min != null && min > max) {
            o.problem("minRttMs", "minRttMs " + min + " is above maxRttMs " + max, "minRttMs ≤ maxRttMs");
        }
        if (from == null || to == null) return null;
        return new ScenarioSpec.Ping(from, to, count == null ? ScenarioRules.DEFAULT_COUNT : count, loss == null ? 0 : loss, max, min,
                interval);
    }

    private Probe http(Y y, String path) {
        Obj o = obj(y, path, Shape.HTTP);
        if (o == null) return null;
        String from = o.vmRef("from"), to = o.target("to");
        Integer port = o.integer("port", ScenarioRules.MIN_PORT, ScenarioRules.MAX_PORT);
        String p = o.str("path");
        if (p != null && !p.startsWith("/")) {
            o.problem("path", "'" + p + "' does not start with /", ScenarioRules.allowed(Shape.HTTP, "path"));
            p = null;
        }
        Integer status = o.integer("expectStatus", ScenarioRules.MIN_STATUS, ScenarioRules.MAX_STATUS);
        String body = o.regex("bodyMatches");
        if (from == null || to == null) return null;
        return new ScenarioSpec.Http(from, to, port == null ? ScenarioRules.DEFAULT_HTTP_PORT : port,
                p == null ? ScenarioRules.DEFAULT_PATH : p, status == null ? ScenarioRules.DEFAULT_STATUS : status, body);
    }

    private Probe tcp(Y y, String path) {
        Obj o = obj(y, path, Shape.TCP);
        if (o == null) return null;
        String from = o.vmRef("from"), to = o.target("to");
        Integer port = o.integer("port", ScenarioRules.MIN_PORT, ScenarioRules.MAX_PORT);
        if (from == null || to == null || port == null) return null;
        return new ScenarioSpec.Tcp(from, to, port);
    }

    private Probe exec(Y y, String path) {
        Obj o = obj(y, path, Shape.EXEC);
        if (o == null) return null;
        String on = o.vmRef("on");
        List<String> argv = null;
        Y a = o.get("argv");
        String ap = child(path, "argv");
        if (a instanceof YScalar s) {
            problem(s.loc(), ap, "argv is a list of words, found " + s.describe() + " (a single string is not split into words)",
                    ScenarioRules.allowed(Shape.EXEC, "argv"));
        } else if (a != null) {
            List<String> words = o.list("argv", (v, vp, i) -> word(v, vp));
            if (words.isEmpty() && o.fine("argv")) {
                problem(a.loc(), ap, "argv is empty", "at least the program, " + ScenarioRules.allowed(Shape.EXEC, "argv"));
            } else if (a instanceof YList l && words.size() == l.items().size()) {
                argv = words;
            }
        }
        Integer exit = o.integer("expectExit", ScenarioRules.MIN_EXIT, ScenarioRules.MAX_EXIT);
        String stdout = o.regex("stdoutMatches");
        if (on == null || argv == null) return null;
        return new ScenarioSpec.Exec(on, argv, exit == null ? 0 : exit, stdout);
    }

    private String word(Y y, String path) {
        if (y instanceof YScalar s && s.kind() != ScalarKind.NULL && s.kind() != ScalarKind.ALIAS) {
            return reported.contains(s) ? null : s.text();
        }
        wrongType(y, path, "a string", ScenarioRules.allowed(Shape.EXEC, "argv"));
        return null;
    }

    // ---- faults

    private Fault fault(Y y, String path) {
        Obj o = obj(y, path, Shape.FAULT);
        if (o == null) return null;
        String name = o.name("name", "fault name");
        unique(o, name, path);
        Duration duration = o.duration("duration", false);
        FaultAction action = one(o, ScenarioRules.ACTIONS, "a fault has exactly one action", (key, v, vp) -> switch (key) {
            case "link.down" -> {
                Obj a = obj(v, vp, Shape.LINK_DOWN);
                if (a == null) yield null;
                String vm = a.vmRef("vm"), nic = a.nic("nic");
                yield vm == null || nic == null ? null : new ScenarioSpec.LinkDown(vm, nic);
            }
            case "link.impair" -> linkImpair(v, vp);
            case "partition" -> partition(v, vp);
            case "node.stop" -> {
                Obj a = obj(v, vp, Shape.NODE_STOP);
                String node = a == null ? null : a.name("node", "node name");
                yield node == null ? null : new ScenarioSpec.NodeStop(node);
            }
            default -> {
                Shape shape = ScenarioRules.ACTIONS.get(key);
                Obj a = obj(v, vp, shape);
                String vm = a == null ? null : a.vmRef("vm");
                if (vm == null) yield null;
                yield switch (shape) {
                    case VM_REBOOT -> new ScenarioSpec.VmReboot(vm);
                    case VM_STOP -> new ScenarioSpec.VmStop(vm);
                    default -> new ScenarioSpec.VmKill(vm);
                };
            }
        });
        return new Fault(name, duration, action, y.loc().line());
    }

    private FaultAction linkImpair(Y y, String path) {
        Obj o = obj(y, path, Shape.LINK_IMPAIR);
        if (o == null) return null;
        String vm = o.vmRef("vm"), nic = o.nic("nic");
        Direction direction = o.choice("direction", Direction.class, Direction.EGRESS);
        Map<String, String> impair = new LinkedHashMap<>();
        boolean readable = true;
        for (String k : ScenarioRules.IMPAIRMENTS) {
            if (!o.has(k)) continue;
            String v = o.str(k);
            if (v == null) readable = false;
            else impair.put(k, v);
        }
        if (impair.isEmpty() && readable) {
            problem(o.map.loc(), path, "no impairment given", "one or more of " + String.join(", ", ScenarioRules.IMPAIRMENTS));
            return null;
        }
        if (!readable) return null;
        try {
            Impairment.parse(impair);
        } catch (VmctlException e) {
            // "invalid impair.loss: 150% is out of range", detail "allowed: 0%..100%"
            String msg = e.getMessage(), field = "impair";
            if (msg.startsWith("invalid ") && msg.indexOf(": ") > 0) {
                field = msg.substring("invalid ".length(), msg.indexOf(": "));
                msg = msg.substring(msg.indexOf(": ") + 2);
            }
            String key = field.startsWith("impair.") ? field.substring("impair.".length()) : null;
            String allowed = e.detail() != null && e.detail().startsWith("allowed: ") ? e.detail().substring(9) : e.detail();
            if (key != null && o.has(key)) o.problem(key, msg, allowed);
            else problem(o.map.loc(), path, msg, allowed);
            return null;
        }
        if (vm == null || nic == null) return null;
        return new ScenarioSpec.LinkImpair(vm, nic, impair, direction);
    }

    private FaultAction partition(Y y, String path) {
        Obj o = obj(y, path, Shape.PARTITION);
        if (o == null) return null;
        List<String> a = side(o, "a"), b = side(o, "b");
        if (a == null || b == null) return null;
        YList bl = (YList) o.get("b");
        boolean both = false;
        for (int i = 0; i < b.size(); i++) {
            int j = a.indexOf(b.get(i));
            if (j < 0) continue;
            problem(bl.items().get(i).loc(), child(path, "b") + "[" + i + "]",
                    "'" + b.get(i) + "' is on both sides (also " + child(path, "a") + "[" + j + "])", "each VM on one side only");
            both = true;
        }
        return both ? null : new ScenarioSpec.Partition(a, b);
    }

    /** The VMs of one side of a partition; null when it is missing, empty or has a bad item (reported). */
    private List<String> side(Obj o, String key) {
        if (o.get(key) == null) return null;
        List<String> seen = new ArrayList<>();
        boolean[] bad = {false};
        List<String> refs = o.list(key, (v, vp, i) -> {
            String r = ref(v, vp, false);
            if (r == null) {
                bad[0] = true;
            } else if (seen.contains(r)) {
                problem(v.loc(), vp, "'" + r + "' is listed twice", "each VM once");
                bad[0] = true;
            }
            seen.add(r);
            return r;
        });
        if (!o.fine(key) || bad[0]) return null;
        if (refs.isEmpty()) {
            o.problem(key, "a side of a partition has at least one VM", ScenarioRules.allowed(Shape.PARTITION, key));
            return null;
        }
        return refs;
    }

    /** A VM reference (or, with {@code ip}, also an IPv4 address) as a list item or field value. */
    private String ref(Y y, String path, boolean ip) {
        String allowed = ip ? ScenarioRules.TARGET : ScenarioRules.VM_REF;
        if (!(y instanceof YScalar s) || s.kind() == ScalarKind.NULL || s.kind() == ScalarKind.ALIAS) {
            wrongType(y, path, ip ? "a VM or an address" : "a VM", allowed);
            return null;
        }
        if (reported.contains(s)) return null;
        String t = s.text();
        if (ScenarioRules.vmRef(t) || ip && ScenarioRules.ipv4(t)) return t;
        String what = ip && t.matches("[0-9.]+") ? "an IPv4 address" : "a VM reference";
        problem(s.loc(), path, "'" + t + "' is not " + what, allowed);
        return null;
    }

    // ---- helpers shared by checks and faults

    /** Names are unique among all checks and faults. */
    private void unique(Obj o, String name, String path) {
        if (name == null) return;
        String other = names.putIfAbsent(name, path);
        if (other != null) {
            o.problem("name", "duplicate name '" + name + "' (also " + other + ")",
                    "a name used once among the checks and faults of the file");
        }
    }

    @FunctionalInterface
    private interface Keyed<T> {
        T read(String key, Y value, String path);
    }

    /** Exactly one of {@code keys} in the mapping: the first is read (and the others, for their problems). */
    private <T> T one(Obj o, Map<String, Shape> keys, String rule, Keyed<T> reader) {
        List<Entry> present = o.map.entries().stream().filter(e -> keys.containsKey(e.key())).toList();
        String allowed = String.join(", ", keys.keySet());
        if (present.isEmpty()) {
            // a misspelt key ("pign") was reported as unknown with "did you mean 'ping'?": that says it
            boolean misspelt = o.map.entries().stream().anyMatch(e -> !o.shape.fields.contains(e.key())
                    && keys.keySet().stream().anyMatch(k -> similar(k, e.key())));
            if (!misspelt) problem(o.map.loc(), o.path, rule + "; this one has none", allowed);
            return null;
        }
        for (int i = 1; i < present.size(); i++) {
            Entry e = present.get(i);
            problem(e.keyLoc(), child(o.path, e.key()), rule + "; '" + e.key() + "' is another one besides '"
                    + present.getFirst().key() + "'", "one of " + allowed);
        }
        T first = null;
        for (int i = 0; i < present.size(); i++) {
            String key = present.get(i).key();
            T v = o.value(key, (y, p) -> reader.read(key, y, p));
            if (i == 0) first = v;
        }
        return present.size() == 1 ? first : null;
    }

    // ---- the generic part ----------------------------------------------------------------------

    /** A mapping of the given shape; null (and a problem) when it is not one. Unknown and missing fields are reported. */
    private Obj obj(Y y, String path, Shape shape) {
        if (!(y instanceof YMap m)) {
            wrongType(y, path, "a mapping (" + shape.what + ": " + shape.allowedFields() + ")", null);
            return null;
        }
        for (Entry e : m.entries()) {
            if (shape.fields.contains(e.key())) continue;
            String close = shape.fields.stream().filter(f -> similar(f, e.key())).findFirst()
                    .map(f -> " (did you mean '" + f + "'?)").orElse("");
            problem(e.keyLoc(), child(path, e.key()), "unknown field '" + e.key() + "' in " + shape.what + close,
                    shape.allowedFields());
        }
        for (String f : shape.required) {
            Entry e = m.entries().stream().filter(x -> x.key().equals(f)).findFirst().orElse(null);
            if (e == null) {
                problem(m.loc(), child(path, f), "required field is missing", ScenarioRules.allowed(shape, f));
            } else if (e.value() instanceof YScalar s && s.kind() == ScalarKind.NULL) {
                problem(s.loc(), child(path, f), "required field is empty", ScenarioRules.allowed(shape, f));
            }
        }
        return new Obj(path, shape, m);
    }

    /** Same letters in another case, or a letter off (keys of three letters) or two (keys of four letters or more). */
    static boolean similar(String field, String key) {
        if (field.equalsIgnoreCase(key)) return true;
        if (key.length() < 3) return false;
        return distance(field.toLowerCase(Locale.ROOT), key.toLowerCase(Locale.ROOT)) <= (key.length() == 3 ? 1 : 2);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    @FunctionalInterface
    private interface Item<T> {
        T read(Y value, String path, int index);
    }

    /** A mapping being read: typed getters that report what is wrong with a value and return null for it. */
    private final class Obj {
        final String path;
        final Shape shape;
        final YMap map;

        Obj(String path, Shape shape, YMap map) {
            this.path = path;
            this.shape = shape;
            this.map = map;
        }

        private Entry entry(String field) {
            for (Entry e : map.entries()) if (e.key().equals(field)) return e;
            return null;
        }

        /** Whether the field is written (even as null or with a wrong value). */
        boolean has(String field) {
            return entry(field) != null;
        }

        Loc loc(String field) {
            Entry e = entry(field);
            return e == null ? map.loc() : e.value().loc();
        }

        /** The number of items of a list field: 0 when absent or null, -1 when it is not a list. */
        int items(String field) {
            Entry e = entry(field);
            if (e == null || e.value() instanceof YScalar s && s.kind() == ScalarKind.NULL) return 0;
            return e.value() instanceof YList l ? l.items().size() : -1;
        }

        /** Whether no problem was reported for the field's own path (a wrong type, an alias, …). */
        boolean fine(String field) {
            String p = child(path, field);
            return problems.stream().noneMatch(x -> x.path().equals(p));
        }

        /** The value of a field; null when absent, null, an alias or a scalar whose variables failed (the last two reported). */
        Y get(String field) {
            Entry e = entry(field);
            if (e == null) return null;
            if (e.value() instanceof YScalar s) {
                if (s.kind() == ScalarKind.NULL || reported.contains(s)) return null;
                if (s.kind() == ScalarKind.ALIAS) {
                    if (reported.add(s)) {
                        ScenarioReader.this.problem(s.loc(), child(path, field), "YAML aliases (*" + s.text() + ") are not supported", "the value written out");
                    }
                    return null;
                }
            }
            return e.value();
        }

        /** A mapping field of the given shape; null when absent or not a mapping (reported). */
        Obj obj(String field, Shape shape) {
            Y y = get(field);
            return y == null ? null : ScenarioReader.this.obj(y, child(path, field), shape);
        }

        /** A field's value read by {@code reader} (null when absent). */
        <T> T value(String field, java.util.function.BiFunction<Y, String, T> reader) {
            Y y = get(field);
            return y == null ? null : reader.apply(y, child(path, field));
        }

        void problem(String field, String message, String allowed) {
            ScenarioReader.this.problem(loc(field), child(path, field), message, allowed);
        }

        private String allowed(String field) {
            return ScenarioRules.allowed(shape, field);
        }

        /** Any scalar, as written. */
        String str(String field) {
            Y y = get(field);
            if (y == null) return null;
            if (y instanceof YScalar s) return s.text();
            wrongType(y, child(path, field), "a single value", allowed(field));
            return null;
        }

        /** A name (Names.PATTERN). */
        String name(String field, String what) {
            String s = str(field);
            if (s == null) return null;
            if (ScenarioRules.name(s)) return s;
            problem(field, "'" + s + "' is not a valid " + what, ScenarioRules.NAME_FORM);
            return null;
        }

        String vmRef(String field) {
            Y y = get(field);
            return y == null ? null : ref(y, child(path, field), false);
        }

        String target(String field) {
            Y y = get(field);
            return y == null ? null : ref(y, child(path, field), true);
        }

        String nic(String field) {
            String s = str(field);
            if (s == null) return null;
            if (ScenarioRules.NIC.matcher(s).matches()) return s;
            problem(field, "'" + s + "' is not a NIC name", ScenarioRules.NIC_FORM);
            return null;
        }

        String regex(String field) {
            String s = str(field);
            if (s == null) return null;
            try {
                Pattern.compile(s);
                return s;
            } catch (PatternSyntaxException e) {
                problem(field, "'" + s + "' is not a valid regular expression: " + e.getDescription()
                        + (e.getIndex() >= 0 ? " near index " + e.getIndex() : ""), allowed(field));
                return null;
            }
        }

        Integer integer(String field, int min, int max) {
            Y y = get(field);
            if (y == null) return null;
            if (y instanceof YScalar s && s.kind() == ScalarKind.INT) {
                try {
                    BigInteger v = new BigInteger(s.text().strip());
                    if (v.compareTo(BigInteger.valueOf(min)) >= 0 && v.compareTo(BigInteger.valueOf(max)) <= 0) return v.intValue();
                    problem(field, s.text() + " is out of range", allowed(field));
                } catch (NumberFormatException e) {
                    problem(field, "'" + s.text() + "' is not a decimal integer", allowed(field));
                }
                return null;
            }
            wrongType(y, child(path, field), "an integer", allowed(field));
            return null;
        }

        Double number(String field, double min, double max) {
            Y y = get(field);
            if (y == null) return null;
            if (y instanceof YScalar s && (s.kind() == ScalarKind.INT || s.kind() == ScalarKind.FLOAT)) {
                double v;
                try {
                    v = Double.parseDouble(s.text().strip());
                } catch (NumberFormatException e) {
                    problem(field, "'" + s.text() + "' is not a number", allowed(field));
                    return null;
                }
                if (v >= min && v <= max) return v;
                problem(field, s.text() + " is out of range", allowed(field));
                return null;
            }
            wrongType(y, child(path, field), "a number", allowed(field));
            return null;
        }

        Boolean bool(String field) {
            Y y = get(field);
            if (y == null) return null;
            if (y instanceof YScalar s && s.kind() == ScalarKind.BOOL) {
                // YAML 1.1, as the reader types scalars: yes/no and on/off are booleans too
                return switch (s.text().strip().toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "y", "on" -> true;
                    default -> false;
                };
            }
            wrongType(y, child(path, field), "true or false", allowed(field));
            return null;
        }

        /** A duration; {@code zero} allows 0 (for at), otherwise it must be positive. */
        Duration duration(String field, boolean zero) {
            Y y = get(field);
            if (y == null) return null;
            String form = zero ? ScenarioRules.AT : ScenarioRules.DURATION;
            if (!(y instanceof YScalar s)) {
                wrongType(y, child(path, field), "a duration", form);
                return null;
            }
            if (s.kind() == ScalarKind.BOOL) {
                wrongType(y, child(path, field), "a duration", form);
                return null;
            }
            try {
                Duration d = Durations.parse(s.text());
                if (d.isZero() && !zero) {
                    problem(field, field + " must be longer than 0", form);
                    return null;
                }
                return d;
            } catch (Durations.BadDuration e) {
                problem(field, e.getMessage(), form);
                return null;
            }
        }

        /** One of an enum's constants, written in lower case; {@code dflt} when absent. */
        <E extends Enum<E>> E choice(String field, Class<E> type, E dflt) {
            String s = str(field);
            if (s == null) return dflt;
            for (E c : type.getEnumConstants()) {
                if (c.name().toLowerCase(Locale.ROOT).equals(s)) return c;
            }
            String all = String.join(", ", java.util.Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
            problem(field, "'" + s + "' is not a valid " + field, allowed(field) == null ? all : allowed(field));
            return null;
        }

        /** A list field, each item read by {@code item}; the items read as null are left out (they were reported). */
        <T> List<T> list(String field, Item<T> item) {
            Y y = get(field);
            if (y == null) return List.of();
            String p = child(path, field);
            if (!(y instanceof YList l)) {
                wrongType(y, p, "a list", allowed(field));
                return List.of();
            }
            List<T> out = new ArrayList<>();
            for (int i = 0; i < l.items().size(); i++) {
                Y it = l.items().get(i);
                String ip = p + "[" + i + "]";
                if (it instanceof YScalar s && s.kind() == ScalarKind.ALIAS) {
                    ScenarioReader.this.problem(s.loc(), ip, "YAML aliases (*" + s.text() + ") are not supported", "the value written out");
                    continue;
                }
                T v = item.read(it, ip, i);
                if (v != null) out.add(v);
            }
            return out;
        }
    }

    private void wrongType(Y y, String path, String expected, String allowed) {
        if (y instanceof YScalar s && (s.kind() == ScalarKind.ALIAS || reported.contains(s))) return; // reported already
        problem(y.loc(), path, "expected " + expected + ", found " + y.describe(), allowed);
    }

    private void problem(Loc loc, String path, String message, String allowed) {
        problems.add(new Problem(file, loc.line(), loc.column(), path, message, allowed));
    }

    static String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }
}
