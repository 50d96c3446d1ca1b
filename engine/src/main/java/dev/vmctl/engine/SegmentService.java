package dev.vmctl.engine;

import dev.vmctl.engine.NetRows.NetRow;
import dev.vmctl.engine.SegmentStore.PeerRow;
import dev.vmctl.engine.SegmentStore.SegmentRow;
import dev.vmctl.engine.SegmentStore.VpnRow;
import dev.vmctl.model.EventType;
import dev.vmctl.model.Names;
import dev.vmctl.model.SegmentView;
import dev.vmctl.model.SegmentVpnView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.net.Ipam;
import dev.vmctl.net.Wireguard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Isolated segments: the work behind {@link Segments}' operations (validation, rows, the namespace, the VPN) and the
 * views. A segment is its own network namespace ({@link SegmentHost#netns}) holding its network's bridge (the network is
 * named like the segment), the taps and QEMU processes of the VMs on its networks, the routers and further networks of
 * topologies deployed into it, and its VPN interface; it has no uplink. With {@code router} the namespace holds the
 * network's gateway address (the router is the namespace itself: the segment is one network, there is nothing else to
 * route to but the VPN).
 */
final class SegmentService {
    private static final Logger log = LoggerFactory.getLogger(SegmentService.class);
    static final String DEFAULT_SUBNET = "198.18.0.0/24";
    private static final Pattern OWNER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
    private static final Pattern TTL = Pattern.compile("([0-9]{1,7})(s|m|h|d)");
    private static final long MAX_TTL = Duration.ofDays(30).toSeconds();
    /** Tunnel subnets of a VPN, tried in order: the first that overlaps none of the segment's networks. */
    private static final int TUNNEL_THIRD_OCTET_FIRST = 255;

    private final Store store;
    private final EventBus events;
    private final NetService net;
    private final SegmentStore segs;
    private final SegmentHost host;
    private final SegmentPool pool;
    private final Path dataDir;
    private final int[] vpnPorts;

    SegmentService(Store store, EventBus events, NetService net, SegmentHost host, Path dataDir, int poolSize) {
        this.store = store;
        this.events = events;
        this.net = net;
        this.segs = net.segs;
        this.host = host;
        this.dataDir = dataDir;
        this.pool = new SegmentPool(host, poolSize, id -> segs.get(id).isPresent());
        this.vpnPorts = ports(System.getProperty("vmctl.vpn.ports", "51820-51919"));
    }

    SegmentPool pool() { return pool; }
    SegmentHost host() { return host; }

    // ---------------------------------------------------------------- requests

    /** A request checked field by field (400 naming the field and the allowed values), before any operation. */
    record Validated(String name, String owner, Ipam subnet, Long ttlSeconds, boolean router) {}

    Validated validate(Segments.CreateRequest r) {
        if (r == null) throw VmctlException.invalid("body", "missing", "{\"name\": ..., \"owner\", \"subnet\", \"ttl\", \"router\"}");
        Names.check("name", r.name());
        String owner = r.owner() == null || r.owner().isBlank() ? null : r.owner().strip();
        if (owner != null && !OWNER.matcher(owner).matches()) {
            throw VmctlException.invalid("owner", "'" + owner + "' is not a user name", "1-64 letters, digits, '.', '_', '@' or '-'");
        }
        if (r.subnet() != null && r.subnet().isBlank()) {
            throw VmctlException.invalid("subnet", "'" + r.subnet() + "' is not a subnet", "a CIDR such as 198.18.0.0/24, or no subnet (then " + DEFAULT_SUBNET + ")");
        }
        Ipam subnet = Ipam.of(r.subnet() == null ? DEFAULT_SUBNET : r.subnet());
        return new Validated(r.name(), owner, subnet, parseTtl(r.ttl()), Boolean.TRUE.equals(r.router()));
    }

    /** Seconds of a TTL such as 30s, 10m, 2h, 1d; null for none. */
    static Long parseTtl(String ttl) {
        if (ttl == null || ttl.isBlank()) return null;
        String allowed = "a duration of 1s to 30d: a number with s, m, h or d, e.g. 30s, 10m, 2h";
        Matcher m = TTL.matcher(ttl.strip());
        if (!m.matches()) throw VmctlException.invalid("ttl", "'" + ttl + "' is not a duration", allowed);
        long n = Long.parseLong(m.group(1));
        long secs = switch (m.group(2)) {
            case "s" -> n;
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n * 86400;
        };
        if (secs < 1 || secs > MAX_TTL) throw VmctlException.invalid("ttl", ttl + " is out of range", allowed);
        return secs;
    }

