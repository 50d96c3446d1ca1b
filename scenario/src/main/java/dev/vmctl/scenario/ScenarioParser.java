package dev.vmctl.scenario;

import dev.vmctl.topology.Problem;
import dev.vmctl.topology.YamlTree;
import dev.vmctl.topology.YamlTree.Issue;
import dev.vmctl.topology.YamlTree.Y;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Reads and validates scenario files (YAML; JSON is YAML too). Every problem names the file, the line and
 * column, the field path and what is allowed; all problems of a file are reported at once, in file order
 * (a YAML syntax error stops the reading, so it comes alone). The order of the work:
 * <ol>
 * <li>the text becomes a tree that knows where everything is ({@link YamlTree});</li>
 * <li>{@code vars} are read and the overrides applied; {@code ${name}} is substituted in every string scalar;</li>
 * <li>the tree is read into {@link ScenarioSpec} records, each field checked on the way.</li>
 * </ol>
 * Only the file itself is checked: whether its VMs, nodes and snapshots exist is the engine's business,
 * against the deployed topology.
 */
public final class ScenarioParser {
    private ScenarioParser() {}

    /** As {@link #parse(String, String, Map)} without overrides. */
    public static ScenarioSpec parse(String text, String fileName) {
        return parse(text, fileName, Map.of());
    }

    /**
     * @param text         the file's text
     * @param fileName     how problems name the file, e.g. "failover.yaml" (the CLI passes the path as given)
     * @param varOverrides values that replace the file's vars or add new ones (e.g. from {@code --var port=9090}); may be null
     * @return the validated spec, its vars those after the overrides
     * @throws ScenarioException (INVALID) listing every problem
     */
    public static ScenarioSpec parse(String text, String fileName, Map<String, String> varOverrides) {
        return dev.vmctl.topology.ParseLane.call(() -> parseHere(text, fileName, varOverrides));
    }

    private static ScenarioSpec parseHere(String text, String fileName, Map<String, String> varOverrides) {
        YamlTree.Result doc;
        try {
            doc = YamlTree.read(text == null ? "" : text, "a scenario file");
        } catch (YamlTree.SyntaxError e) {
            throw new ScenarioException(List.of(new Problem(fileName, e.loc().line(), e.loc().column(), "", e.getMessage(), null)));
        }
        if (doc.root() == null) {
            throw new ScenarioException(List.of(new Problem(fileName, 1, 1, "", "the file holds no YAML document",
                    "a scenario: apiVersion: " + ScenarioSpec.API_VERSION + ", kind: " + ScenarioSpec.KIND
                            + ", name, steadyState, steps (see docs/scenario.md)")));
        }
        List<Problem> problems = new ArrayList<>();
        for (Issue i : doc.issues()) {
            problems.add(new Problem(fileName, i.loc().line(), i.loc().column(), i.path(), i.message(), i.allowed()));
        }
        Vars vars = new Vars(fileName, problems);
        vars.read(doc.root(), varOverrides);
        Y root = vars.substitute(doc.root(), "");
        ScenarioSpec spec = new ScenarioReader(fileName, problems, vars.broken).scenario(root, vars.values);
        if (spec == null && problems.isEmpty()) problems.add(new Problem(fileName, 1, 1, "", "the file is not a scenario", null));
        if (!problems.isEmpty()) throw new ScenarioException(sorted(problems));
        return spec;
    }

    /** The JSON Schema (draft 2020-12) of scenario files, as served at /api/v1/scenario.schema.json. */
    public static String schemaJson() {
        return Schema.TEXT;
    }

    private static final class Schema {
        static final String TEXT = load();

        private static String load() {
            try (InputStream in = ScenarioParser.class.getResourceAsStream("scenario.schema.json")) {
                if (in == null) throw new IllegalStateException("scenario.schema.json is missing from the class path");
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** File order: by line, then column; problems without a line (overrides) last. */
    private static List<Problem> sorted(List<Problem> problems) {
        List<Problem> l = new ArrayList<>(problems);
        l.sort(Comparator.comparingInt((Problem p) -> p.line() == 0 ? Integer.MAX_VALUE : p.line())
                .thenComparingInt(Problem::column));
        return l;
    }
}
