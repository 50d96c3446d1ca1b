package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.Impairment;
import dev.vmctl.model.NicView;
import dev.vmctl.model.VmOperation;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmctlException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QemuVm;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * NICs and links of VMs: add (PCIe hot-plug on a running VM), change (link down/up, move to another
 * network, impair) and remove. Each is an operation on the VM's lane, so it never overlaps a boot, a stop
 * or another NIC change of the same VM; the caller gets the result when it has been applied.
 */
public final class NicService {
    /** A NIC change waits for the VM's earlier operations (a boot) and, for an unplug, for the guest (~6 s). */
    private static final Duration NIC_TIMEOUT = Duration.ofMinutes(10);

    private final VmCore core;

    NicService(VmCore core) {
        this.core = core;
    }

    public record NicPatch(String link, String network, String ip, boolean impairGiven, Map<String, String> impair) {}

    /** PATCH /vms/{id}/nics/{nic}: link up/down, move to another network, impair or clear. Idempotent. */
    public Accepted<NicView> patch(String key, String nicName, NicPatch p) {
        VmRow r0 = core.row(key);
        String id = r0.id();
        if (p.link() == null && p.network() == null && !p.impairGiven()) {
            throw VmctlException.invalid("body", "nothing to change", "one or more of link (up|down), network (+ ip), impair ({...} or null)");
        }
        Boolean up = null;
        if (p.link() != null) {
            up = switch (p.link()) {
                case "up" -> true;
                case "down" -> false;
                default -> throw VmctlException.invalid("link", "'" + p.link() + "' is not a link state", "up, down");
            };
        }
        if (p.ip() != null && p.network() == null) {
            throw VmctlException.invalid("ip", "an address is given without a network", "give network too (the NIC's own network to change only the address)");
        }
        Impairment parsed = p.impairGiven() && p.impair() != null ? Impairment.parse(p.impair()) : null;
        core.net.nic(id, r0.name(), nicName); // 404 before any operation
        Boolean linkUp = up;
        return core.ops.run(new Operations.Spec("nic.patch", VmCore.lane(id),
                List.of(VmCore.lane(id), "nic:" + id + "/" + nicName), false), NIC_TIMEOUT, o -> {
            VmRow r = core.row(id);
            VmOperation.NIC_CHANGE.check(r.name(), r.state());
            NetRows.NicRow nic = core.net.nic(id, r.name(), nicName);
            Impairment imp = p.impairGiven() ? parsed : nic.impair();
            NetRows.NicRow next = nic;
            if (p.network() != null) next = core.net.planMove(nic, p.network(), p.ip(), core.runtimes.containsKey(id));
            if (linkUp != null) next = next.withLink(linkUp);
            next = next.withImpair(imp);
            boolean live = r.state() == VmState.RUNNING;
            VmRuntime rt = core.runtimes.get(id);
            if (live && (rt == null || rt.qmp() == null || rt.agent() == null)) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "change nic " + nicName + " of vm " + r.name()
                        + ": no control connection", null);
            }
            core.store.upsertNic(next);
            if (live) {
                try {
                    if (!next.networkId().equals(nic.networkId())) {
                        core.net.prepareTap(next);
                        core.net.configureGuest(id, rt.agent());
                    }
                    if (next.linkUp() != nic.linkUp() || linkUp != null) {
                        core.setLink(rt, next, next.linkUp());
                        core.net.hostForNic(next).setTapUp(NetService.tap(id, next.index()), next.linkUp());
                    }
                    if (p.impairGiven()) {
                        core.net.applyHostShaping(next);
                        core.net.applyGuestNetem(next, rt.agent());
                    }
                } catch (RuntimeException e) {
                    core.store.upsertNic(nic);
                    throw e;
                }
            }
            core.events.publishData(dev.vmctl.model.EventType.VM_NIC, id, r.name(), null, r.state(), nicName + ": " + describe(p), core.view(id));
            return core.net.nicView(next);
        });
    }

    private static String describe(NicPatch p) {
        List<String> parts = new ArrayList<>();
        if (p.link() != null) parts.add("link " + p.link());
        if (p.network() != null) parts.add("network " + p.network() + (p.ip() == null ? "" : " ip " + p.ip()));
        if (p.impairGiven()) parts.add(p.impair() == null ? "impairment cleared" : "impair " + p.impair());
        return String.join(", ", parts);
    }

    /** Adds a NIC; on a running VM it is hot-plugged (PCIe) and configured before this returns. */
    public Accepted<NicView> add(String key, String network, String ip) {
        return add(key, network, ip, null);
    }

    /** Adds a NIC with a default rate ({@code rate} "10mbit", null: none) both ways. */
    public Accepted<NicView> add(String key, String network, String ip, String rate) {
        VmRow r0 = core.row(key);
        String id = r0.id();
        return core.ops.run(Operations.Spec.of("nic.add", VmCore.lane(id)), NIC_TIMEOUT, o -> {
            VmRow r = core.row(id);
            VmOperation.NIC_ADD.check(r.name(), r.state());
            NetRows.NicRow nic = core.net.planAdditional(id, new NetService.NicRequest(network, ip, rate), core.runtimes.containsKey(id));
            core.store.upsertNic(nic);
            if (r.state() == VmState.RUNNING) {
                VmRuntime rt = core.runtimes.get(id);
                try {
                    if (rt == null || rt.qmp() == null) throw new IllegalStateException("no qemu control connection");
                    hotAdd(rt, nic);
                } catch (RuntimeException e) {
                    core.store.deleteNic(id, nic.index());
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "add nic to vm " + r.name() + ": " + e.getMessage(), null, e);
                }
            }
            core.events.publishData(dev.vmctl.model.EventType.VM_NIC, id, r.name(), null, r.state(), nic.name() + " added on " + network, core.view(id));
            return core.net.nicView(nic);
        });
    }

    private void hotAdd(VmRuntime rt, NetRows.NicRow nic) {
        QemuCommand.Nic dev = new QemuCommand.Nic(nic.index(), NetService.tap(nic.vmId(), nic.index()), nic.mac());
        core.net.prepareTap(nic);
        boolean netdevAdded = false;
        try {
            rt.vm.netdevAdd(QemuVm.tapNetdev(dev));
            netdevAdded = true;
            rt.vm.deviceAdd(Map.of("driver", "virtio-net-pci", "netdev", dev.netdevId(), "bus", dev.rootPort(), "id", dev.deviceId(),
                    "mac", nic.mac()));
            // the guest sees the card ~0.2 s later; configure once it is there
            Instant deadline = Instant.now().plusSeconds(15);
            while (true) {
                try {
                    core.net.configureGuest(nic.vmId(), rt.agent());
                    break;
                } catch (VmctlException e) {
                    if (Instant.now().isAfter(deadline)) throw e;
                    VmCore.sleep(100);
                }
            }
            if (!nic.linkUp()) core.setLink(rt, nic, false);
        } catch (RuntimeException e) {
            if (netdevAdded) {
                try { rt.vm.deviceDel(dev.deviceId()); } catch (RuntimeException ignored) { /* not added */ }
                try { rt.vm.netdevDel(dev.netdevId()); } catch (RuntimeException ignored) { /* still in use */ }
            }
            core.net.deleteTap(nic);
            throw e;
        }
    }

    /** Removes a NIC; on a running VM it is unplugged (PCIe: the guest takes ~6 s to release it). */
    public Accepted<NicView> remove(String key, String nicName) {
        VmRow r0 = core.row(key);
        String id = r0.id();
        core.net.nic(id, r0.name(), nicName); // 404 before any operation
        return core.ops.run(new Operations.Spec("nic.remove", VmCore.lane(id),
                List.of(VmCore.lane(id), "nic:" + id + "/" + nicName), false), NIC_TIMEOUT, o -> {
            VmRow r = core.row(id);
            VmOperation.NIC_CHANGE.check(r.name(), r.state());
            NetRows.NicRow nic = core.net.nic(id, r.name(), nicName);
            NicView v = core.net.nicView(nic);
            if (r.state() == VmState.RUNNING) {
                VmRuntime rt = core.runtimes.get(id);
                if (rt == null || rt.qmp() == null) {
                    throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "remove nic " + nicName + " of vm " + r.name()
                            + ": no control connection", null);
                }
                var deleted = rt.vm.awaitEvent(e -> "DEVICE_DELETED".equals(e.path("event").asText())
                        && ("nic" + nic.index()).equals(e.path("data").path("device").asText()));
                rt.vm.deviceDel("nic" + nic.index());
                o.progress("waiting for the guest to release " + nicName + " (PCIe hot-unplug, ~6 s)");
                try {
                    deleted.get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "remove nic " + nicName + " of vm " + r.name()
                            + ": the guest did not release the device within 30 s", null);
                }
                rt.vm.netdevDel("net" + nic.index());
            }
            core.net.deleteTap(nic);
            core.store.deleteNic(id, nic.index());
            core.events.publishData(dev.vmctl.model.EventType.VM_NIC, id, r.name(), null, r.state(), nicName + " removed", core.view(id));
            return v;
        });
    }
}
