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
 *
 * <p>Places: a network lives either in the server's fabric namespace or in one isolated segment's namespace
 * ({@link SegmentService}); its bridge, the taps of the NICs on it, the routers joined to it and the QEMU processes of
 * those VMs live in that place ({@link #hostFor}, {@link #namespaceOfVm}). Subnets may overlap between places, not
 * within one; a VM's NICs and a router's networks are all in one place.
 */
public final class NetService {
    private static final Logger log = LoggerFactory.getLogger(NetService.class);
    public static final int MAX_NICS = QemuCommand.PCIE_ROOT_PORTS;

    private final Store store;
    private final EventBus events;
    private final HostNet host;
    final SegmentStore segs;

    public NetService(Store store, EventBus events, HostNet host) {
        this.store = store;
        this.events = events;
        this.host = host;
        this.segs = new SegmentStore(store);
    }

    /**
     * Which node egress group a VM's NICs are in (set by the Engine from the applied topologies' {@code resources.egress}):
     * null for none.
     */
    interface EgressPolicy {
        /** A node's group: key "TOPO/NODE", its limit and the ids of the node's VMs. */
        record Group(String key, long rateKbit, List<String> vmIds) {}

        Group groupOf(String vmId);
    }

    private volatile EgressPolicy egress = vmId -> null;
    /** vmId → the group its taps were last shaped for (so an apply re-shapes only what changed). */
    private final Map<String, EgressPolicy.Group> egressApplied = new java.util.concurrent.ConcurrentHashMap<>();

    void egressPolicy(EgressPolicy p) {
        this.egress = p;
    }

    public HostNet host() { return host; }

    // ---------------------------------------------------------------- places (the fabric, or a segment's namespace)

    /** The segment a network is in; null for the fabric. */
    String segmentOf(NetRow n) {
        return segs.segmentOf("network", n.id()).orElse(null);
    }

    /** The host side of the place a network lives in. */
    HostNet hostFor(NetRow n) {
        String ns = segs.netnsOf("network", n.id());
        return ns == null ? host : host.in(ns);
    }

    HostNet hostForNic(NicRow n) {
        return store.network(n.networkId()).map(this::hostFor).orElse(host);
    }

    private HostNet hostForRouter(RouterRow r) {
        String ns = segs.netnsOf("router", r.id());
        return ns == null ? host : host.in(ns);
    }

    /** The namespace a VM's QEMU runs in: that of its NICs' segment, else the fabric (also for a VM without NICs). */
    public synchronized String namespaceOfVm(String vmId) {
        for (NicRow n : store.nics(vmId)) {
            String ns = segs.netnsOf("network", n.networkId());
            if (ns != null) return ns;
        }
        return host.fabric();
    }

    /** True when the VM's QEMU runs (or would run) in the fabric. */
    synchronized boolean inFabric(String vmId) {
        return namespaceOfVm(vmId).equals(host.fabric());
    }

    private static String placeName(String segment) {
        return segment == null ? "the default fabric" : "segment " + segment;
    }

    /** A VM's NICs are all in one place: a 400 naming both otherwise. */
    private void checkOnePlace(List<NicRow> nics, String field) {
        String first = null;
        String firstNet = null;
        for (NicRow n : nics) {
            NetRow net = net(n.networkId());
            String seg = segmentOf(net);
            if (firstNet == null) {
                first = seg;
                firstNet = net.name();
            } else if (!java.util.Objects.equals(first, seg)) {
                throw VmctlException.invalid(field, "network " + firstNet + " is in " + placeName(first) + ", network " + net.name()
                        + " in " + placeName(seg), "networks of one segment, or networks of the default fabric only: a VM's"
                        + " QEMU runs in one namespace (its NICs' taps are there)");
            }
        }
    }

    // ---------------------------------------------------------------- networks

    public synchronized NetworkView createNetwork(String name, String subnet, Integer vlan) {
        return createNetwork(name, subnet, vlan, null);
    }

    /** A network in the fabric (segment null) or inside segment {@code segment}'s namespace. */
    public synchronized NetworkView createNetwork(String name, String subnet, Integer vlan, String segment) {
        Names.check("name", name);
        Ipam c = Ipam.of(subnet);
        if (vlan != null && (vlan < 1 || vlan > 4094)) throw VmctlException.invalid("vlan", vlan + " is out of range", "1..4094");
        String segNs = null;
        if (segment != null) {
            segNs = segs.get(segment).map(SegmentStore.SegmentRow::netns).orElseThrow(() -> VmctlException.invalid("segment",
                    "unknown segment '" + segment + "'", "names of existing segments: " + segs.all().stream().map(SegmentStore.SegmentRow::name).toList()));
        }
        if (store.network(name).isPresent()) {
            throw VmctlException.conflict("create network " + name + ": the name is already in use", "choose another name");
        }
        checkNoOverlap(name, c, segment);
        String id = VmCore.newId();
        NetRow row = new NetRow(id, name, c.cidr(), c.gateway(), vlan, dev.vmctl.net.NetNames.bridge(id.substring(0, 8)), now());
        HostNet h = segNs == null ? host : host.in(segNs);
        h.ensureFabric();
        h.ensureBridge(row.bridge(), vlan);
        try {
            store.tx("create network " + name, db -> {
                store.insertNetwork(row);
                if (segment != null) segs.addMember("network", row.id(), segment);
                return null;
            });
        } catch (RuntimeException e) {
            h.deleteBridge(row.bridge());
            throw e;
        }
        NetworkView created = view(row);
        events.publishData(dev.vmctl.model.EventType.NETWORK_CREATED, null, name, null, null, c.cidr(), created);
        return created;
    }

    /** Subnets may overlap between places (the fabric, each segment), never within one. */
    private void checkNoOverlap(String name, Ipam c, String segment) {
        for (NetRow n : store.networks()) {
            if (c.overlaps(n.subnet()) && java.util.Objects.equals(segment, segmentOf(n))) {
                throw VmctlException.conflict("create network " + name + ": subnet " + c.cidr() + " overlaps network " + n.name()
                        + " (" + n.subnet() + ")" + (segment == null ? "" : " in segment " + segment),
                        "choose a subnet that does not overlap any existing network" + (segment == null ? "" : " of the segment"));
            }
        }
    }

    /**
     * The rows of a new segment and of its network (named like it, on a bridge the segment's namespace already has), in
     * one transaction. Nothing is checked against the fabric's networks: the segment is isolated.
     */
    synchronized NetRow createSegmentRows(SegmentStore.SegmentRow seg, Ipam c, String netId, String bridge) {
        if (store.network(seg.name()).isPresent()) {
            throw VmctlException.conflict("create segment " + seg.name() + ": a network named " + seg.name() + " exists",
                    "a segment's network is named like the segment: choose another name");
        }
        NetRow row = new NetRow(netId, seg.name(), c.cidr(), c.gateway(), null, bridge, seg.createdAt());
        store.tx("create segment " + seg.name(), db -> {
            segs.insert(seg);
            store.insertNetwork(row);
            segs.addMember("network", netId, seg.name());
            return null;
        });
        events.publishData(dev.vmctl.model.EventType.NETWORK_CREATED, null, seg.name(), null, null, c.cidr() + " (segment " + seg.name() + ")", view(row));
        return row;
    }

    /**
     * Forgets a removed segment (rows only: its bridges and routers went with its namespace): its routers, networks,
     * members, VPN and peers, in one transaction. Its VMs must be gone already.
     */
    synchronized void forgetSegment(String segment) {
        List<RouterRow> routers = segs.members(segment, "router").stream().map(id -> store.router(id).orElse(null))
                .filter(java.util.Objects::nonNull).toList();
        List<NetRow> nets = segs.members(segment, "network").stream().map(id -> store.network(id).orElse(null))
                .filter(java.util.Objects::nonNull).toList();
        List<RouterView> routerViews = routers.stream().map(this::routerView).toList();
        List<NetworkView> netViews = nets.stream().map(this::view).toList();
        store.tx("remove segment " + segment, db -> {
            for (RouterRow r : routers) store.deleteRouter(r.id());
            for (NetRow n : nets) store.deleteNetwork(n.id());
            segs.delete(segment);
            return null;
        });
        for (RouterView r : routerViews) {
            events.publishData(dev.vmctl.model.EventType.ROUTER_DELETED, null, r.name(), null, null, "with segment " + segment, r);
        }
        for (NetworkView n : netViews) events.publishData(dev.vmctl.model.EventType.NETWORK_DELETED, null, n.name(), null, null, n.subnet(), n);
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
        String seg = segmentOf(n);
        if (seg != null && seg.equals(n.name())) {
            throw VmctlException.conflict("remove network " + n.name() + ": it is the network of segment " + seg,
                    "remove the segment: vmctl segment rm " + seg);
        }
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
        hostFor(n).deleteBridge(n.bridge());
        store.deleteNetwork(n.id());
        segs.removeMember("network", n.id());
        events.publishData(dev.vmctl.model.EventType.NETWORK_DELETED, null, n.name(), null, null, n.subnet(), v);
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
                routers, att, n.createdAt(), segmentOf(n));
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
        String seg = segmentOf(nets.getFirst());
        for (NetRow n : nets) {
            if (!java.util.Objects.equals(seg, segmentOf(n))) {
                throw VmctlException.invalid("networks", "network " + nets.getFirst().name() + " is in " + placeName(seg) + ", network "
                        + n.name() + " in " + placeName(segmentOf(n)), "networks of one segment, or of the default fabric only");
            }
        }
        HostNet place = hostFor(nets.getFirst());
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
            java.util.Optional<NetRow> own = nets.stream().filter(n -> n.gateway().equals(via)).findFirst();
            if (own.isPresent()) {
                // the router is the gateway of that network: a route via its own address leads back into itself
                throw VmctlException.invalid("routes.via", "'" + via + "' is this router's own address on network " + own.get().name(),
                        "the address of another router or VM on one of its networks, e.g. "
                                + nets.stream().map(n -> Ipam.of(n.subnet())).map(ip -> ip.cidr()).toList() + " other than the gateways "
                                + nets.stream().map(NetRow::gateway).toList());
            }
            if (nets.stream().anyMatch(n -> Ipam.of(n.subnet()).cidr().equals(to.cidr()))) {
                throw VmctlException.invalid("routes.to", "'" + r.to() + "' is a network of this router already (it is connected)",
                        "a network the router is not on");
            }
            rr.add(new RouteRow(id, to.cidr(), via));
        }
        RouterRow row = new RouterRow(id, name, place.routerNs(id), now());
        try {
            realiseRouter(row, nets, rr);
            store.insertRouter(row, nets.stream().map(NetRow::id).toList(), rr);
            if (seg != null) segs.addMember("router", id, seg);
        } catch (RuntimeException e) {
            place.deleteRouter(row.netns());
            throw e;
        }
        RouterView created = routerView(row);
        events.publishData(dev.vmctl.model.EventType.ROUTER_CREATED, null, name, null, null, nets.stream().map(NetRow::name).toList().toString(), created);
        return created;
    }

    private void realiseRouter(RouterRow row, List<NetRow> nets, List<RouteRow> routes) {
        HostNet h = nets.isEmpty() ? host : hostFor(nets.getFirst());
        h.ensureFabric();
        h.ensureRouter(row.netns());
        for (NetRow n : nets) {
            h.ensureBridge(n.bridge(), n.vlan());
            h.connectRouter(row.netns(), n.id().substring(0, 8), n.bridge(), Ipam.of(n.subnet()).gatewayCidr());
        }
        for (RouteRow r : routes) h.replaceRoute(row.netns(), r.to(), r.via());
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
        hostForRouter(r).deleteRouter(r.netns());
        store.deleteRouter(r.id());
        segs.removeMember("router", r.id());
        events.publishData(dev.vmctl.model.EventType.ROUTER_DELETED, null, r.name(), null, null, null, v);
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

    /** A NIC to plan: its network, an address (null: allocated) and a default rate ("10mbit"; null: none). */
    public record NicRequest(String network, String ip, String rate) {
        public NicRequest(String network, String ip) {
            this(network, ip, null);
        }
    }

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
        checkOnePlace(out, "nics");
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
        long rate = nicRate(field.isEmpty() ? "rate" : field + ".rate", r.rate());
        planned.computeIfAbsent(n.id(), k -> new LinkedHashMap<>()).put(ip, "this VM (eth" + index + ")");
        return new NicRow(vmId, index, n.id(), mac(vmId, index), ip, true, null, rate);
    }

    /** A NIC's default rate in kbit/s (0 for none); 8 kbit/s to 10 Gbit/s, the error names {@code field}. */
    static long nicRate(String field, String rate) {
        return rate == null ? 0 : Impairment.parseRateKbit(field, rate);
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
        return planAdditional(vmId, r, false);
    }

    /** A NIC to add; {@code qemuRunning}: the VM's QEMU runs, so the NIC must be in the namespace it runs in. */
    synchronized NicRow planAdditional(String vmId, NicRequest r, boolean qemuRunning) {
        Set<Integer> used = new HashSet<>();
        for (NicRow n : store.nics(vmId)) used.add(n.index());
        int idx = 0;
        while (used.contains(idx)) idx++;
        if (idx >= MAX_NICS) throw VmctlException.conflict("add nic: the VM already has " + MAX_NICS + " NICs", "remove one first");
        NicRow planned = plan(vmId, idx, r, new LinkedHashMap<>(), "");
        checkPlaceChange(vmId, store.nics(vmId), planned, qemuRunning);
        return planned;
    }

    synchronized NicRow planMove(NicRow nic, String network, String ip) {
        return planMove(nic, network, ip, false);
    }

    synchronized NicRow planMove(NicRow nic, String network, String ip, boolean qemuRunning) {
        NicRow planned = plan(nic.vmId(), nic.index(), new NicRequest(network, ip), new LinkedHashMap<>(), "");
        NicRow moved = nic.withNetwork(planned.networkId(), planned.ip());
        List<NicRow> others = store.nics(nic.vmId()).stream().filter(x -> x.index() != nic.index()).toList();
        checkPlaceChange(nic.vmId(), others, moved, qemuRunning);
        return moved;
    }

    /** The NIC joins the place of the VM's other NICs (400), and a running QEMU cannot change namespace (409). */
    private void checkPlaceChange(String vmId, List<NicRow> others, NicRow nic, boolean qemuRunning) {
        List<NicRow> all = new ArrayList<>(others);
        all.add(nic);
        checkOnePlace(all, "network");
        if (qemuRunning) {
            String now = namespaceOfVm(vmId);
            String ns = segs.netnsOf("network", nic.networkId());
            String target = ns == null ? host.fabric() : ns;
            if (!target.equals(now)) {
                throw VmctlException.conflict("network " + net(nic.networkId()).name() + " is in " + placeName(segmentOf(net(nic.networkId())))
                        + ", but the VM's QEMU runs in namespace " + now, "stop the VM first: a running QEMU cannot move to another namespace");
            }
        }
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

    /** Reads the store only (no monitor: a VM's state change builds its view under the VM's row lock). */
    List<NicView> nicViews(String vmId) {
        List<NicView> out = new ArrayList<>();
        for (NicRow n : store.nics(vmId)) out.add(nicView(n));
        return out;
    }

    NicView nicView(NicRow n) {
        NetRow net = store.network(n.networkId()).orElse(null);
        Integer prefixLen = net == null ? null : Ipam.of(net.subnet()).prefixLength();
        return new NicView(n.name(), n.index(), net == null ? n.networkId() : net.name(), n.mac(), n.ip(), prefixLen,
                n.linkUp() ? "up" : "down", n.impair(), n.impair() == null ? null : mechanisms(n.impair()), tap(n.vmId(), n.index()),
                n.rateKbit() > 0 ? n.rateKbit() : null);
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

    /** Before QEMU starts: its namespace (the fabric or the segment's), bridges, taps (with link state and shaping). */
    synchronized List<QemuCommand.Nic> prepareTaps(String vmId) {
        host.in(namespaceOfVm(vmId)).ensureFabric();
        List<QemuCommand.Nic> out = new ArrayList<>();
        for (NicRow n : store.nics(vmId)) {
            prepareTap(n);
            out.add(new QemuCommand.Nic(n.index(), tap(vmId, n.index()), n.mac()));
        }
        return out;
    }

    synchronized void prepareTap(NicRow n) {
        NetRow net = net(n.networkId());
        HostNet h = hostFor(net);
        h.ensureBridge(net.bridge(), net.vlan());
        String t = tap(n.vmId(), n.index());
        boolean fresh = h.ensureTap(t, net.bridge(), net.vlan(), n.linkUp());
        // a tap made just now has no qdisc to clear
        if (!fresh || n.effectiveImpair() != null || egress.groupOf(n.vmId()) != null) applyHostShaping(n);
    }

    synchronized void applyHostShaping(NicRow n) {
        String t = tap(n.vmId(), n.index());
        HostNet host = hostForNic(n);
        Impairment i = n.effectiveImpair(); // the impairment, with the NIC's default rate where it sets none
        EgressPolicy.Group g = egress.groupOf(n.vmId());
        if (g != null) {
            host.shapeToGuest(t, i);  // what the guest sends goes through its node's group
            syncEgress(g);
            egressApplied.put(n.vmId(), g);
            return;
        }
        egressApplied.remove(n.vmId());
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
        for (NicRow n : store.nics(vmId)) hostForNic(n).deleteTap(tap(vmId, n.index()));
        leaveEgressGroup(vmId);
    }

    synchronized void deleteTap(NicRow n) {
        hostForNic(n).deleteTap(tap(n.vmId(), n.index()));
        leaveEgressGroup(n.vmId());
    }

    private void leaveEgressGroup(String vmId) {
        EgressPolicy.Group before = egressApplied.remove(vmId);
        EgressPolicy.Group g = egress.groupOf(vmId);
        if (g == null) g = before; // a VM being destroyed may have lost its labels already: the group it was in
        if (g != null) syncEgress(g);
    }

    /**
     * Rebuilds a node's egress group from the NICs of its VMs whose taps exist now, each with its own ceiling (the
     * NIC's rate, or an impairment's) and, where the host has netem, the netem of what it sends.
     */
    synchronized void syncEgress(EgressPolicy.Group g) {
        if (g.vmIds().isEmpty()) return;
        HostNet place = host.in(namespaceOfVm(g.vmIds().getFirst()));
        Set<String> links = new HashSet<>(place.fabricLinks());
        List<HostNet.EgressMember> members = new ArrayList<>();
        for (String vmId : g.vmIds()) {
            for (NicRow n : store.nics(vmId)) {
                String t = tap(vmId, n.index());
                if (!links.contains(t)) continue;
                Impairment i = n.effectiveImpair();
                long ceil = i != null && i.hasRate() ? i.rateKbit() : 0;
                members.add(new HostNet.EgressMember(t, n.ip() == null ? List.of() : List.of(n.ip()), ceil,
                        i != null && i.netemEgress() && place.hostNetem() ? i : null));
            }
        }
        place.applyEgressGroup(g.key(), g.rateKbit(), members);
    }

    /**
     * After an apply changed the topologies: the taps of live VMs whose group (or its limit) changed are shaped again, and
     * group ifbs no live VM uses any more go.
     */
    synchronized void refreshEgress(Set<String> liveVmIds) {
        Set<String> ifbs = new HashSet<>();
        Map<String, String> left = new LinkedHashMap<>(); // key of a group a VM left → that VM (to find the group's place)
        for (String id : liveVmIds) {
            EgressPolicy.Group g = egress.groupOf(id);
            if (g != null) ifbs.add(dev.vmctl.net.NetNames.egressIfb(g.key()));
            EgressPolicy.Group before = egressApplied.get(id);
            if (g == null ? before == null : before != null && before.key().equals(g.key()) && before.rateKbit() == g.rateKbit()) continue;
            if (before != null && (g == null || !before.key().equals(g.key()))) left.put(before.key(), id);
            for (NicRow n : store.nics(id)) {
                try {
                    applyHostShaping(n);
                } catch (RuntimeException e) {
                    log.warn("vm {}: shape {} for its node's egress: {}", id, n.name(), e.getMessage());
                }
            }
        }
        for (var e : left.entrySet()) {
            if (!ifbs.contains(dev.vmctl.net.NetNames.egressIfb(e.getKey()))) {
                host.in(namespaceOfVm(e.getValue())).applyEgressGroup(e.getKey(), 0, List.of()); // no VM in it any more
            }
        }
        for (HostNet place : places()) {
            for (String link : place.fabricLinks()) {
                if (dev.vmctl.net.NetNames.isEgressIfb(link) && !ifbs.contains(link)) place.deleteTap(link);
            }
        }
    }

    /** The fabric and every segment's namespace. */
    private List<HostNet> places() {
        List<HostNet> out = new ArrayList<>();
        if (host.fabricExists()) out.add(host);
        for (SegmentStore.SegmentRow s : segs.all()) out.add(host.in(s.netns()));
        return out;
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

    private List<NetRow> fabricNetworks() {
        return store.networks().stream().filter(n -> segmentOf(n) == null).toList();
    }

    private List<RouterRow> fabricRouters() {
        return store.routers().stream().filter(r -> segs.segmentOf("router", r.id()).isEmpty()).toList();
    }

    /** Removes the fabric namespace when nothing needs it (no network, no router, no live VM in it; segments have their own). */
    synchronized void maybeRemoveFabric(boolean anyLiveVmInFabric) {
        if (anyLiveVmInFabric || !fabricNetworks().isEmpty() || !fabricRouters().isEmpty()) return;
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
        Set<String> liveInFabric = new HashSet<>();
        for (String id : liveVmIds) if (inFabric(id)) liveInFabric.add(id);
        List<NetRow> nets = fabricNetworks();
        List<RouterRow> routers = fabricRouters();
        boolean needFabric = !nets.isEmpty() || !routers.isEmpty() || !liveInFabric.isEmpty();
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
        reconcilePlace(host, nets, routers, liveInFabric);
    }

    /**
     * At start-up, inside one segment's namespace (which exists): bridges, routers and taps of live VMs as the database
     * has them; vmctl's links and router namespaces there that it does not know are removed.
     */
    synchronized void reconcileSegment(String segment, Set<String> liveVmIds) {
        List<NetRow> nets = segs.members(segment, "network").stream().map(id -> store.network(id).orElse(null))
                .filter(java.util.Objects::nonNull).toList();
        List<RouterRow> routers = segs.members(segment, "router").stream().map(id -> store.router(id).orElse(null))
                .filter(java.util.Objects::nonNull).toList();
        String ns = segs.get(segment).orElseThrow().netns();
        reconcilePlace(host.in(ns), nets, routers, liveVmIds.stream().filter(id -> ns.equals(namespaceOfVm(id))).collect(
                java.util.stream.Collectors.toSet()));
    }

    private void reconcilePlace(HostNet host, List<NetRow> networks, List<RouterRow> routers, Set<String> liveVmIds) {
        Set<String> expected = new HashSet<>();
        for (NetRow n : networks) {
            host.ensureBridge(n.bridge(), n.vlan());
            expected.add(n.bridge());
        }
        Set<String> routerNs = new HashSet<>();
        for (RouterRow r : routers) {
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
        for (String id : liveVmIds) {
            EgressPolicy.Group g = egress.groupOf(id);
            if (g != null) expected.add(dev.vmctl.net.NetNames.egressIfb(g.key())); // its node's egress group
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
