package dev.vmctl.scenario;

import dev.vmctl.topology.Problem;
import dev.vmctl.topology.YamlTree.Entry;
import dev.vmctl.topology.YamlTree.Loc;
import dev.vmctl.topology.YamlTree.ScalarKind;
import dev.vmctl.topology.YamlTree.Y;
import dev.vmctl.topology.YamlTree.YList;
import dev.vmctl.topology.YamlTree.YMap;
import dev.vmctl.topology.YamlTree.YScalar;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code vars} of a scenario file and their substitution: {@code ${name}} in any string scalar
 * (outside {@code vars} itself) is replaced by the variable's value, {@code $${} stands for a literal
 * {@code ${}. A scalar into which a variable was substituted is then typed as YAML would type it
 * written plainly (so {@code port: "${port}"} with port "8080" is the integer 8080). This happens on
 * the tree, before any field is read.
 */
final class Vars {
    private static final Pattern INT = Pattern.compile("[-+]?(0|[1-9][0-9]*)");
    private static final Pattern FLOAT = Pattern.compile("[-+]?(0|[1-9][0-9]*)\\.[0-9]+");

    private final String file;
    private final List<Problem> problems;
    /** Scalars whose substitution failed (reported): the reader treats them as absent without another problem. */
    final Set<Y> broken = Collections.newSetFromMap(new IdentityHashMap<>());
    /** File vars, then overrides (which replace them or add new ones). */
    final Map<String, String> values = new LinkedHashMap<>();

    Vars(String file, List<Problem> problems) {
        this.file = file;
        this.problems = problems;
    }

    /** Reads the root's {@code vars} (when the root is a mapping) and applies the overrides. */
    void read(Y root, Map<String, String> overrides) {
        if (root instanceof YMap m) {
            for (Entry e : m.entries()) {
                if (e.key().equals("vars")) file(e.value());
            }
        }
        if (overrides != null) {
            for (var e : overrides.entrySet()) {
                if (e.getKey() == null || !ScenarioRules.VAR_NAME.matcher(e.getKey()).matches()) {
                    problems.add(new Problem(file, 0, 0, "vars." + e.getKey(),
                            "the override's variable name '" + e.getKey() + "' is not valid", ScenarioRules.VAR_FORM));
                    continue;
                }
                values.put(e.getKey(), e.getValue() == null ? "" : e.getValue());
            }
        }
    }

    private void file(Y y) {
        if (y instanceof YScalar s && s.kind() == ScalarKind.NULL) return;
        if (!(y instanceof YMap m)) {
            problem(y.loc(), "vars", "expected a mapping of variable names to values, found " + y.describe(),
                    ScenarioRules.allowed(ScenarioRules.Shape.SCENARIO, "vars"));
            return;
        }
        for (Entry e : m.entries()) {
            String path = "vars." + e.key();
            if (!ScenarioRules.VAR_NAME.matcher(e.key()).matches()) {
                problem(e.keyLoc(), path, "'" + e.key() + "' is not a valid variable name", ScenarioRules.VAR_FORM);
                continue;
            }
            if (e.value() instanceof YScalar s && s.kind() != ScalarKind.NULL && s.kind() != ScalarKind.ALIAS) {
                values.put(e.key(), s.text());
            } else {
                problem(e.value().loc(), path, "expected a value, found " + e.value().describe(),
                        "a string, number or boolean, e.g. \"8080\"");
            }
        }
    }

    /** The tree with every variable substituted (the root's {@code vars} left as written). */
    Y substitute(Y y, String path) {
        return switch (y) {
            case YMap m -> {
                List<Entry> entries = new ArrayList<>(m.entries().size());
                for (Entry e : m.entries()) {
                    if (path.isEmpty() && e.key().equals("vars")) entries.add(e);
                    else entries.add(new Entry(e.key(), e.keyLoc(), substitute(e.value(), child(path, e.key()))));
                }
                yield new YMap(m.loc(), entries);
            }
            case YList l -> {
                List<Y> items = new ArrayList<>(l.items().size());
                for (int i = 0; i < l.items().size(); i++) items.add(substitute(l.items().get(i), path + "[" + i + "]"));
                yield new YList(l.loc(), items);
            }
            case YScalar s when s.kind() == ScalarKind.STRING && s.text().contains("$") -> scalar(s, path);
            case YScalar s -> s;
        };
    }

    private Y scalar(YScalar s, String path) {
        String t = s.text();
        StringBuilder out = new StringBuilder(t.length());
        boolean substituted = false, failed = false;
        int i = 0;
        while (i < t.length()) {
            if (t.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (t.startsWith("${", i)) {
                int end = t.indexOf('}', i + 2);
                if (end < 0) {
                    problem(s.loc(), path, "'${' without a closing '}' in '" + t + "'", "${name}, or $${ for a literal ${");
                    failed = true;
                    break;
                }
                String name = t.substring(i + 2, end);
                String value = values.get(name);
                if (!ScenarioRules.VAR_NAME.matcher(name).matches()) {
                    problem(s.loc(), path, "'${" + name + "}' is not a valid variable reference",
                            "${name} with a name of " + ScenarioRules.VAR_FORM + ", or $${ for a literal ${");
                    failed = true;
                } else if (value == null) {
                    problem(s.loc(), path, "unknown variable '" + name + "'", values.isEmpty()
                            ? "no variable is defined; define it under vars, or pass it as an override"
                            : String.join(", ", values.keySet()));
                    failed = true;
                } else {
                    out.append(value);
                    substituted = true;
                }
                i = end + 1;
            } else {
                out.append(t.charAt(i++));
            }
        }
        if (failed) {
            broken.add(s);
            return s;
        }
        String text = out.toString();
        if (!substituted) return new YScalar(s.loc(), ScalarKind.STRING, text);
        ScalarKind kind = INT.matcher(text).matches() ? ScalarKind.INT
                : FLOAT.matcher(text).matches() ? ScalarKind.FLOAT
                : text.equals("true") || text.equals("false") ? ScalarKind.BOOL
                : ScalarKind.STRING;
        return new YScalar(s.loc(), kind, text);
    }

    private void problem(Loc loc, String path, String message, String allowed) {
        problems.add(new Problem(file, loc.line(), loc.column(), path, message, allowed));
    }

    static String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }
}