    private static int[] ports(String range) {
        String[] p = range.split("-");
        try {
            int lo = Integer.parseInt(p[0].strip());
            int hi = p.length > 1 ? Integer.parseInt(p[1].strip()) : lo;
            if (lo < 1 || hi > 65535 || lo > hi) throw new NumberFormatException(range);
            return new int[]{lo, hi};
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("vmctl.vpn.ports: '" + range + "' is not a port range like 51820-51919", e);
        }
    }

    // ---------------------------------------------------------------- create / delete (inside their operations)

    /** The conflicts a create would meet, checked when its turn comes (409). */
    void checkFree(String name) {
        if (segs.get(name).isPresent()) throw VmctlException.conflict("create segment " + name + ": the name is already in use", "choose another name");
        if (store.network(name).isPresent()) {
            throw VmctlException.conflict("create segment " + name + ": a network named " + name + " exists",
                    "a segment's network is named like the segment: choose another name");
        }
    }

    SegmentView create(Validated v) {
        checkFree(v.name());
        SegmentPool.Prepared p = pool.take();
        String now = Instant.now().toString();
        String expires = v.ttlSeconds() == null ? null : Instant.now().plusSeconds(v.ttlSeconds()).toString();
        SegmentRow row = new SegmentRow(p.id(), v.name(), v.owner(), v.subnet().cidr(), p.netns(), v.router(), v.ttlSeconds(), expires, now);
        try {
            if (v.router()) host.setGateway(p.netns(), p.bridge(), v.subnet().gatewayCidr());
            net.createSegmentRows(row, v.subnet(), p.id() + VmCore.newId().substring(0, 4), p.bridge());
        } catch (RuntimeException e) {
            host.destroy(p.netns(), List.of());
            throw e;
        }
        SegmentView created = view(row);
        events.publishData(EventType.SEGMENT_CREATED, null, v.name(), null, null, describe(row), created);
        return created;
    }

    private static String describe(SegmentRow s) {
        return s.subnet() + (s.owner() == null ? "" : ", owner " + s.owner()) + (s.ttlSeconds() == null ? "" : ", ttl " + s.ttlSeconds() + "s")
                + (s.router() ? ", router" : "");
    }

    /** Ids of the VMs with a NIC on a network of the segment. */
    List<String> vmIds(String segment) {
        Set<String> nets = new HashSet<>(segs.members(segment, "network"));
        Set<String> out = new LinkedHashSet<>();
        for (NetRows.NicRow n : store.nics()) if (nets.contains(n.networkId())) out.add(n.vmId());
        return List.copyOf(out);
    }

    /**
     * Removes what is left of a segment once its VMs are gone: its topologies' rows, its VPN, its namespace (routers'
     * first) and every row. {@code expired}: the TTL removed it (segment.expired before segment.deleted).
     */
    void delete(String name, boolean expired) {
        SegmentRow s = row(name);
        SegmentView last = view(s);
        for (String t : last.topologies()) store.deleteTopology(t);
        segs.vpn(s.name()).ifPresent(vpn -> host.stopVpn(s.netns(), vpn.iface(), endpoint(vpn)));
        List<String> routerNs = segs.members(s.name(), "router").stream().map(id -> store.router(id).map(NetRows.RouterRow::netns).orElse(null))
                .filter(java.util.Objects::nonNull).toList();
        host.destroy(s.netns(), routerNs);
        net.forgetSegment(s.name());
        VmCore.deleteQuietly(folder(s.name()));
        if (expired) {
            events.publishData(EventType.SEGMENT_EXPIRED, null, s.name(), null, null, "ttl " + s.ttlSeconds() + "s reached: removed", last);
        }
        events.publishData(EventType.SEGMENT_DELETED, null, s.name(), null, null, describe(s), last);
    }

    private Path folder(String segment) {
        return dataDir.resolve("segments").resolve(segment);
    }

    // ---------------------------------------------------------------- VPN

