package dev.vmctl.engine;

import dev.vmctl.engine.NetRows.NetRow;
import dev.vmctl.engine.NetRows.NicRow;
import dev.vmctl.engine.NetRows.RouteRow;
import dev.vmctl.engine.NetRows.RouterRow;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.Impairment;
import dev.vmctl.model.Names;
import dev.vmctl.model.NetworkView;
import dev.vmctl.model.NicView;
import dev.vmctl.model.RouterView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.net.Ipam;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QemuCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Networks (segments), routers and the NICs of VMs: the data side (validation, IPAM, persistence) and
 * the host side through {@link HostNet}. Guest-side configuration goes through the guest agent with
 * one fixed script whose inputs are validated values passed as arguments (never a built shell string).
 */
public final class NetService {
    private static final Logger log = LoggerFactory.getLogger(NetService.class);
    public static final int MAX_NICS = QemuCommand.PCIE_ROOT_PORTS;

    private final Store store;
    private final EventBus events;
    private final HostNet host;

    public NetService(Store store, EventBus events, HostNet host) {
        this.store = store;
        this.events = events;
        this.host = host;
    }

    public HostNet host() { return host; }

    // ---------------------------------------------------------------- networks

    public synchronized NetworkView createNetwork(String name, String subnet, Integer vlan) {
        Names.check("name", name);
        Ipam c = Ipam.of(subnet);
        if (vlan != null && (vlan < 1 || vlan > 4094)) throw VmctlException.invalid("vlan", vlan + " is out of range", "1..4094");
        if (store.network(name).isPresent()) {
            throw VmctlException.conflict("create network " + name + ": the name is already in use", "choose another name");
        }
        for (NetRow n : store.networks()) {
            if (c.overlaps(n.subnet())) {
                throw VmctlException.conflict("create network " + name + ": subnet " + c.cidr() + " overlaps network " + n.name()
                        + " (" + n.subnet() + ")", "choose a subnet that does not overlap any existing network");
            }
        }
        String id = VmCore.newId();
        NetRow row = new NetRow(id, name, c.cidr(), c.gateway(), vlan, dev.vmctl.net.NetNames.bridge(id.substring(0, 8)), now());
        host.ensureFabric();
        host.ensureBridge(row.bridge(), vlan);
        try {
            store.insertNetwork(row);
        } catch (RuntimeException e) {
            host.deleteBridge(row.bridge());
            throw e;
        }
        events.publish(dev.vmctl.model.EventType.NETWORK_CREATED, null, name, null, null, c.cidr());
        return view(row);
    }

    public synchronized List<NetworkView> networks() {
        return store.networks().stream().map(this::view).toList();
    }

    public synchronized NetworkView network(String key) {
        return view(net(key));
    }

    NetRow net(String key) {
        return store.network(key).orElseThrow(() -> VmctlException.notFound("network", key));
    }

    public synchronized NetworkView deleteNetwork(String key) {
        NetRow n = net(key);
        List<String> users = new ArrayList<>();
        for (NicRow nic : store.nics()) {
            if (nic.networkId().equals(n.id())) {
                users.add("vm " + store.byIdOrName(nic.vmId()).map(VmRow::name).orElse(nic.vmId()) + " (" + nic.name() + ")");
            }
        }
        for (RouterRow r : store.routers()) {
            if (store.routerNetworks(r.id()).contains(n.id())) users.add("router " + r.name());
        }
        if (!users.isEmpty()) {
            throw VmctlException.conflict("remove network " + n.name() + ": it is in use by " + String.join(", ", users),
                    "remove those NICs (vmctl nic rm / vm rm) and routers first");
        }
        NetworkView v = view(n);
        host.deleteBridge(n.bridge());
        store.deleteNetwork(n.id());
        events.publish(dev.vmctl.model.EventType.NETWORK_DELETED, null, n.name(), null, null, n.subnet());
        return v;
    }

