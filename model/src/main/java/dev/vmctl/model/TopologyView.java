package dev.vmctl.model;

import java.util.List;

/** A deployed topology ({@code GET /api/v1/topologies/{name}}): its file, state, networks, routers and nodes. */
public record TopologyView(String name, String file, String appliedAt, String state, List<String> networks,
                           List<String> routers, List<NodeView> nodes) {
    public TopologyView {
        networks = networks == null ? List.of() : List.copyOf(networks);
        routers = routers == null ? List.of() : List.copyOf(routers);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }
}
