package dev.vmctl.topology;

import dev.vmctl.model.Names;
import dev.vmctl.model.VmSpec;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The limits and the "allowed" texts of the topology format, shared by the parser, validator and tests. */
final class Rules {
    private Rules() {}

    static final int MAX_NICS = 8; // QemuCommand.PCIE_ROOT_PORTS; the engine's NetService.MAX_NICS
    static final int MIN_VLAN = 1, MAX_VLAN = 4094;
    static final int MAX_NAME = 63;

    static final String NAME = "lower-case letters, digits and '-', starting with a letter or digit, 1-63 characters ("
            + Names.PATTERN + ")";
    static final String MEMORY = VmSpec.MIN_MEMORY_MIB + "M.." + VmSpec.MAX_MEMORY_MIB + "M, e.g. 128M";
    static final String CPUS = VmSpec.MIN_CPUS + ".." + VmSpec.MAX_CPUS;
    static final String VLAN = MIN_VLAN + ".." + MAX_VLAN;
    static final String ACCEL = "auto, kvm, tcg";
    static final String IMAGE = "the name of an image, e.g. tiny";
    static final String ROUTE_TO = "a destination network in CIDR form, prefix /8 to /30, e.g. 198.18.30.0/24";
    static final String NIC = "a network name, or {network: <name>, ip: <address>, rate: <rate>}";
    static final String RATE = "a rate: 8kbit..10gbit in tc units, e.g. 500kbit, 10mbit, 1gbit (bps, kbps, mbps: bytes/s)";
    static final String CPU_LIMIT = "cores, a number from 0.01 to 64 (a fraction allowed), e.g. 0.5";
    static final String NODE_MEMORY = "a size from 64M to 1048576M (M, MB, MiB, G, GB, GiB), e.g. 512M; at least the node's VMs' memory plus 64M each for QEMU";
    static final String DISK = "a size from 64M to 1048576M (M, G), e.g. 4G, at least the image's root file system; only for images with a"
            + " root disk (debian-12, debian-13, imported ones), not tiny";
    static final String RUN = "a command as a list of strings, program first, e.g. [httpd, -f, -p, '8080']";

    /** The kinds of mapping in a topology file: their fields (= the record components) and the required ones. */
    enum Shape {
        TOPOLOGY("a topology", TopologySpec.class, "apiVersion", "kind", "name", "nodes"),
        NETWORK("a network", TopologySpec.Network.class, "name", "subnet"),
        ROUTER("a router", TopologySpec.Router.class, "name", "networks"),
        ROUTE("a route", TopologySpec.Route.class, "to", "via"),
        NODE("a node", TopologySpec.Node.class, "name", "vms"),
        VM("a VM", TopologySpec.Vm.class, "name", "image"),
        NIC("a NIC", TopologySpec.Nic.class, "network"),
        RESOURCES("a node's resources", TopologySpec.Resources.class),
        ARTIFACT("an artifact", dev.vmctl.model.ArtifactSpec.class, "dest");

        final String what;
        final List<String> fields;
        final Set<String> required;

        Shape(String what, Class<? extends Record> type, String... required) {
            this.what = what;
            this.fields = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList();
            this.required = new LinkedHashSet<>(List.of(required));
        }

        String allowedFields() { return String.join(", ", fields); }
    }

    /** What a field accepts, for "missing" and "wrong type" messages. */
    static String allowed(Shape shape, String field) {
        return switch (shape.name() + "." + field) {
            case "TOPOLOGY.apiVersion" -> TopologySpec.API_VERSION;
            case "TOPOLOGY.kind" -> TopologySpec.KIND;
            case "TOPOLOGY.networks" -> "a list of networks: {name, subnet, vlan?}";
            case "TOPOLOGY.routers" -> "a list of routers: {name, networks, routes?}";
            case "TOPOLOGY.nodes" -> "a list of nodes: {name, vms}";
            case "NETWORK.subnet" -> Ipv4.SUBNET_FORM;
            case "NETWORK.vlan" -> VLAN;
            case "ROUTER.networks" -> "a list of names of declared networks";
            case "ROUTER.routes" -> "a list of routes: {to, via}";
            case "ROUTE.to" -> ROUTE_TO;
            case "ROUTE.via" -> "an address on one of the router's networks";
            case "NODE.vms" -> "a list of VMs: {name, image, role?, cpus?, memory?, accel?, nics?, startBefore?, artifacts?, run?, cpuLimit?, disk?}";
            case "VM.image" -> IMAGE;
            case "VM.cpus" -> CPUS;
            case "VM.memory" -> MEMORY;
            case "VM.accel" -> ACCEL;
            case "VM.nics" -> "a list of at most " + MAX_NICS + " NICs: " + NIC;
            case "VM.startBefore" -> "a list of names of VMs of the same node";
            case "VM.artifacts" -> "a list of artifacts: {src|url|maven|git, dest, mode?, owner?, sha256?, ref?, repo?}";
            case "VM.run" -> RUN;
            case "VM.cpuLimit" -> CPU_LIMIT;
            case "VM.disk" -> DISK;
            case "NODE.resources" -> "{cpu: <cores>, memory: <size>, egress: <rate>}, e.g. {cpu: 0.5, memory: 512M, egress: 100mbit}";
            case "RESOURCES.cpu" -> CPU_LIMIT;
            case "RESOURCES.memory" -> NODE_MEMORY;
            case "ARTIFACT.dest" -> dev.vmctl.model.ArtifactSpec.DEST;
            case "ARTIFACT.src", "ARTIFACT.url", "ARTIFACT.maven", "ARTIFACT.git" -> dev.vmctl.model.ArtifactSpec.SOURCES;
            case "ARTIFACT.mode" -> dev.vmctl.model.ArtifactSpec.MODE;
            case "ARTIFACT.owner" -> dev.vmctl.model.ArtifactSpec.OWNER;
            case "ARTIFACT.sha256" -> dev.vmctl.model.ArtifactSpec.SHA256;
            case "ARTIFACT.ref" -> "a tag, branch or commit id (git only)";
            case "ARTIFACT.repo" -> "a Maven repository URL (maven only)";
            case "NIC.network" -> "the name of a declared network";
            case "NIC.ip" -> "an IPv4 address in the network's subnet";
            case "NIC.rate" -> RATE;
            case "RESOURCES.egress" -> RATE + "; what the node's VMs send, all together";
            default -> NAME; // name, role
        };
    }
}