    private NetworkView view(NetRow n) {
        List<String> routers = new ArrayList<>();
        for (RouterRow r : store.routers()) if (store.routerNetworks(r.id()).contains(n.id())) routers.add(r.name());
        List<NetworkView.Attachment> att = new ArrayList<>();
        for (NicRow nic : store.nics()) {
            if (nic.networkId().equals(n.id())) {
                String vm = store.byIdOrName(nic.vmId()).map(VmRow::name).orElse(nic.vmId());
                att.add(new NetworkView.Attachment(vm, nic.name(), nic.ip(), nic.mac()));
            }
        }
        return new NetworkView(n.id(), n.name(), n.subnet(), n.gateway(), n.vlan(), n.bridge(), host.vlanMechanism(),
                routers, att, n.createdAt());
    }

    // ---------------------------------------------------------------- routers

    public record RouteSpec(String to, String via) {}

    public synchronized RouterView createRouter(String name, List<String> networks, List<RouteSpec> routes) {
        Names.check("name", name);
        if (store.router(name).isPresent()) {
            throw VmctlException.conflict("create router " + name + ": the name is already in use", "choose another name");
        }
        if (networks == null || networks.size() < 1) {
            throw VmctlException.invalid("networks", "a router needs at least one network", "names of existing networks: " + netNames());
        }
        List<NetRow> nets = new ArrayList<>();
        for (String key : networks) {
            NetRow n = store.network(key).orElseThrow(() -> VmctlException.invalid("networks", "unknown network '" + key + "'",
                    "names of existing networks: " + netNames()));
            if (nets.contains(n)) throw VmctlException.invalid("networks", "network " + key + " is listed twice", "each network once");
            for (RouterRow r : store.routers()) {
                if (store.routerNetworks(r.id()).contains(n.id())) {
                    throw VmctlException.conflict("create router " + name + ": network " + n.name() + " already has router " + r.name()
                            + " at its gateway " + n.gateway(), "join that router instead, or remove it first");
                }
            }
            nets.add(n);
        }
        List<RouteRow> rr = new ArrayList<>();
        String id = VmCore.newId();
        for (RouteSpec r : routes == null ? List.<RouteSpec>of() : routes) {
            Ipam to;
            try {
                to = Ipam.of(r.to());
            } catch (VmctlException e) {
                throw VmctlException.invalid("routes.to", String.valueOf(e.getMessage()).replace("invalid subnet: ", ""),
                        "a destination network in CIDR form, e.g. 198.18.30.0/24");
            }
            String via = r.via() == null ? "" : r.via().strip();
            if (nets.stream().noneMatch(n -> Ipam.of(n.subnet()).contains(via))) {
                throw VmctlException.invalid("routes.via", "'" + r.via() + "' is not an address on a network of this router",
                        "an address in " + nets.stream().map(NetRow::subnet).toList());
            }
            rr.add(new RouteRow(id, to.cidr(), via));
        }
        RouterRow row = new RouterRow(id, name, host.routerNs(id), now());
        try {
            realiseRouter(row, nets, rr);
            store.insertRouter(row, nets.stream().map(NetRow::id).toList(), rr);
        } catch (RuntimeException e) {
            host.deleteRouter(row.netns());
            throw e;
        }
        events.publish(dev.vmctl.model.EventType.ROUTER_CREATED, null, name, null, null, nets.stream().map(NetRow::name).toList().toString());
        return routerView(row);
    }

    private void realiseRouter(RouterRow row, List<NetRow> nets, List<RouteRow> routes) {
        host.ensureFabric();
        host.ensureRouter(row.netns());
        for (NetRow n : nets) {
            host.ensureBridge(n.bridge(), n.vlan());
            host.connectRouter(row.netns(), n.id().substring(0, 8), n.bridge(), Ipam.of(n.subnet()).gatewayCidr());
        }
        for (RouteRow r : routes) host.replaceRoute(row.netns(), r.to(), r.via());
    }

    public synchronized List<RouterView> routers() {
        return store.routers().stream().map(this::routerView).toList();
    }

    public synchronized RouterView router(String key) {
        return routerView(store.router(key).orElseThrow(() -> VmctlException.notFound("router", key)));
    }