    /**
     * Lets the peer with this public key into the segment: starts the segment's WireGuard endpoint on first use (the
     * namespace becomes the network's gateway, so the VMs' default route leads back to the tunnel), gives the peer the
     * next tunnel address and answers with its client configuration. The same peer again gets the same answer.
     */
    SegmentVpnView vpn(String name, String peer) {
        SegmentRow s = row(name);
        NetRow own = ownNetwork(s);
        VpnRow vpn = segs.vpn(s.name()).orElse(null);
        if (vpn == null) vpn = startVpn(s, own);
        Ipam tunnel = Ipam.of(vpn.tunnel());
        PeerRow existing = segs.peers(s.name()).stream().filter(p -> p.publicKey().equals(peer)).findFirst().orElse(null);
        String address;
        if (existing != null) {
            address = existing.address();
        } else {
            Set<String> taken = new HashSet<>();
            for (PeerRow p : segs.peers(s.name())) taken.add(p.address());
            address = tunnel.allocate(taken);
            host.setVpnPeer(s.netns(), vpn.iface(), peer, address + "/32");
            segs.addPeer(new PeerRow(s.name(), peer, address, Instant.now().toString()));
        }
        String endpoint = host.endpointHost() + ":" + vpn.listenPort();
        List<String> allowed = List.of(own.subnet());
        String config = Wireguard.clientConfig(peer, address + "/32", allowed, vpn.publicKey(), endpoint);
        return new SegmentVpnView(s.name(), peer, address + "/32", allowed, endpoint, vpn.publicKey(), vpn.mechanism(), config);
    }

    private VpnRow startVpn(SegmentRow s, NetRow own) {
        if (!s.router()) {
            host.setGateway(s.netns(), own.bridge(), Ipam.of(own.subnet()).gatewayCidr());
            segs.setRouter(s.name(), true);
        }
        Wireguard.Keys keys = Wireguard.generateKeys();
        Ipam tunnel = tunnelFor(s);
        Set<Integer> used = new HashSet<>(segs.usedPorts());
        String iface = host.vpnInterface(s.id());
        VmctlException last = null;
        for (int port = vpnPorts[0]; port <= vpnPorts[1]; port++) {
            if (used.contains(port)) continue;
            try {
                SegmentHost.VpnEndpoint e = host.startVpn(s.netns(), iface, keys.privateKey(), port, tunnel.gatewayCidr(),
                        folder(s.name()).resolve("wireguard.log"));
                VpnRow row = new VpnRow(s.name(), iface, port, keys.privateKey(), keys.publicKey(), tunnel.cidr(), e.mechanism(), e.pid(), e.pidStart());
                segs.saveVpn(row);
                return row;
            } catch (VmctlException ex) {
                if (ex.kind() != VmctlException.Kind.CONFLICT) throw ex;
                last = ex; // the port is in use on the edge: the next one
            }
        }
        throw VmctlException.conflict("segment vpn " + s.name() + ": no free UDP port in " + vpnPorts[0] + "-" + vpnPorts[1],
                last == null ? "every port of the range is taken by another segment's VPN (vmctl.vpn.ports)" : last.getMessage());
    }

    /** 198.19.255.0/24, else the next lower /24 that overlaps none of the segment's networks. */
    private Ipam tunnelFor(SegmentRow s) {
        List<String> subnets = new ArrayList<>();
        for (String id : segs.members(s.name(), "network")) store.network(id).ifPresent(n -> subnets.add(n.subnet()));
        for (int third = TUNNEL_THIRD_OCTET_FIRST; third >= 0; third--) {
            Ipam t = Ipam.of("198.19." + third + ".0/24");
            if (subnets.stream().noneMatch(t::overlaps)) return t;
        }
        throw VmctlException.conflict("segment vpn " + s.name() + ": no free tunnel subnet in 198.19.0.0/16", "the segment's networks cover it all");
    }

    private static SegmentHost.VpnEndpoint endpoint(VpnRow v) {
        return new SegmentHost.VpnEndpoint(v.mechanism(), v.pid(), v.pidStart());
    }

    // ---------------------------------------------------------------- reconcile (start-up)

    /**
     * At start-up: segment namespaces (and their routers') that no row knows are removed; each known segment's
     * namespace is re-made when it is gone (a host reboot), its bridges, routers, taps of live VMs and gateway are put
     * back, and its VPN endpoint is restarted when its process or interface is gone. Answers the names of segments whose
     * TTL has passed (the caller removes them).
     */
    List<String> reconcile(Set<String> liveVmIds) {
        List<SegmentRow> rows = segs.all();
        Set<String> known = new HashSet<>();
        for (SegmentRow s : rows) known.add(s.netns());
        for (String ns : host.namespaces()) {
            boolean ours = host.isSegmentNs(ns) ? known.contains(ns) : known.stream().anyMatch(k -> ns.startsWith(k + "-r"));
            if (!ours) {
                log.info("removing orphan segment namespace {}", ns);
                host.destroy(ns, List.of());
            }
        }
        List<String> expired = new ArrayList<>();
        for (SegmentRow s : rows) {
            if (s.expiresAt() != null && Instant.parse(s.expiresAt()).isBefore(Instant.now())) {
                expired.add(s.name());
                continue;
            }
            try {
                NetRow own = ownNetwork(s);
                if (!host.exists(s.netns())) {
                    log.info("segment {}: namespace {} is gone: making it again", s.name(), s.netns());
                    host.prepare(s.netns(), own.bridge());
                }
                if (s.router()) host.setGateway(s.netns(), own.bridge(), Ipam.of(own.subnet()).gatewayCidr());
                net.reconcileSegment(s.name(), liveVmIds);
                segs.vpn(s.name()).ifPresent(v -> restartVpnIfGone(s, v));
            } catch (RuntimeException e) {
                log.warn("reconcile segment {}: {}", s.name(), e.getMessage());
            }
        }
        return expired;
    }

