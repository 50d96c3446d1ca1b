package dev.vmctl.engine;

import dev.vmctl.host.Cgroups;
import dev.vmctl.model.VmctlException;
import dev.vmctl.topology.TopologySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-node {@code resources: {cpu, memory}} and per-VM {@code cpuLimit} of topology files, applied to the VMs' QEMU
 * processes through cgroups ({@link Cgroups}: v2 with the controllers, else v1; all below the server's own cgroup in a
 * folder named like the fabric namespace, {@code vmctl-HASH}). A VM of a node with resources goes to
 * {@code node-TOPO-NODE/vm-ID} (the node's limits count all its VMs together), another VM with a cpuLimit to
 * {@code vm-ID}; a VM with no limit stays where the server started it. The limits are read from the applied
 * topology spec (stored with the topology), so they follow {@code vmctl up -f} without a table of their own: an apply
 * re-writes them on the live groups ({@link #refresh}). Groups go with their VM's QEMU ({@link #release}) and are
 * reconciled at start-up (groups of VMs whose QEMU is gone are removed).
 */
public final class ResourceLimits {
    private static final Logger log = LoggerFactory.getLogger(ResourceLimits.class);

    private final Cgroups cgroups;
    private final Store store;
    private final Map<String, TopologySpec> parsed = new ConcurrentHashMap<>(); // spec text → spec

    ResourceLimits(Cgroups cgroups, Store store) {
        this.cgroups = cgroups;
        this.store = store;
    }

    public Cgroups.Layout layout() { return cgroups.layout(); }

    /** What applies to one VM: its group, the node's limits (when the node has resources) and its own cpuLimit. */
    public record Limits(String node, Double nodeCpu, Long nodeMemoryBytes, Double vmCpu) {
        boolean any() { return nodeCpu != null || nodeMemoryBytes != null || vmCpu != null; }
        boolean nodeScoped() { return nodeCpu != null || nodeMemoryBytes != null; }
    }

    /** The limits the applied topology gives the VM (none for a VM outside a topology). */
    /** The node egress group of a VM (its node's {@code resources.egress}), or null. */
    NetService.EgressPolicy.Group egressGroupOf(String vmId) {
        Store.Label l = store.labelOf("vm", vmId).orElse(null);
        if (l == null || l.topology() == null || l.node() == null) return null;
        TopologySpec.Node node = nodeOf(l);
        if (node == null || node.resources() == null || node.resources().egress() == null) return null;
        long kbit;
        try {
            kbit = dev.vmctl.model.Impairment.parseRateKbit("resources.egress", node.resources().egress());
        } catch (VmctlException e) {
            return null; // a validated spec has a rate here
        }
        List<String> ids = store.labels(l.topology()).stream()
                .filter(x -> "vm".equals(x.kind()) && l.node().equals(x.node())).map(Store.Label::id).sorted().toList();
        return new NetService.EgressPolicy.Group(l.topology() + "/" + l.node(), kbit, ids);
    }

    private TopologySpec.Node nodeOf(Store.Label l) {
        Store.TopologyRow row = store.topologies().stream().filter(t -> t.name().equals(l.topology())).findFirst().orElse(null);
        if (row == null) return null;
        try {
            TopologySpec spec = parsed.computeIfAbsent(row.spec(), text -> dev.vmctl.topology.TopologyParser.parse(text, l.topology()));
            return spec.nodes().stream().filter(n -> n.name().equals(l.node())).findFirst().orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** null, or cores in 0.01..64 (a 400 naming {@code field} otherwise). */
    static Double validateCpuLimit(String field, Double cores) {
        if (cores == null) return null;
        if (cores.isNaN() || cores < 0.01 || cores > 64) {
            throw VmctlException.invalid(field, cores + " is out of range", "cores, a number from 0.01 to 64 (a fraction allowed), e.g. 0.5");
        }
        return cores;
    }

    /** A limit asked for on a host without the cgroup controllers: refused before anything is created. */
    void requireCgroups(String what) {
        if (!cgroups.available()) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, what + ": resource limits need cgroups with the cpu and memory "
                    + "controllers: " + cgroups.layout().detail(), "create it without a cpuLimit, or run on a host with cgroups");
        }
    }

    public Limits of(String vmId) {
        Store.Label l = store.labelOf("vm", vmId).orElse(null);
        if (l == null || l.topology() == null || l.node() == null) {
            Double own = store.cpuLimit(vmId); // vm create --cpu-limit
            return new Limits(null, null, null, own);
        }
        Store.TopologyRow row = store.topologies().stream().filter(t -> t.name().equals(l.topology())).findFirst().orElse(null);
        if (row == null) return new Limits(null, null, null, null);
        TopologySpec spec;
        try {
            spec = parsed.computeIfAbsent(row.spec(), text -> dev.vmctl.topology.TopologyParser.parse(text, l.topology()));
        } catch (RuntimeException e) {
            return new Limits(null, null, null, null);
        }
        TopologySpec.Node node = spec.nodes().stream().filter(n -> n.name().equals(l.node())).findFirst().orElse(null);
        if (node == null) return new Limits(null, null, null, null); // a node made by vmctl node clone: no limits of its own
        TopologySpec.Vm vm = l.localName() == null ? null : node.vm(l.localName());
        TopologySpec.Resources r = node.resources();
        Long mem = r == null || r.memoryMiB() == null ? null : r.memoryMiB() << 20;
        return new Limits(l.topology() + "-" + l.node(), r == null ? null : r.cpu(), mem, vm == null ? null : vm.cpuLimit());
    }

    static String vmGroup(String vmId) { return "vm-" + vmId; }

    static String nodeGroup(String node) { return "node-" + node; }

    private static String groupOf(String vmId, Limits l) {
        return l.nodeScoped() ? nodeGroup(l.node()) + "/" + vmGroup(vmId) : vmGroup(vmId);
    }

    /** Puts a freshly started QEMU into its group with its limits; a VM without limits is left alone. */
    void apply(String vmId, long pid) {
        Limits l = of(vmId);
        if (!l.any()) return;
        if (!cgroups.available()) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "vm " + vmId + ": resource limits need cgroups with the cpu and memory "
                    + "controllers: " + cgroups.layout().detail(), "remove resources/cpuLimit from the topology file, or run on a host with cgroups");
        }
        String group = groupOf(vmId, l);
        cgroups.create(group);
        if (l.nodeScoped()) write(nodeGroup(l.node()), l.nodeCpu(), l.nodeMemoryBytes());
        cgroups.setCpu(group, l.vmCpu());
        cgroups.attach(group, pid);
        log.info("vm {}: qemu {} in cgroup {} ({}{}{})", vmId, pid, group, l.nodeCpu() == null ? "" : "node cpu " + l.nodeCpu() + " ",
                l.nodeMemoryBytes() == null ? "" : "node memory " + (l.nodeMemoryBytes() >> 20) + "M ", l.vmCpu() == null ? "" : "vm cpu " + l.vmCpu());
    }

    private void write(String group, Double cpu, Long memory) {
        cgroups.setCpu(group, cpu);
        cgroups.setMemory(group, memory);
    }

    /** After the VM's QEMU is gone: its group goes, and its node's group when no VM is left in it. */
    void release(String vmId) {
        if (!cgroups.available()) return;
        // the kernel refuses (EBUSY) while the exited QEMU is not reaped yet: try again for a moment
        for (int i = 0; i < 30; i++) {
            try {
                releaseOnce(vmId);
                return;
            } catch (RuntimeException e) {
                if (i == 29) log.warn("vm {}: remove its cgroup: {}", vmId, e.getMessage());
                else VmCore.sleep(100);
            }
        }
    }

    private void releaseOnce(String vmId) {
        cgroups.remove(vmGroup(vmId)); // absent is fine (in either hierarchy)
        for (String n : cgroups.children("")) {
            if (!n.startsWith("node-")) continue;
            cgroups.remove(n + "/" + vmGroup(vmId));
            if (cgroups.children(n).isEmpty()) cgroups.remove(n);
        }
        removeFolderIfEmpty();
    }

    /** Re-writes the limits of the live VMs' groups from the applied specs (after {@code vmctl up -f}). */
    void refresh(Set<String> liveVmIds) {
        if (!cgroups.available()) return;
        for (String id : liveVmIds) {
            Limits l = of(id);
            String group = groupOf(id, l);
            if (!cgroups.exists(group)) continue; // a VM that got limits only now has them from its next start
            try {
                if (l.nodeScoped()) write(nodeGroup(l.node()), l.nodeCpu(), l.nodeMemoryBytes());
                cgroups.setCpu(group, l.vmCpu());
            } catch (RuntimeException e) {
                log.warn("vm {}: refresh cgroup limits: {}", id, e.getMessage());
            }
        }
    }

    /** At start-up: groups of VMs whose QEMU is not running any more, and empty node groups, are removed. */
    void reconcile(Set<String> liveVmIds) {
        if (!cgroups.available()) return;
        List<String> removed = new ArrayList<>();
        for (String g : cgroups.children("")) {
            List<String> vms = g.startsWith("node-") ? cgroups.children(g) : List.of(g);
            for (String v : vms) {
                String id = v.substring(v.lastIndexOf('/') + 1).replaceFirst("^vm-", "");
                if (liveVmIds.contains(id) && !cgroups.pids(v).isEmpty()) continue;
                try {
                    cgroups.remove(v);
                    removed.add(v);
                } catch (RuntimeException e) {
                    log.warn("cgroup {}: {}", v, e.getMessage());
                }
            }
            if (g.startsWith("node-") && cgroups.children(g).isEmpty()) {
                cgroups.remove(g);
                removed.add(g);
            }
        }
        removeFolderIfEmpty();
        if (!removed.isEmpty()) log.info("removed stale cgroups: {}", removed);
    }

    /** vmctl's own folder goes with its last group. */
    private void removeFolderIfEmpty() {
        if (cgroups.children("").isEmpty()) {
            cgroups.remove("");
        }
    }
}
