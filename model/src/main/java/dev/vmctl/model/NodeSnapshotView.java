package dev.vmctl.model;

import java.util.Map;

/**
 * A snapshot of every VM of a node taken at the same moment.
 *
 * @param members the node's VM (its name in the topology file) → the name of that VM's snapshot
 */
public record NodeSnapshotView(String name, String topology, String node, Map<String, String> members, String createdAt) {
    public NodeSnapshotView {
        members = members == null ? Map.of() : members;
    }
}