    private void restartVpnIfGone(SegmentRow s, VpnRow v) {
        if (host.vpnAlive(s.netns(), v.iface(), endpoint(v))) return;
        log.info("segment {}: VPN endpoint {} is gone: starting it again", s.name(), v.iface());
        host.stopVpn(s.netns(), v.iface(), endpoint(v));
        SegmentHost.VpnEndpoint e = host.startVpn(s.netns(), v.iface(), v.privateKey(), v.listenPort(), Ipam.of(v.tunnel()).gatewayCidr(),
                folder(s.name()).resolve("wireguard.log"));
        segs.saveVpn(v.withProcess(e.pid(), e.pidStart()));
        for (PeerRow p : segs.peers(s.name())) host.setVpnPeer(s.netns(), v.iface(), p.publicKey(), p.address() + "/32");
    }

    // ---------------------------------------------------------------- views

    SegmentRow row(String key) {
        return segs.get(key).orElseThrow(() -> VmctlException.notFound("segment", key));
    }

    boolean exists(String key) {
        return segs.get(key).isPresent();
    }

    List<SegmentRow> rows() {
        return segs.all();
    }

    private NetRow ownNetwork(SegmentRow s) {
        for (String id : segs.members(s.name(), "network")) {
            NetRow n = store.network(id).orElse(null);
            if (n != null && n.name().equals(s.name())) return n;
        }
        throw VmctlException.internal("segment " + s.name() + " has no network of its name", null);
    }

    List<SegmentView> list() {
        return segs.all().stream().map(this::view).toList();
    }

    SegmentView view(String key) {
        return view(row(key));
    }

    SegmentView view(SegmentRow s) {
        List<String> networks = new ArrayList<>();
        String bridge = null;
        for (String id : segs.members(s.name(), "network")) {
            NetRow n = store.network(id).orElse(null);
            if (n == null) continue;
            networks.add(n.name());
            if (n.name().equals(s.name())) bridge = n.bridge();
        }
        List<String> routers = new ArrayList<>();
        for (String id : segs.members(s.name(), "router")) store.router(id).ifPresent(r -> routers.add(r.name()));
        List<String> vms = new ArrayList<>();
        for (String id : vmIds(s.name())) store.byIdOrName(id).ifPresent(r -> vms.add(r.name()));
        Set<String> liveTopologies = new HashSet<>();
        for (Store.TopologyRow t : store.topologies()) liveTopologies.add(t.name());
        List<String> topologies = segs.members(s.name(), "topology").stream().filter(liveTopologies::contains).toList();
        SegmentView.Vpn vpn = segs.vpn(s.name()).map(v -> new SegmentView.Vpn(v.mechanism(), null, v.listenPort(), v.publicKey(), v.tunnel(),
                segs.peers(s.name()).stream().map(p -> new SegmentView.Peer(p.publicKey(), p.address() + "/32")).toList())).orElse(null);
        if (vpn != null) {
            vpn = new SegmentView.Vpn(vpn.mechanism(), host.endpointHost() + ":" + vpn.listenPort(), vpn.listenPort(), vpn.publicKey(),
                    vpn.tunnel(), vpn.peers());
        }
        String gateway = s.router() ? Ipam.of(s.subnet()).gateway() : null;
        return new SegmentView(s.id(), s.name(), s.owner(), s.subnet(), gateway, s.router(), s.netns(), bridge, s.ttlSeconds(),
                s.expiresAt(), s.createdAt(), networks, routers, vms, topologies, vpn);
    }

    /** The segment a topology is in (empty: the default fabric), while the topology exists. */
    java.util.Optional<String> segmentOfTopology(String topology) {
        boolean exists = store.topologies().stream().anyMatch(t -> t.name().equals(topology));
        return exists ? segs.segmentOf("topology", topology) : java.util.Optional.empty();
    }

    void addTopology(String topology, String segment) {
        segs.addMember("topology", topology, segment);
    }

    void removeTopology(String topology) {
        segs.removeMember("topology", topology);
    }

    String vpnMechanism() {
        return host.vpnMechanism();
    }
}