    public synchronized RouterView deleteRouter(String key) {
        RouterRow r = store.router(key).orElseThrow(() -> VmctlException.notFound("router", key));
        RouterView v = routerView(r);
        host.deleteRouter(r.netns());
        store.deleteRouter(r.id());
        events.publish(dev.vmctl.model.EventType.ROUTER_DELETED, null, r.name(), null, null, null);
        return v;
    }

    private RouterView routerView(RouterRow r) {
        List<RouterView.Leg> legs = new ArrayList<>();
        for (String nid : store.routerNetworks(r.id())) {
            store.network(nid).ifPresent(n -> legs.add(new RouterView.Leg(n.name(), Ipam.of(n.subnet()).gatewayCidr())));
        }
        List<RouterView.Route> routes = store.routes(r.id()).stream().map(x -> new RouterView.Route(x.to(), x.via())).toList();
        return new RouterView(r.id(), r.name(), r.netns(), legs, routes, r.createdAt());
    }

    private String netNames() {
        List<String> names = store.networks().stream().map(NetRow::name).toList();
        return names.isEmpty() ? "(none yet: vmctl net create NAME --subnet CIDR)" : String.join(", ", names);
    }

    // ---------------------------------------------------------------- NICs

    public record NicRequest(String network, String ip) {}

    /** Validates and allocates NICs for a VM being created; nothing is stored. */
    synchronized List<NicRow> planNics(String vmId, List<NicRequest> reqs) {
        List<NicRow> out = new ArrayList<>();
        if (reqs == null) return out;
        if (reqs.size() > MAX_NICS) throw VmctlException.invalid("nics", reqs.size() + " NICs", "at most " + MAX_NICS);
        Map<String, Map<String, String>> planned = new LinkedHashMap<>();
        for (int i = 0; i < reqs.size(); i++) {
            NicRequest r = reqs.get(i);
            out.add(plan(vmId, i, r, planned, "nics[" + i + "]"));
        }
        return out;
    }

    private NicRow plan(String vmId, int index, NicRequest r, Map<String, Map<String, String>> planned, String field) {
        if (r == null || r.network() == null || r.network().isBlank()) {
            throw VmctlException.invalid(field + ".network", "missing", "names of existing networks: " + netNames());
        }
        NetRow n = store.network(r.network()).orElseThrow(() -> VmctlException.invalid(field + ".network",
                "unknown network '" + r.network() + "'", "names of existing networks: " + netNames()));
        Ipam c = Ipam.of(n.subnet());
        Map<String, String> owners = owners(n.id());
        owners.putAll(planned.getOrDefault(n.id(), Map.of()));
        String ip;
        try {
            ip = r.ip() == null || r.ip().isBlank() ? c.allocate(owners.keySet()) : c.check(r.ip(), owners);
        } catch (VmctlException e) {
            throw new VmctlException(e.kind(), "network " + n.name() + ": " + e.getMessage(), e.detail());
        }
        planned.computeIfAbsent(n.id(), k -> new LinkedHashMap<>()).put(ip, "this VM (eth" + index + ")");
        return new NicRow(vmId, index, n.id(), mac(vmId, index), ip, true, null);
    }

    /** ip → "vm a (eth0)" for every NIC on the network */
    private Map<String, String> owners(String networkId) {
        Map<String, String> m = new LinkedHashMap<>();
        for (NicRow x : store.nics()) {
            if (x.networkId().equals(networkId) && x.ip() != null) {
                m.put(x.ip(), "vm " + store.byIdOrName(x.vmId()).map(VmRow::name).orElse(x.vmId()) + " (" + x.name() + ")");
            }
        }
        return m;
    }

    synchronized NicRow planAdditional(String vmId, NicRequest r) {
        Set<Integer> used = new HashSet<>();
        for (NicRow n : store.nics(vmId)) used.add(n.index());
        int idx = 0;
        while (used.contains(idx)) idx++;
        if (idx >= MAX_NICS) throw VmctlException.conflict("add nic: the VM already has " + MAX_NICS + " NICs", "remove one first");
        return plan(vmId, idx, r, new LinkedHashMap<>(), "");
    }

