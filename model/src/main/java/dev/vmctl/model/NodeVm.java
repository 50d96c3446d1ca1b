package dev.vmctl.model;

import java.util.List;

/**
 * One VM of a node.
 *
 * @param name the deployed VM's name, e.g. {@code shop-svc-api}
 * @param vm   its name in the topology file, e.g. {@code api}
 * @param ips  its NICs' addresses, in NIC order (null for a NIC without one)
 */
public record NodeVm(String name, String vm, String role, VmState state, List<String> ips, String error) {
    public NodeVm {
        ips = ips == null ? List.of() : ips;
    }
}
