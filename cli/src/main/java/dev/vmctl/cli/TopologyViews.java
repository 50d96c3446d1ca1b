package dev.vmctl.cli;

import java.util.List;

/**
 * What the CLI reads of the topology API's answers (reports, topologies, nodes). Read tolerantly like
 * {@link NetViews}: unknown fields are ignored, missing ones are null. {@code -o json} never goes
 * through them; it prints the server's JSON as it came.
 */
final class TopologyViews {
    private TopologyViews() {}

    /** The answer of {@code vmctl up} and {@code vmctl down}: what was (or would be) done, step by step. */
    record Report(String topology, Boolean dryRun, Boolean ok, String summary, List<Step> steps, Long durationMs,
                  Integer parallelBoots, Boolean rolledBack) {
        Report {
            steps = steps == null ? List.of() : steps;
        }

        boolean succeeded() {
            return Boolean.TRUE.equals(ok);
        }
    }

    /**
     * One element's outcome.
     *
     * @param verb   create, delete or change
     * @param type   network, router or vm
     * @param status planned, done, failed or skipped
     * @param millis how long a done step took, or null
     */
    record Step(String verb, String type, String name, String description, String status, String error, Long millis) {}

    /** {@code GET /api/v1/topologies/{name}}. */
    record Topology(String name, String file, String appliedAt, String state, List<String> networks,
                    List<String> routers, List<Node> nodes) {
        Topology {
            networks = networks == null ? List.of() : networks;
            routers = routers == null ? List.of() : routers;
            nodes = nodes == null ? List.of() : nodes;
        }
    }

    /** {@code GET /api/v1/nodes/{topology}/{node}}: a group of VMs handled as one. */
    record Node(String topology, String name, String state, List<NodeVm> vms) {
        Node {
            vms = vms == null ? List.of() : vms;
        }

        /** {@code shop/svc}. */
        String ref() {
            return topology + "/" + name;
        }
    }

    /**
     * One VM of a node.
     *
     * @param name the deployed VM's name, e.g. {@code shop-svc-api}
     * @param vm   its name in the topology file, e.g. {@code api}
     */
    record NodeVm(String name, String vm, String role, String state, List<String> ips, String error) {
        NodeVm {
            ips = ips == null ? List.of() : ips;
        }
    }
}