    synchronized NicRow planMove(NicRow nic, String network, String ip) {
        NicRow planned = plan(nic.vmId(), nic.index(), new NicRequest(network, ip), new LinkedHashMap<>(), "");
        return nic.withNetwork(planned.networkId(), planned.ip());
    }

    /** A MAC for the NIC, unique among vmctl's NICs (deterministic per VM and index; retried on a clash). */
    String mac(String vmId, int index) {
        Set<String> used = new HashSet<>();
        for (NicRow n : store.nics()) used.add(n.mac());
        for (int attempt = 0; ; attempt++) {
            String m = dev.vmctl.net.Macs.forNic(vmId, index, attempt);
            if (!used.contains(m)) return m;
        }
    }

    public static String tap(String vmId, int index) {
        return dev.vmctl.net.NetNames.tap(vmId, index);
    }

    synchronized List<NicView> nicViews(String vmId) {
        List<NicView> out = new ArrayList<>();
        for (NicRow n : store.nics(vmId)) out.add(nicView(n));
        return out;
    }

    NicView nicView(NicRow n) {
        NetRow net = store.network(n.networkId()).orElse(null);
        Integer prefixLen = net == null ? null : Ipam.of(net.subnet()).prefixLength();
        return new NicView(n.name(), n.index(), net == null ? n.networkId() : net.name(), n.mac(), n.ip(), prefixLen,
                n.linkUp() ? "up" : "down", n.impair(), n.impair() == null ? null : mechanisms(n.impair()), tap(n.vmId(), n.index()));
    }

    /**
     * What applies each part of an impairment: "netemEgress" (what the guest sends), "netemIngress" (what it
     * receives) and "rate" (both ways), each only when in use.
     */
    Map<String, String> mechanisms(Impairment i) {
        Map<String, String> m = new LinkedHashMap<>();
        if (i.netemEgress()) {
            m.put("netemEgress", host.hostNetem() ? "netem on the host, on an ifb fed by the tap's ingress (what the guest sends)"
                    : "tc netem inside the guest at the root of its interface (what the guest sends; the host kernel has no netem)");
        }
        if (i.netemIngress()) {
            m.put("netemIngress", host.hostNetem() ? "netem on the host at the root of the tap (what the guest receives)"
                    : "tc netem inside the guest on an ifb fed by its interface's ingress (matchall + mirred; what the guest receives)");
        }
        if (i.hasRate()) m.put("rate", host.hostNetem() && i.hasNetem() ? "tbf below netem on the host tap (host→guest) and its ifb (guest→host)"
                : "tbf on the host tap (host→guest) and on an ifb for its ingress (guest→host)");
        return m;
    }

    synchronized NicRow nic(String vmId, String vmName, String nicName) {
        for (NicRow n : store.nics(vmId)) if (n.name().equals(nicName)) return n;
        List<String> names = store.nics(vmId).stream().map(NicRow::name).toList();
        throw new VmctlException(VmctlException.Kind.NOT_FOUND, "vm " + vmName + " has no NIC " + nicName,
                names.isEmpty() ? "it has no NICs" : "its NICs: " + String.join(", ", names));
    }

    // ---------------------------------------------------------------- host side of a VM's NICs

    /** Before QEMU starts: fabric, bridges, taps (with link state and shaping). */
    synchronized List<QemuCommand.Nic> prepareTaps(String vmId) {
        host.ensureFabric();
        List<QemuCommand.Nic> out = new ArrayList<>();
        for (NicRow n : store.nics(vmId)) {
            prepareTap(n);
            out.add(new QemuCommand.Nic(n.index(), tap(vmId, n.index()), n.mac()));
        }
        return out;
    }

    synchronized void prepareTap(NicRow n) {
        NetRow net = net(n.networkId());
        host.ensureBridge(net.bridge(), net.vlan());
        String t = tap(n.vmId(), n.index());
        host.ensureTap(t, net.bridge(), net.vlan(), n.linkUp());
        applyHostShaping(n);
    }

    synchronized void applyHostShaping(NicRow n) {
        String t = tap(n.vmId(), n.index());
        Impairment i = n.impair();
        if (i == null) {
            host.clearShaping(t);
        } else if (host.hostNetem() && i.hasNetem()) {
            host.applyHostNetem(t, i);
        } else if (i.hasRate()) {
            host.applyRate(t, i.rateKbit());
        } else {
            host.clearShaping(t);
        }
    }

