package dev.vmctl.model;

import java.util.List;

/**
 * A deployed topology ({@code GET /api/v1/topologies/{name}}): its file, state, networks, routers and nodes, and the
 * text of the file it was last applied from ({@code spec}: YAML or JSON as sent, comments kept; only in the answer for
 * one topology, null in the list).
 */
public record TopologyView(String name, String file, String appliedAt, String state, List<String> networks,
                           List<String> routers, List<NodeView> nodes, String spec) {
    public TopologyView {
        networks = networks == null ? List.of() : List.copyOf(networks);
        routers = routers == null ? List.of() : List.copyOf(routers);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }

    /** The view without its spec (the list of topologies). */
    public TopologyView(String name, String file, String appliedAt, String state, List<String> networks, List<String> routers, List<NodeView> nodes) {
        this(name, file, appliedAt, state, networks, routers, nodes, null);
    }
}
