package dev.vmctl.topology;

import dev.vmctl.model.Names;
import dev.vmctl.model.Sizes;
import dev.vmctl.model.VmSpec;
import dev.vmctl.topology.Ipv4.BadCidr;
import dev.vmctl.topology.Ipv4.Cidr;
import dev.vmctl.topology.YamlTree.Loc;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The semantic checks of a topology (names, deployed names, subnets, references, addresses, start
 * order), each problem located through the paths the {@link SpecReader} recorded. Null values are
 * skipped: they were reported as missing or unreadable already.
 */
final class TopologyValidator {
    private static final Pattern NAME = Pattern.compile(Names.PATTERN);
    private static final Set<String> ACCELS = Set.of("auto", "kvm", "tcg");

    private final String file;
    private final Map<String, Loc> locations;
    private final List<Problem> problems;
    private final Collection<String> images; // null: images are not checked

    TopologyValidator(String file, Map<String, Loc> locations, List<Problem> problems, Collection<String> images) {
        this.file = file;
        this.locations = locations;
        this.problems = problems;
        this.images = images;
    }

    void validate(TopologySpec s) {
        if (s.apiVersion() != null && !TopologySpec.API_VERSION.equals(s.apiVersion())) {
            problem("apiVersion", "'" + s.apiVersion() + "' is not a supported version", TopologySpec.API_VERSION);
        }
        if (s.kind() != null && !TopologySpec.KIND.equals(s.kind())) {
            problem("kind", "'" + s.kind() + "' is not a supported kind", TopologySpec.KIND);
        }
        boolean topoOk = name("name", s.name(), "topology name");

        // ---- networks
        Map<String, String> netPaths = new LinkedHashMap<>(); // name → path, file order
        Map<String, Cidr> cidrs = new LinkedHashMap<>();      // name → subnet (valid ones)
        Map<String, String> cidrPaths = new HashMap<>();
        boolean netsKnown = true;                             // every network has a readable name
        for (int i = 0; i < s.networks().size(); i++) {
            TopologySpec.Network n = s.networks().get(i);
            String p = "networks[" + i + "]";
            if (n.name() == null) {
                netsKnown = false;
            } else if (name(p + ".name", n.name(), "network name")) {
                if (unique(netPaths, n.name(), p, "network")) {
                    if (topoOk) deployed(p + ".name", "network", s.networkName(n.name()), "<topology>-<network>", "the topology or network name");
                }
            }
            if (n.subnet() != null) {
                try {
                    Cidr c = Ipv4.parseCidr(n.subnet());
                    String overlap = null;
                    for (var e : cidrs.entrySet()) {
                        if (e.getValue().overlaps(c)) {
                            overlap = e.getValue() + " of network '" + e.getKey() + "' (" + cidrPaths.get(e.getKey()) + ")";
                            break;
                        }
                    }
                    if (overlap != null) {
                        problem(p + ".subnet", c + " overlaps " + overlap, "a subnet that shares no address with the other networks of the topology");
                    } else if (n.name() != null && !cidrs.containsKey(n.name())) {
                        cidrs.put(n.name(), c);
                        cidrPaths.put(n.name(), p);
                    }
                } catch (BadCidr e) {
                    problem(p + ".subnet", e.getMessage(), Ipv4.SUBNET_FORM);
                }
            }
            if (n.vlan() != null && (n.vlan() < Rules.MIN_VLAN || n.vlan() > Rules.MAX_VLAN)) {
                problem(p + ".vlan", n.vlan() + " is out of range", Rules.VLAN);
            }
        }
        String declaredNets = netPaths.isEmpty() ? "no network is declared; declare it under 'networks'"
                : "names of declared networks: " + String.join(", ", netPaths.keySet());

        // ---- routers
        Map<String, String> routerPaths = new HashMap<>();
        Map<String, String> routerOfNet = new HashMap<>(); // network → "router 'r' (routers[0])"
        for (int i = 0; i < s.routers().size(); i++) {
            TopologySpec.Router r = s.routers().get(i);
            String p = "routers[" + i + "]";
            if (r.name() != null && name(p + ".name", r.name(), "router name")) {
                if (unique(routerPaths, r.name(), p, "router") && topoOk) {
                    deployed(p + ".name", "router", s.routerName(r.name()), "<topology>-<router>", "the topology or router name");
                }
            }
            if (r.networks().isEmpty() && present(p + ".networks")) {
                problem(p + ".networks", "a router joins at least one network", declaredNets);
            }
            List<Cidr> legs = new ArrayList<>();
            List<String> seen = new ArrayList<>();
            boolean legsKnown = true; // every network of the router is declared with a valid subnet
            for (int j = 0; j < r.networks().size(); j++) {
                String net = r.networks().get(j);
                String np = p + ".networks[" + j + "]";
                if (net == null || !cidrs.containsKey(net)) legsKnown = false;
                if (net == null) continue;
                if (!netPaths.containsKey(net)) {
                    if (netsKnown) problem(np, "unknown network '" + net + "'", declaredNets);
                    continue;
                }
                if (seen.contains(net)) {
                    problem(np, "network '" + net + "' is listed twice", "each network once");
                    continue;
                }
                seen.add(net);
                if (cidrs.containsKey(net)) legs.add(cidrs.get(net));
                String other = routerOfNet.putIfAbsent(net, "router '" + r.name() + "' (" + p + ")");
                if (other != null) {
                    problem(np, "network '" + net + "' already has " + other + " at its gateway",
                            "at most one router per network; join that router instead");
                }
            }
            for (int j = 0; j < r.routes().size(); j++) {
                TopologySpec.Route rt = r.routes().get(j);
                String rp = p + ".routes[" + j + "]";
                if (rt.to() != null) {
                    try {
                        Ipv4.parseCidr(rt.to());
                    } catch (BadCidr e) {
                        problem(rp + ".to", e.getMessage(), Rules.ROUTE_TO);
                    }
                }
                if (rt.via() != null && legsKnown) {
                    String onNets = legs.isEmpty() ? "an address on one of the router's networks"
                            : "an address in " + String.join(", ", legs.stream().map(Cidr::toString).toList())
                            + " other than the router's own (.1)";
                    Integer a = Ipv4.parse(rt.via().strip());
                    Cidr on = a == null ? null : legs.stream().filter(c -> c.contains(a)).findFirst().orElse(null);
                    if (a == null) problem(rp + ".via", "'" + rt.via() + "' is not an IPv4 address", onNets);
                    else if (on == null) problem(rp + ".via", rt.via() + " is not on a network of router '" + r.name() + "'", onNets);
                    else if (a == on.gateway()) problem(rp + ".via", rt.via() + " is the router's own address on " + on, onNets);
                    else if (a == on.network()) problem(rp + ".via", rt.via() + " is the network address of " + on, onNets);
                    else if (a == on.broadcast()) problem(rp + ".via", rt.via() + " is the broadcast address of " + on, onNets);
                }
            }
        }

        // ---- nodes and VMs
        Map<String, String> nodePaths = new HashMap<>();
        Map<String, String> deployedVms = new HashMap<>(); // deployed name → path
        Map<Integer, String> ipOwners = new HashMap<>();   // address → path of the NIC
        if (s.nodes().isEmpty() && present("nodes")) problem("nodes", "a topology has at least one node", "a list of nodes: {name, vms}");
        for (int i = 0; i < s.nodes().size(); i++) {
            TopologySpec.Node node = s.nodes().get(i);
            String p = "nodes[" + i + "]";
            boolean nodeOk = node.name() != null && name(p + ".name", node.name(), "node name");
            if (nodeOk) unique(nodePaths, node.name(), p, "node");
            if (node.vms().isEmpty() && present(p + ".vms")) {
                problem(p + ".vms", "a node has at least one VM", Rules.allowed(Rules.Shape.NODE, "vms"));
            }
            resources(node, p);
            Map<String, String> vmPaths = new LinkedHashMap<>();
            boolean vmsKnown = true;
            for (int j = 0; j < node.vms().size(); j++) {
                TopologySpec.Vm v = node.vms().get(j);
                String vp = p + ".vms[" + j + "]";
                if (v.name() == null) vmsKnown = false;
                else if (name(vp + ".name", v.name(), "VM name") && unique(vmPaths, v.name(), vp, "VM") && topoOk && nodeOk) {
                    String d = s.vmName(node.name(), v.name());
                    if (deployed(vp + ".name", "VM", d, "<topology>-<node>-<vm>", "the topology, node or VM name")) {
                        String other = deployedVms.putIfAbsent(d, vp);
                        if (other != null) {
                            problem(vp + ".name", "the deployed VM name '" + d + "' is also that of " + other,
                                    "node and VM names whose <topology>-<node>-<vm> differ");
                        }
                    }
                }
                vm(v, vp, netPaths, netsKnown, cidrs, declaredNets, ipOwners);
            }
            // startBefore: references, then cycles
            for (int j = 0; j < node.vms().size(); j++) {
                TopologySpec.Vm v = node.vms().get(j);
                String vp = p + ".vms[" + j + "]";
                List<String> seen = new ArrayList<>();
                for (int k = 0; k < v.startBefore().size(); k++) {
                    String t = v.startBefore().get(k);
                    String tp = vp + ".startBefore[" + k + "]";
                    if (t == null) continue;
                    String others = vmPaths.keySet().stream().filter(x -> !x.equals(v.name())).toList().toString()
                            .replaceAll("^\\[|]$", "");
                    String allowed = others.isEmpty() ? "names of the other VMs of node '" + node.name() + "' (there are none)"
                            : "names of the other VMs of node '" + node.name() + "': " + others;
                    if (t.equals(v.name())) problem(tp, "'" + t + "' is the VM itself", allowed);
                    else if (!vmPaths.containsKey(t)) {
                        if (vmsKnown) problem(tp, "unknown VM '" + t + "' in node '" + node.name() + "'", allowed);
                    } else if (seen.contains(t)) problem(tp, "'" + t + "' is listed twice", "each VM once");
                    seen.add(t);
                }
            }
            for (List<String> cycle : StartOrder.findCycles(StartOrder.graph(node))) {
                String first = cycle.getFirst();
                problem(vmPaths.get(first) + ".startBefore", "startBefore forms a cycle: " + String.join(" → ", cycle),
                        "startBefore entries without a cycle; remove one of them");
            }
        }
    }

