package dev.vmctl.cli;

import dev.vmctl.model.NodeView;

/** {@code TOPOLOGY/NODE} as users write it ({@code shop/svc}). */
record NodeRef(String topology, String node) {
    /** @throws CliException a usage error (exit 2) when {@code text} is not TOPOLOGY/NODE */
    static NodeRef parse(String text) {
        String t = text == null ? "" : text.strip();
        int slash = t.indexOf('/');
        if (slash <= 0 || slash == t.length() - 1 || t.indexOf('/', slash + 1) >= 0) {
            throw CliException.usage("a node is named TOPOLOGY/NODE, e.g. shop/svc (got '" + text + "')");
        }
        return new NodeRef(t.substring(0, slash), t.substring(slash + 1));
    }

    /** The node a view shows. */
    static NodeRef of(NodeView n) {
        return new NodeRef(n.topology(), n.name());
    }

    /** {@code /api/v1/nodes/shop/svc}. */
    String path() {
        return "/api/v1/nodes/" + ApiClient.seg(topology) + "/" + ApiClient.seg(node);
    }

    @Override
    public String toString() {
        return topology + "/" + node;
    }
}
