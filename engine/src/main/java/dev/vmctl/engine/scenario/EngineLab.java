package dev.vmctl.engine.scenario;

import dev.vmctl.engine.Engine;
import dev.vmctl.engine.NicService;
import dev.vmctl.engine.Store;
import dev.vmctl.engine.TopologyService;
import dev.vmctl.engine.op.Accepted;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.Impairment;
import dev.vmctl.model.NicView;
import dev.vmctl.model.Operation;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.Lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The scenario runner's {@link Lab} on the engine: every action is the engine's operation, awaited. */
final class EngineLab implements Lab {
    static final Duration OP_TIMEOUT = Duration.ofMinutes(3);

    private final Engine engine;
    private final TopologyService topologies;
    private final Store store;

    EngineLab(Engine engine, TopologyService topologies) {
        this.engine = engine;
        this.topologies = topologies;
        this.store = engine.store();
    }

    @Override public boolean topologyDeployed(String topology) {
        return store.topologies().stream().anyMatch(t -> t.name().equals(topology));
    }

    @Override public List<LabVm> vms(String topology) {
        List<LabVm> out = new ArrayList<>();
        for (Store.Label l : store.labels(topology)) {
            if (!l.kind().equals("vm")) continue;
            VmView v;
            try {
                v = engine.vms().get(l.id());
            } catch (VmctlException gone) {
                continue;
            }
            List<LabNic> nics = v.nics().stream().map(n -> new LabNic(n.name(), n.network(), n.ip())).toList();
            out.add(new LabVm(v.id(), v.name(), l.node() + "/" + l.localName(), l.node(), v.state() == VmState.RUNNING, nics));
        }
        return out;
    }

    @Override public List<String> nodes(String topology) {
        return store.nodeNames(topology);
    }

    @Override public List<String> nodeSnapshots(String topology, String node) {
        return store.nodeSnapshotNames(topology, node);
    }

    @Override public ExecResult exec(String vmId, List<String> argv, Duration timeout) {
        return engine.vms().exec(vmId, argv, null, timeout);
    }

    @Override public String setLink(String vmId, String nic, boolean up) {
        return done(engine.nics().patch(vmId, nic, new NicService.NicPatch(up ? "up" : "down", null, null, false, null)));
    }

    @Override public String impair(String vmId, String nic, Map<String, String> impair) {
        // the NIC API impairs what the guest sends (netem on the guest's eth0 or on the host's ifb for the
        // tap's ingress) and has no direction field: egress is that; ingress and both are not there yet
        if (impair != null && impair.containsKey("direction")) {
            String direction = impair.get("direction");
            if (!"egress".equals(direction)) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "link.impair direction " + direction + " is not supported yet",
                        "direction: egress (what the VM sends)");
            }
            impair = new LinkedHashMap<>(impair);
            impair.remove("direction");
        }
        return done(engine.nics().patch(vmId, nic, new NicService.NicPatch(null, null, null, true, impair)));
    }

    @Override public Map<String, String> impairment(String vmId, String nic) {
        return nicView(vmId, nic).impair() == null ? null : toMap(nicView(vmId, nic).impair());
    }

    @Override public boolean linkUp(String vmId, String nic) {
        return "up".equals(nicView(vmId, nic).link());
    }

    private NicView nicView(String vmId, String nic) {
        return engine.vms().get(vmId).nics().stream().filter(n -> n.name().equals(nic)).findFirst()
                .orElseThrow(() -> VmctlException.notFound("nic", vmId + "/" + nic));
    }

    /** The API's impair object of an impairment (what {@code Impairment.parse} reads back). */
    static Map<String, String> toMap(Impairment i) {
        Map<String, String> m = new LinkedHashMap<>();
        if (i.delayMs() > 0) m.put("delay", i.delayMs() + "ms");
        if (i.jitterMs() > 0) m.put("jitter", i.jitterMs() + "ms");
        if (i.lossPercent() > 0) m.put("loss", i.lossPercent() + "%");
        if (i.rateKbit() > 0) m.put("rate", i.rateKbit() + "kbit");
        if (i.corruptPercent() > 0) m.put("corrupt", i.corruptPercent() + "%");
        if (i.duplicatePercent() > 0) m.put("duplicate", i.duplicatePercent() + "%");
        return m;
    }

    @Override public String partition(String id, List<String> a, List<String> b) {
        return done(engine.networks().partition(id, a, b));
    }

    @Override public String unpartition(String id) {
        return done(engine.networks().unpartition(id));
    }

    @Override public String reboot(String vmId) {
        return vmDone(engine.vms().reboot(vmId), vmId, VmState.RUNNING);
    }

    @Override public String stop(String vmId) {
        return vmDone(engine.vms().stop(vmId), vmId, VmState.STOPPED);
    }

    @Override public String kill(String vmId) {
        return engine.vms().kill(vmId).op().id();
    }

    @Override public String start(String vmId) {
        VmState s = engine.vms().get(vmId).state();
        if (s == VmState.RUNNING) return null;
        return vmDone(engine.vms().start(vmId), vmId, VmState.RUNNING);
    }

    @Override public String stopNode(String topology, String node) {
        return done(topologies.stopNode(topology, node));
    }

    @Override public String startNode(String topology, String node) {
        return done(topologies.startNode(topology, node));
    }

    @Override public String restoreNode(String topology, String node, String snapshot) {
        return done(topologies.restoreNode(topology, node, snapshot));
    }

    @Override public String snapshotNode(String topology, String node, String snapshot) {
        return done(topologies.snapshotNode(topology, node, snapshot));
    }

    /** Waits for the operation and throws its error; answers its id. */
    private String done(Accepted<?> a) {
        Operation o = engine.ops().await(a.op().id(), OP_TIMEOUT);
        if (!"succeeded".equals(o.state())) {
            throw new VmctlException(VmctlException.Kind.CONFLICT, o.kind() + " " + o.state() + (o.error() == null ? "" : ": " + o.error()), null);
        }
        return o.id();
    }

    private String vmDone(Accepted<VmView> a, String vmId, VmState expected) {
        String id = done(a);
        VmState now = engine.vms().get(vmId).state();
        if (now != expected) throw new VmctlException(VmctlException.Kind.CONFLICT, a.op().kind() + ": vm is " + now + ", not " + expected, null);
        return id;
    }
}
