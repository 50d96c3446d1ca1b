package dev.vmctl.topology;

import dev.vmctl.topology.Rules.Shape;
import dev.vmctl.topology.YamlTree.Entry;
import dev.vmctl.topology.YamlTree.Loc;
import dev.vmctl.topology.YamlTree.ScalarKind;
import dev.vmctl.topology.YamlTree.Y;
import dev.vmctl.topology.YamlTree.YList;
import dev.vmctl.topology.YamlTree.YMap;
import dev.vmctl.topology.YamlTree.YScalar;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Turns the YAML tree into {@link TopologySpec} records, reporting structural problems (unknown fields,
 * wrong types, missing required fields) and recording the location of every field by its path
 * ({@code nodes[0].vms[1].memory} → line, column) for the semantic checks that follow. A list item that
 * cannot be read becomes a record of nulls, so that indexes in paths stay those of the file.
 */
final class SpecReader {
    private final String file;
    private final List<Problem> problems;
    final Map<String, Loc> locations = new HashMap<>();

    SpecReader(String file, List<Problem> problems) {
        this.file = file;
        this.problems = problems;
    }

    TopologySpec topology(Y root) {
        Obj o = obj(root, "", Shape.TOPOLOGY);
        if (o.broken) return null;
        return new TopologySpec(o.str("apiVersion"), o.str("kind"), o.name("name"),
                o.list("networks", this::network), o.list("routers", this::router), o.list("nodes", this::node));
    }

    private TopologySpec.Network network(Y y, String path) {
        Obj o = obj(y, path, Shape.NETWORK);
        return new TopologySpec.Network(o.name("name"), o.str("subnet"), o.integer("vlan"));
    }

    private TopologySpec.Router router(Y y, String path) {
        Obj o = obj(y, path, Shape.ROUTER);
        return new TopologySpec.Router(o.name("name"), o.list("networks", this::name), o.list("routes", this::route));
    }

    private TopologySpec.Route route(Y y, String path) {
        Obj o = obj(y, path, Shape.ROUTE);
        return new TopologySpec.Route(o.str("to"), o.str("via"));
    }

    private TopologySpec.Node node(Y y, String path) {
        Obj o = obj(y, path, Shape.NODE);
        return new TopologySpec.Node(o.name("name"), o.list("vms", this::vm), o.object("resources", this::resources));
    }

    private TopologySpec.Vm vm(Y y, String path) {
        Obj o = obj(y, path, Shape.VM);
        return new TopologySpec.Vm(o.name("name"), o.str("role"), o.name("image"), o.integer("cpus"), o.str("memory"),
                o.str("accel"), o.list("nics", this::nic), o.list("startBefore", this::name), o.list("artifacts", this::artifact),
                o.list("run", this::word), o.number("cpuLimit"), o.str("disk"));
    }

    private TopologySpec.Resources resources(Y y, String path) {
        Obj o = obj(y, path, Shape.RESOURCES);
        return new TopologySpec.Resources(o.number("cpu"), o.str("memory"), o.str("egress"));
    }

    private dev.vmctl.model.ArtifactSpec artifact(Y y, String path) {
        Obj o = obj(y, path, Shape.ARTIFACT);
        return new dev.vmctl.model.ArtifactSpec(o.str("src"), o.str("url"), o.str("maven"), o.str("git"), o.str("dest"), o.str("mode"),
                o.str("owner"), o.str("sha256"), o.str("ref"), o.str("repo"));
    }

    /** An item of an argv list (run): any scalar, as written. */
    private String word(Y y, String path) {
        if (y instanceof YScalar s && s.kind() != ScalarKind.NULL && s.kind() != ScalarKind.ALIAS) return s.text();
        wrongType(y, path, "a string (one argument)", Rules.RUN);
        return null;
    }

    private TopologySpec.Nic nic(Y y, String path) {
        if (y instanceof YScalar s && s.kind() == ScalarKind.STRING) {
            return new TopologySpec.Nic(s.text(), null);
        }
        if (y instanceof YMap) {
            Obj o = obj(y, path, Shape.NIC);
            return new TopologySpec.Nic(o.name("network"), o.str("ip"), o.str("rate"));
        }
        wrongType(y, path, "a network name or a mapping {network, ip, rate}", Rules.NIC);
        return new TopologySpec.Nic(null, null);
    }

    /** An item of a list of names (router networks, startBefore). */
    private String name(Y y, String path) {
        if (y instanceof YScalar s && s.kind() == ScalarKind.STRING) return s.text();
        wrongType(y, path, "a name (a string: a number or a boolean is not one)", Rules.NAME);
        return null;
    }

    // ---- the generic part ----------------------------------------------------------------------

