package dev.vmctl.topology;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.Sizes;
import dev.vmctl.model.VmSpec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A topology file as written (apiVersion {@value #API_VERSION}, kind {@value #KIND}): networks, routers
 * and nodes of VMs. Names are topology-local; the deployed names are {@link #networkName},
 * {@link #routerName} and {@link #vmName}. Instances returned by {@link TopologyParser} are validated;
 * optional values the file leaves out are null (scalars) or empty (lists) — use the {@code effective…}
 * accessors for the defaults.
 *
 * <p>The record components are the file's field names (the JSON Schema {@code topology.schema.json}
 * lists the same, checked by a test), so the records serialise back to an equivalent file.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record TopologySpec(String apiVersion, String kind, String name, List<Network> networks,
                           List<Router> routers, List<Node> nodes) {
    public static final String API_VERSION = "vmctl/v1";
    public static final String KIND = "Topology";

    public TopologySpec {
        networks = copy(networks);
        routers = copy(routers);
        nodes = copy(nodes);
    }

    /** A segment: {@code subnet} in CIDR form; the first host address (.1) is the gateway (a router's port). */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Network(String name, String subnet, Integer vlan) {}

    /** A router joining declared networks (at its gateway address on each), with optional static routes. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Router(String name, List<String> networks, List<Route> routes) {
        public Router {
            networks = copy(networks);
            routes = copy(routes);
        }
    }

    /** A static route of a router: destination network {@code to} (CIDR) via a next hop on one of its networks. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Route(String to, String via) {}

    /** A named group of VMs handled as one unit. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Node(String name, List<Vm> vms, Resources resources) {
        public Node {
            vms = copy(vms);
        }

        public Node(String name, List<Vm> vms) {
            this(name, vms, null);
        }

        public Vm vm(String name) {
            return vms.stream().filter(v -> name.equals(v.name())).findFirst().orElse(null);
        }
    }

    /**
     * One VM of a node. {@code memory} as written ("128M", "1G", "256"); {@code startBefore} names VMs
     * of the same node that start only once this one is RUNNING; {@code artifacts} are put into the guest after
     * every boot from the image and {@code run} (argv) is then started detached, before the VM is RUNNING.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Vm(String name, String role, String image, Integer cpus, String memory, String accel,
                     List<Nic> nics, List<String> startBefore, List<ArtifactSpec> artifacts, List<String> run, Double cpuLimit,
                     String disk) {
        public static final int DEFAULT_CPUS = 1;
        public static final int DEFAULT_MEMORY_MIB = 128;

        public Vm {
            nics = copy(nics);
            startBefore = copy(startBefore);
            artifacts = copy(artifacts);
            run = copy(run);
        }

        /** Without a disk size ({@code disk}: the VM's own disk, images with a root file system; null: the image's rootfs size). */
        public Vm(String name, String role, String image, Integer cpus, String memory, String accel, List<Nic> nics,
                  List<String> startBefore, List<ArtifactSpec> artifacts, List<String> run, Double cpuLimit) {
            this(name, role, image, cpus, memory, accel, nics, startBefore, artifacts, run, cpuLimit, null);
        }

        public Vm(String name, String role, String image, Integer cpus, String memory, String accel, List<Nic> nics,
                  List<String> startBefore, List<ArtifactSpec> artifacts, List<String> run) {
            this(name, role, image, cpus, memory, accel, nics, startBefore, artifacts, run, null);
        }

        public Vm(String name, String role, String image, Integer cpus, String memory, String accel, List<Nic> nics,
                  List<String> startBefore) {
            this(name, role, image, cpus, memory, accel, nics, startBefore, List.of(), List.of());
        }

        public int effectiveCpus() { return cpus == null ? DEFAULT_CPUS : cpus; }

        /** The role as written, or the VM's name when the file gives none. */
        public String effectiveRole() { return role == null || role.isBlank() ? name : role; }

        /** Memory in MiB (128 when not given); -1 when not a size (never for a validated spec). */
        public int memoryMiB() { return memory == null ? DEFAULT_MEMORY_MIB : (int) Sizes.parseMiB(memory); }

        public VmSpec.Accel effectiveAccel() { return VmSpec.Accel.parse("accel", accel); }

        /** The network names of the NICs, in NIC order (eth0, eth1, …). */
        public List<String> networkNames() { return nics.stream().map(Nic::network).toList(); }
    }

    /**
     * A NIC on a declared network; {@code ip} is optional (null: the engine allocates one). In the file
     * either the network name alone or {@code {network: …, ip: …}}.
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Nic(String network, String ip, String rate) {
        public Nic(String network, String ip) {
            this(network, ip, null);
        }
    }

    /**
     * A node's share of the host, applied to its VMs' QEMU processes together through cgroups: {@code cpu} in cores (a
     * fraction allowed), {@code memory} as a size ("512M"; it counts the VMs' QEMU memory: guest RAM plus QEMU's own).
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Resources(Double cpu, String memory, String egress) {
        public Resources(Double cpu, String memory) {
            this(cpu, memory, null);
        }

        /** Memory in MiB, null when not given; -1 when not a size (never for a validated spec). */
        public Long memoryMiB() { return memory == null ? null : Sizes.parseMiB(memory); }
    }

    // ---- deployed names ------------------------------------------------------------------------

    /** The deployed name of a network of this topology: {@code <topology>-<network>}. */
    public String networkName(String network) { return name + "-" + network; }

    /** The deployed name of a router of this topology: {@code <topology>-<router>}. */
    public String routerName(String router) { return name + "-" + router; }

    /** The deployed name of a VM of this topology: {@code <topology>-<node>-<vm>}. */
    public String vmName(String node, String vm) { return name + "-" + node + "-" + vm; }

    public Node node(String name) {
        return nodes.stream().filter(n -> name.equals(n.name())).findFirst().orElse(null);
    }

    public Network network(String name) {
        return networks.stream().filter(n -> name.equals(n.name())).findFirst().orElse(null);
    }

    /** An unmodifiable copy; null elements stand for items the parser could not read (never in a valid spec). */
    private static <T> List<T> copy(List<T> l) {
        return l == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(l));
    }
}
