package dev.vmctl.topology;

import java.util.List;
import java.util.Set;

/**
 * What exists of one topology now, as the engine finds it (from the labels of its networks, routers
 * and VMs), with topology-local names: network "public", router "core", node "svc", VM "api".
 * {@code clonedNodes} are the nodes made by {@code vmctl node clone}, not by the file: a plan leaves them
 * alone unless the file names them ({@link TopologyPlan#keptNodes()}).
 */
public record Current(List<Network> networks, List<Router> routers, List<Vm> vms, Set<String> clonedNodes) {
    public static final Current EMPTY = new Current(List.of(), List.of(), List.of());

    public Current {
        networks = networks == null ? List.of() : List.copyOf(networks);
        routers = routers == null ? List.of() : List.copyOf(routers);
        vms = vms == null ? List.of() : List.copyOf(vms);
        clonedNodes = clonedNodes == null ? Set.of() : Set.copyOf(clonedNodes);
    }

    /** Without cloned nodes: everything comes from the file. */
    public Current(List<Network> networks, List<Router> routers, List<Vm> vms) {
        this(networks, routers, vms, Set.of());
    }

    /** A network of the topology; {@code subnet} in canonical CIDR form, e.g. 198.18.1.0/24. */
    public record Network(String name, String subnet, Integer vlan) {}

    /** A router of the topology with the topology-local names of its networks and its routes. */
    public record Router(String name, List<String> networks, List<TopologySpec.Route> routes) {
        public Router {
            networks = networks == null ? List.of() : List.copyOf(networks);
            routes = routes == null ? List.of() : List.copyOf(routes);
        }
    }

    /**
     * A VM of the topology. {@code topologyVmName} is its deployed name (e.g. shop-svc-api); {@code nics}
     * in NIC order (eth0 first) with topology-local network names and the addresses they have.
     */
    public record Vm(String topologyVmName, String node, String vm, String role, String image, int cpus,
                     int memoryMiB, List<Nic> nics) {
        public Vm {
            nics = nics == null ? List.of() : List.copyOf(nics);
        }
    }

    /** A NIC: topology-local network name and address (null when unknown). */
    public record Nic(String network, String ip) {}
}