    private Obj obj(Y y, String path, Shape shape) {
        locations.put(path, y.loc());
        if (!(y instanceof YMap m)) {
            wrongType(y, path, "a mapping (" + shape.what + ")", shape.allowedFields());
            return new Obj(path, shape, List.of(), true);
        }
        for (Entry e : m.entries()) {
            String child = child(path, e.key());
            if (!shape.fields.contains(e.key())) {
                String close = shape.fields.stream().filter(f -> f.equalsIgnoreCase(e.key())).findFirst()
                        .map(f -> " (did you mean '" + f + "'?)").orElse("");
                problem(e.keyLoc(), child, "unknown field '" + e.key() + "' in " + shape.what + close, shape.allowedFields());
            }
        }
        for (String f : shape.required) {
            Entry e = m.entries().stream().filter(x -> x.key().equals(f)).findFirst().orElse(null);
            if (e == null) {
                problem(m.loc(), child(path, f), "required field is missing", Rules.allowed(shape, f));
            } else if (e.value() instanceof YScalar s && s.kind() == ScalarKind.NULL) {
                problem(s.loc(), child(path, f), "required field is empty", Rules.allowed(shape, f));
            }
        }
        return new Obj(path, shape, m.entries(), false);
    }

    private final class Obj {
        final String path;
        final Shape shape;
        final List<Entry> entries;
        final boolean broken;

        Obj(String path, Shape shape, List<Entry> entries, boolean broken) {
            this.path = path;
            this.shape = shape;
            this.entries = entries;
            this.broken = broken;
        }

        /** The value of a field, null when absent or null; records its location. */
        private Y get(String field) {
            for (Entry e : entries) {
                if (e.key().equals(field)) {
                    locations.put(child(path, field), e.value().loc());
                    if (e.value() instanceof YScalar s && s.kind() == ScalarKind.NULL) return null;
                    if (e.value() instanceof YScalar s && s.kind() == ScalarKind.ALIAS) {
                        problem(s.loc(), child(path, field), "YAML aliases (*" + s.text() + ") are not supported",
                                "the value written out");
                        return null;
                    }
                    return e.value();
                }
            }
            return null;
        }

        /** Any scalar, as written. */
        /** A name: a YAML string only (no type is converted: 123, 1.5 and true are not names; "123" is). */
        String name(String field) {
            Y y = get(field);
            if (y == null) return null;
            if (y instanceof YScalar s && s.kind() == ScalarKind.STRING) return s.text();
            wrongType(y, child(path, field), y instanceof YScalar ? "a name (a string: a number or a boolean is not one)" : "a single value",
                    Rules.allowed(shape, field));
            return null;
        }

        String str(String field) {
            Y y = get(field);
            if (y == null) return null;
            if (y instanceof YScalar s) return s.text();
            wrongType(y, child(path, field), "a single value", Rules.allowed(shape, field));
            return null;
        }

        Integer integer(String field) {
            Y y = get(field);
            if (y == null) return null;
            String p = child(path, field);
            if (y instanceof YScalar s && s.kind() == ScalarKind.INT) {
                try {
                    BigInteger v = new BigInteger(s.text().strip());
                    if (v.bitLength() < 32) return v.intValue();
                    problem(s.loc(), p, s.text() + " is out of range", Rules.allowed(shape, field));
                } catch (NumberFormatException e) {
                    problem(s.loc(), p, "'" + s.text() + "' is not a decimal integer", Rules.allowed(shape, field));
                }
                return null;
            }
            wrongType(y, p, "an integer", Rules.allowed(shape, field));
            return null;
        }

        /** An integer or a decimal number (cores: 0.5, 2). */
        Double number(String field) {
            Y y = get(field);
            if (y == null) return null;
            String p = child(path, field);
            if (y instanceof YScalar s && (s.kind() == ScalarKind.INT || s.kind() == ScalarKind.FLOAT)) {
                try {
                    return Double.parseDouble(s.text().strip());
                } catch (NumberFormatException e) {
                    problem(s.loc(), p, "'" + s.text() + "' is not a number", Rules.allowed(shape, field));
                }
                return null;
            }
            wrongType(y, p, "a number", Rules.allowed(shape, field));
            return null;
        }

        /** A nested mapping read by {@code item}, null when absent. */
        <T> T object(String field, BiFunction<Y, String, T> item) {
            Y y = get(field);
            return y == null ? null : item.apply(y, child(path, field));
        }

        <T> List<T> list(String field, BiFunction<Y, String, T> item) {
            Y y = get(field);
            if (y == null) return List.of();
            String p = child(path, field);
            if (!(y instanceof YList l)) {
                wrongType(y, p, "a list", Rules.allowed(shape, field));
                return List.of();
            }
            List<T> out = new ArrayList<>();
            for (int i = 0; i < l.items().size(); i++) {
                String ip = p + "[" + i + "]";
                Y it = l.items().get(i);
                locations.put(ip, it.loc());
                if (it instanceof YScalar s && s.kind() == ScalarKind.ALIAS) {
                    problem(s.loc(), ip, "YAML aliases (*" + s.text() + ") are not supported", "the value written out");
                }
                out.add(item.apply(it, ip));
            }
            return out;
        }
    }

    private void wrongType(Y y, String path, String expected, String allowed) {
        if (y instanceof YScalar s && s.kind() == ScalarKind.ALIAS) return; // reported already
        problem(y.loc(), path, "expected " + expected + ", found " + y.describe(), allowed);
    }

    private void problem(Loc loc, String path, String message, String allowed) {
        problems.add(new Problem(file, loc.line(), loc.column(), path, message, allowed));
    }

    static String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }
}