    private void vm(TopologySpec.Vm v, String vp, Map<String, String> netPaths, boolean netsKnown, Map<String, Cidr> cidrs,
                    String declaredNets, Map<Integer, String> ipOwners) {
        if (v.role() != null && !NAME.matcher(v.role()).matches()) {
            problem(vp + ".role", "'" + v.role() + "' is not a valid role", Rules.NAME);
        }
        if (v.image() != null && v.image().isBlank()) {
            problem(vp + ".image", "the image name is empty", images == null ? Rules.IMAGE : imagesAllowed());
        } else if (v.image() != null && images != null && !images.contains(v.image())) {
            problem(vp + ".image", "unknown image '" + v.image() + "'", imagesAllowed());
        }
        if (v.cpus() != null && (v.cpus() < VmSpec.MIN_CPUS || v.cpus() > VmSpec.MAX_CPUS)) {
            problem(vp + ".cpus", v.cpus() + " is out of range", Rules.CPUS);
        }
        if (v.memory() != null) {
            long mib = Sizes.parseMiB(v.memory());
            if (mib < 0) problem(vp + ".memory", "'" + v.memory() + "' is not a size", Rules.MEMORY);
            else if (mib < VmSpec.MIN_MEMORY_MIB || mib > VmSpec.MAX_MEMORY_MIB) {
                problem(vp + ".memory", v.memory() + " (" + mib + " MiB) is out of range", Rules.MEMORY);
            }
        }
        if (v.disk() != null) {
            long mib = Sizes.parseMiB(v.disk());
            if (mib < 0) problem(vp + ".disk", "'" + v.disk() + "' is not a size", Rules.DISK);
            else if (mib < 64 || mib > 1024 * 1024) problem(vp + ".disk", v.disk() + " (" + mib + " MiB) is out of range", Rules.DISK);
            else if ("tiny".equals(v.image())) problem(vp + ".disk", "image tiny has no root disk to size", Rules.DISK);
        }
        if (v.cpuLimit() != null && !cores(v.cpuLimit())) {
            problem(vp + ".cpuLimit", v.cpuLimit() + " is out of range", Rules.CPU_LIMIT);
        }
        if (v.accel() != null && !ACCELS.contains(v.accel())) {
            problem(vp + ".accel", "'" + v.accel() + "' is not an accelerator", Rules.ACCEL);
        }
        for (int k = 0; k < v.artifacts().size(); k++) {
            dev.vmctl.model.ArtifactSpec a = v.artifacts().get(k);
            String ap = vp + ".artifacts[" + k + "]";
            if (a == null) continue;
            for (dev.vmctl.model.ArtifactSpec.Problem pr : a.problems(true)) {
                // a missing dest was reported by the reader already (a required field)
                if (pr.field().equals("dest") && a.dest() == null) continue;
                problem(ap + "." + pr.field(), pr.message(), pr.allowed()); // located at the field, else at the artifact
            }
        }
        if (v.run().isEmpty() && locations.containsKey(vp + ".run") && present(vp + ".run")) problem(vp + ".run", "an empty command", Rules.RUN);
        for (int k = 0; k < v.run().size(); k++) {
            String w = v.run().get(k);
            if (w != null && k == 0 && w.isBlank()) problem(vp + ".run[0]", "the program is empty", Rules.RUN);
        }
        if (v.nics().size() > Rules.MAX_NICS) {
            problem(vp + ".nics", v.nics().size() + " NICs are too many", "at most " + Rules.MAX_NICS + " NICs per VM");
        }
        for (int k = 0; k < v.nics().size(); k++) {
            TopologySpec.Nic nic = v.nics().get(k);
            String np = vp + ".nics[" + k + "]";
            String netPath = locations.containsKey(np + ".network") ? np + ".network" : np;
            if (nic.rate() != null) rate(nic.rate(), np + ".rate");
            if (nic.network() == null) continue;
            if (!netPaths.containsKey(nic.network())) {
                if (netsKnown) problem(netPath, "unknown network '" + nic.network() + "'", declaredNets);
                continue;
            }
            if (nic.ip() == null) continue;
            Cidr c = cidrs.get(nic.network());
            Integer a = Ipv4.parse(nic.ip().strip());
            String ipPath = np + ".ip";
            String range = c == null ? "an IPv4 address in the network's subnet" : c.range();
            if (a == null) {
                problem(ipPath, "'" + nic.ip() + "' is not an IPv4 address", range);
                continue;
            }
            if (c == null) continue; // the subnet is wrong, reported there
            String on = " of network '" + nic.network() + "'";
            if (!c.contains(a)) problem(ipPath, nic.ip() + " is outside the subnet " + c + on, range);
            else if (a == c.network()) problem(ipPath, nic.ip() + " is the network address of " + c + on, range);
            else if (a == c.broadcast()) problem(ipPath, nic.ip() + " is the broadcast address of " + c + on, range);
            else if (a == c.gateway()) problem(ipPath, nic.ip() + " is the gateway address of " + c + on + " (a router's port)", range);
            else {
                String other = ipOwners.putIfAbsent(a, np);
                if (other != null) problem(ipPath, nic.ip() + " is already the address of " + other, "an address no other NIC has");
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private String imagesAllowed() {
        return images.isEmpty() ? "no image is built yet; run 'vmctl image build tiny'"
                : "images of the catalog: " + String.join(", ", images.stream().sorted().toList());
    }

    /** Checks a name against Names.PATTERN; true when it is valid. */
    private boolean name(String path, String name, String what) {
        if (name == null) return false; // a missing name is reported (once) as a missing required field
        if (NAME.matcher(name).matches()) return true;
        problem(path, "'" + name + "' is not a valid " + what, Rules.NAME);
        return false;
    }

    /** Records name → path; false (and a problem) when the name was taken in the same list. */
    private boolean unique(Map<String, String> paths, String name, String path, String what) {
        String other = paths.putIfAbsent(name, path);
        if (other == null) return true;
        problem(path + ".name", "duplicate " + what + " name '" + name + "' (also " + other + ")", "a name used once per list");
        return false;
    }

    /** A deployed name must fit Names.PATTERN too, i.e. be at most 63 characters. */
    private boolean deployed(String path, String what, String deployedName, String form, String parts) {
        if (deployedName.length() <= Rules.MAX_NAME && NAME.matcher(deployedName).matches()) return true;
        int over = deployedName.length() - Rules.MAX_NAME;
        problem(path, "the deployed " + what + " name '" + deployedName + "' (" + form + ") is " + deployedName.length()
                + " characters long", "at most " + Rules.MAX_NAME + " characters; shorten " + parts + " by " + over);
        return false;
    }

    /**
     * Whether a field is in the file and was read (always true for a spec built in code, which has no
     * locations); false when a problem was reported for it already (e.g. not a list).
     */
    private boolean present(String path) {
        if (problems.stream().anyMatch(p -> p.path().equals(path))) return false;
        return locations.isEmpty() || locations.containsKey(path);
    }

    private void problem(String path, String message, String allowed) {
        Loc l = at(path);
        problems.add(new Problem(file, l.line(), l.column(), path, message, allowed));
    }

    /** The location of a path, else of the nearest enclosing one that has one. */
    private Loc at(String path) {
        String p = path;
        while (true) {
            Loc l = locations.get(p);
            if (l != null) return l;
            if (p.isEmpty()) return Loc.NONE;
            int cut = p.endsWith("]") ? p.lastIndexOf('[') : p.lastIndexOf('.');
            p = cut < 0 ? "" : p.substring(0, cut);
        }
    }


    private static boolean cores(double c) {
        return c >= 0.01 && c <= 64 && !Double.isNaN(c);
    }

    /** A node's resources: cpu in cores; memory a size that holds its VMs (their RAM plus 64 MiB each for QEMU). */
    private void resources(TopologySpec.Node node, String p) {
        TopologySpec.Resources r = node.resources();
        if (r == null) return;
        if (r.cpu() != null && !cores(r.cpu())) problem(p + ".resources.cpu", r.cpu() + " is out of range", Rules.CPU_LIMIT);
        if (r.egress() != null) rate(r.egress(), p + ".resources.egress");
        if (r.memory() == null) return;
        long mib = Sizes.parseMiB(r.memory());
        if (mib < 0) {
            problem(p + ".resources.memory", "'" + r.memory() + "' is not a size", Rules.NODE_MEMORY);
        } else if (mib < 64 || mib > 1 << 20) {
            problem(p + ".resources.memory", r.memory() + " (" + mib + " MiB) is out of range", Rules.NODE_MEMORY);
        } else {
            long need = 0;
            for (TopologySpec.Vm v : node.vms()) if (v.memoryMiB() > 0) need += v.memoryMiB() + 64;
            if (need > mib) {
                problem(p + ".resources.memory", "node '" + node.name() + "' has " + node.vms().size() + " VM(s) that need " + need
                        + " MiB (their memory plus 64 MiB each for QEMU), more than " + r.memory(),
                        "at least " + need + "M, or fewer or smaller VMs");
            }
        }
    }

    /** A rate (NIC rate, node egress): tc units, 8 kbit/s to 10 Gbit/s (the range of impairment rates). */
    private void rate(String value, String path) {
        try {
            dev.vmctl.model.Impairment.parseRateKbit(path, value);
        } catch (dev.vmctl.model.VmctlException e) {
            String m = String.valueOf(e.getMessage());
            String prefix = "invalid " + path + ": ";
            problem(path, m.startsWith(prefix) ? m.substring(prefix.length()) : m, Rules.RATE);
        }
    }
}
