package dev.vmctl.topology;

import dev.vmctl.topology.YamlTree.Issue;
import dev.vmctl.topology.YamlTree.Loc;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Reads and validates topology files (YAML; JSON is YAML too). Every problem names the file, the line
 * and column, the field path and what is allowed; all problems of a file are reported at once, in
 * file order (a YAML syntax error stops the reading, so it comes alone).
 */
public final class TopologyParser {
    private TopologyParser() {}

    /**
     * @param text     the file's text
     * @param fileName how problems name the file, e.g. "shop.yaml" (the CLI passes the path as given)
     * @return the validated spec
     * @throws TopologyException (INVALID) listing every problem
     */
    public static TopologySpec parse(String text, String fileName) {
        return parse(text, fileName, null);
    }

    /**
     * As {@link #parse(String, String)}, and also checks that every VM's image is one of
     * {@code images} (reported with its line like any other problem: "unknown image 'x' (allowed:
     * images of the catalog: tiny)").
     *
     * @param images names of the images of the catalog; null to leave images unchecked
     */
    public static TopologySpec parse(String text, String fileName, Collection<String> images) {
        return ParseLane.call(() -> parseHere(text, fileName, images));
    }

    private static TopologySpec parseHere(String text, String fileName, Collection<String> images) {
        List<Problem> problems = new ArrayList<>();
        YamlTree.Result doc;
        try {
            doc = YamlTree.read(text == null ? "" : text);
        } catch (YamlTree.SyntaxError e) {
            throw new TopologyException(List.of(new Problem(fileName, e.loc.line(), e.loc.column(), "", e.getMessage(), null)));
        }
        if (doc.root() == null) {
            throw new TopologyException(List.of(new Problem(fileName, 1, 1, "", "the file holds no YAML document",
                    "a topology: apiVersion: " + TopologySpec.API_VERSION + ", kind: " + TopologySpec.KIND
                            + ", name, networks, routers, nodes (see docs/topology.md)")));
        }
        for (Issue i : doc.issues()) {
            problems.add(new Problem(fileName, i.loc().line(), i.loc().column(), i.path(), i.message(), i.allowed()));
        }
        SpecReader reader = new SpecReader(fileName, problems);
        TopologySpec spec = reader.topology(doc.root());
        if (spec != null) new TopologyValidator(fileName, reader.locations, problems, images).validate(spec);
        if (!problems.isEmpty()) throw new TopologyException(sorted(problems));
        return spec;
    }

    /**
     * Validates a spec built in code (e.g. received as JSON records); problems carry no line.
     *
     * @param source how problems name the spec, e.g. "request body"
     * @return the spec
     * @throws TopologyException listing every problem
     */
    public static TopologySpec validate(TopologySpec spec, String source) {
        List<Problem> problems = new ArrayList<>();
        checkRequired(spec, problems, source);
        new TopologyValidator(source, Map.<String, Loc>of(), problems, null).validate(spec);
        if (!problems.isEmpty()) throw new TopologyException(problems);
        return spec;
    }

    /** Required fields of a spec built in code (the parser reports them with their lines). */
    private static void checkRequired(TopologySpec s, List<Problem> out, String source) {
        req(out, source, s.apiVersion(), "apiVersion", Rules.Shape.TOPOLOGY);
        req(out, source, s.kind(), "kind", Rules.Shape.TOPOLOGY);
        req(out, source, s.name(), "name", Rules.Shape.TOPOLOGY);
        for (int i = 0; i < s.networks().size(); i++) {
            TopologySpec.Network n = s.networks().get(i);
            req(out, source, n.name(), "networks[" + i + "].name", Rules.Shape.NETWORK);
            req(out, source, n.subnet(), "networks[" + i + "].subnet", Rules.Shape.NETWORK);
        }
        for (int i = 0; i < s.routers().size(); i++) {
            TopologySpec.Router r = s.routers().get(i);
            req(out, source, r.name(), "routers[" + i + "].name", Rules.Shape.ROUTER);
            for (int j = 0; j < r.routes().size(); j++) {
                req(out, source, r.routes().get(j).to(), "routers[" + i + "].routes[" + j + "].to", Rules.Shape.ROUTE);
                req(out, source, r.routes().get(j).via(), "routers[" + i + "].routes[" + j + "].via", Rules.Shape.ROUTE);
            }
        }
        for (int i = 0; i < s.nodes().size(); i++) {
            TopologySpec.Node n = s.nodes().get(i);
            req(out, source, n.name(), "nodes[" + i + "].name", Rules.Shape.NODE);
            for (int j = 0; j < n.vms().size(); j++) {
                TopologySpec.Vm v = n.vms().get(j);
                String p = "nodes[" + i + "].vms[" + j + "]";
                req(out, source, v.name(), p + ".name", Rules.Shape.VM);
                req(out, source, v.image(), p + ".image", Rules.Shape.VM);
                for (int k = 0; k < v.nics().size(); k++) {
                    req(out, source, v.nics().get(k).network(), p + ".nics[" + k + "].network", Rules.Shape.NIC);
                }
            }
        }
    }

    private static void req(List<Problem> out, String source, String value, String path, Rules.Shape shape) {
        if (value != null) return;
        String field = path.substring(path.lastIndexOf('.') + 1);
        out.add(new Problem(source, 0, 0, path, "required field is missing", Rules.allowed(shape, field)));
    }

    private static List<Problem> sorted(List<Problem> problems) {
        List<Problem> l = new ArrayList<>(problems);
        l.sort(Comparator.comparingInt((Problem p) -> p.line() == 0 ? Integer.MAX_VALUE : p.line())
                .thenComparingInt(Problem::column));
        return l;
    }
}