    synchronized void releaseTaps(String vmId) {
        for (NicRow n : store.nics(vmId)) host.deleteTap(tap(vmId, n.index()));
    }

    synchronized void deleteTap(NicRow n) {
        host.deleteTap(tap(n.vmId(), n.index()));
    }

    // ---------------------------------------------------------------- guest side

    /** Names, addresses and default route inside the guest, and guest-side netem where the host has none. */
    void configureGuest(String vmId, GuestAgentClient agent) {
        List<NicRow> nics = store.nics(vmId);
        if (nics.isEmpty()) return;
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", dev.vmctl.vmm.GuestScripts.NETWORK, "vmctl-net", gatewayFor(nics)));
        for (NicRow n : nics) {
            NetRow net = net(n.networkId());
            argv.add(n.name());
            argv.add(n.mac());
            argv.add(n.ip() == null ? "-" : Ipam.of(net.subnet()).withPrefix(n.ip()));
        }
        ExecResult r = agent.exec(argv, null, Duration.ofSeconds(20));
        if (r.exitCode() != 0) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "configure the guest's network: exit " + r.exitCode(),
                    (r.stderr() + r.stdout()).strip());
        }
        for (NicRow n : nics) applyGuestNetem(n, agent);
    }

    /**
     * The guest's NICs as the identity helper of a warm start sets them (instead of the network script): each with its
     * own MAC, found by the MAC it has now ({@code fromMacs}: NIC number → the boot snapshot's MAC), its address, and
     * the default route on the NIC whose network gives it ({@link #gatewayFor}).
     */
    List<dev.vmctl.snapshot.CloneIdentity.Nic> guestNics(String vmId, Map<Integer, String> fromMacs) {
        List<NicRow> nics = store.nics(vmId);
        List<dev.vmctl.snapshot.CloneIdentity.Nic> out = new ArrayList<>();
        if (nics.isEmpty()) return out;
        String gw = gatewayFor(nics);
        boolean routed = false;
        for (NicRow n : nics) {
            NetRow net = net(n.networkId());
            String cidr = n.ip() == null ? null : Ipam.of(net.subnet()).withPrefix(n.ip());
            boolean here = !routed && cidr != null && net.gateway().equals(gw);
            routed |= here;
            out.add(new dev.vmctl.snapshot.CloneIdentity.Nic(n.name(), n.mac(), cidr, here ? gw : null, fromMacs.get(n.index())));
        }
        return out;
    }

    /** Guest-side netem of the VM's impaired NICs (after a warm start's identity helper configured the NICs). */
    void applyGuestNetem(String vmId, GuestAgentClient agent) {
        for (NicRow n : store.nics(vmId)) if (n.impair() != null) applyGuestNetem(n, agent);
    }

    /** The default route: the gateway of the first NIC whose network has a router, else of the first NIC. */
    private String gatewayFor(List<NicRow> nics) {
        Set<String> routed = new HashSet<>();
        for (RouterRow r : store.routers()) routed.addAll(store.routerNetworks(r.id()));
        for (NicRow n : nics) if (routed.contains(n.networkId())) return net(n.networkId()).gateway();
        return net(nics.getFirst().networkId()).gateway();
    }

    /**
     * When the host has no netem, delay/loss/… go inside the guest through the agent: on what it sends at the
     * root of its interface, on what it receives on an ifb fed by the interface's ingress, or both
     * ({@link dev.vmctl.vmm.GuestScripts#IMPAIR}); with no netem asked for, both are removed.
     */
    void applyGuestNetem(NicRow n, GuestAgentClient agent) {
        if (host.hostNetem()) return;
        ExecResult r = agent.exec(guestImpairArgv(n.name(), n.impair()), null, Duration.ofSeconds(10));
        if (r.exitCode() != 0) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "netem inside the guest on " + n.name() + ": exit " + r.exitCode(),
                    (r.stderr() + r.stdout()).strip());
        }
    }

    /** {@code /bin/sh -c IMPAIR vmctl-tc NIC IFB EGRESS INGRESS netem-parameters…} */
    static List<String> guestImpairArgv(String nic, Impairment i) {
        boolean egress = i != null && i.netemEgress();
        boolean ingress = i != null && i.netemIngress();
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", dev.vmctl.vmm.GuestScripts.IMPAIR, "vmctl-tc", nic,
                dev.vmctl.vmm.GuestScripts.ingressIfb(nic), egress ? "1" : "0", ingress ? "1" : "0"));
        if (egress || ingress) {
            if (i.delayMs() > 0) {
                argv.addAll(List.of("delay", i.delayMs() + "ms"));
                if (i.jitterMs() > 0) argv.add(i.jitterMs() + "ms");
            }
            if (i.lossPercent() > 0) argv.addAll(List.of("loss", i.lossPercent() + "%"));
            if (i.corruptPercent() > 0) argv.addAll(List.of("corrupt", i.corruptPercent() + "%"));
            if (i.duplicatePercent() > 0) argv.addAll(List.of("duplicate", i.duplicatePercent() + "%"));
            argv.addAll(List.of("limit", "10000"));
        }
        return argv;
    }

    // ---------------------------------------------------------------- fabric lifetime and reconciliation

    /** Removes the fabric namespace when nothing needs it (no network, no router, no live VM). */
    synchronized void maybeRemoveFabric(boolean anyLiveVm) {
        if (anyLiveVm || !store.networks().isEmpty() || !store.routers().isEmpty()) return;
        if (host.fabricExists()) {
            host.destroyFabric();
            log.info("removed fabric namespace {}", host.fabric());
        }
    }

    /**
     * At start-up: bridges and routers for what the database has; vmctl-owned links and router
     * namespaces the database does not know are deleted. Taps of live VMs are re-checked by the VM side.
     * Partitions ({@link HostNet#partition}) belong to the server run that made them (a scenario run, which
     * does not outlive it): every one left in the fabric is removed.
     */
    synchronized void reconcile(Set<String> liveVmIds) {
        boolean needFabric = !store.networks().isEmpty() || !store.routers().isEmpty() || !liveVmIds.isEmpty();
        if (!needFabric) {
            if (host.fabricExists()) host.destroyFabric();
            for (String ns : host.namespaces(host.routerPrefix())) host.deleteRouter(ns);
            return;
        }
        host.ensureFabric();
        for (String p : host.partitions()) {
            log.info("removing partition {} left in {} by an earlier server run", p, host.fabric());
            host.unpartition(p);
        }
        Set<String> expected = new HashSet<>();
        for (NetRow n : store.networks()) {
            host.ensureBridge(n.bridge(), n.vlan());
            expected.add(n.bridge());
        }
        Set<String> routerNs = new HashSet<>();
        for (RouterRow r : store.routers()) {
            List<NetRow> nets = store.routerNetworks(r.id()).stream().map(this::net).toList();
            realiseRouter(r, nets, store.routes(r.id()));
            routerNs.add(r.netns());
        }
        for (NicRow n : store.nics()) {
            if (liveVmIds.contains(n.vmId())) {
                prepareTap(n);
                expected.add(tap(n.vmId(), n.index()));
            }
        }
        for (String link : host.fabricLinks()) {
            if (link.equals("lo") || expected.contains(link)) continue;
            if (dev.vmctl.net.NetNames.isSegmentOrNicLink(link)) {
                if (expected.contains(dev.vmctl.net.NetNames.tapOf(link))) continue; // the ifb of a live tap
                log.info("removing orphan link {} from {}", link, host.fabric());
                if (dev.vmctl.net.NetNames.isBridge(link)) host.deleteBridge(link); else host.deleteTap(dev.vmctl.net.NetNames.tapOf(link));
            }
        }
        for (String ns : host.namespaces(host.routerPrefix())) {
            if (!routerNs.contains(ns)) {
                log.info("removing orphan router namespace {}", ns);
                host.deleteRouter(ns);
            }
        }
    }

    private static String now() {
        return Instant.now().toString();
    }
}
