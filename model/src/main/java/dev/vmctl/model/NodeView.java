package dev.vmctl.model;

import java.util.List;

/** A node of a deployed topology: a group of VMs handled as one ({@code GET /api/v1/nodes/{topology}/{node}}). */
public record NodeView(String topology, String name, String state, List<NodeVm> vms) {
    public NodeView {
        vms = vms == null ? List.of() : List.copyOf(vms);
    }
}
