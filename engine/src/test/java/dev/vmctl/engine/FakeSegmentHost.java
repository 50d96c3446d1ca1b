package dev.vmctl.engine;

import dev.vmctl.model.VmctlException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** {@link SegmentHost} in memory: which namespaces, gateways and VPN endpoints exist (unit tests of the engine). */
final class FakeSegmentHost implements SegmentHost {
    final String fabric;
    /** namespace → its bridge */
    final Map<String, String> namespaces = new ConcurrentHashMap<>();
    /** namespace → gateway CIDR */
    final Map<String, String> gateways = new ConcurrentHashMap<>();
    /** iface → listen port */
    final Map<String, Integer> vpns = new ConcurrentHashMap<>();
    /** iface → peer public key → allowed CIDR */
    final Map<String, Map<String, String>> peers = new ConcurrentHashMap<>();
    final AtomicInteger prepared = new AtomicInteger();
    /** ports the edge already uses (startVpn answers CONFLICT) */
    final Set<Integer> busyPorts = ConcurrentHashMap.newKeySet();

    FakeSegmentHost(String fabric) {
        this.fabric = fabric;
    }

    @Override public String prefix() { return fabric + "-s"; }
    @Override public String netns(String segmentId) { return prefix() + segmentId; }
    @Override public String vpnInterface(String segmentId) { return "vw0000" + segmentId; }
    @Override public boolean isSegmentNs(String netns) { return netns.startsWith(prefix()) && netns.substring(prefix().length()).matches("[0-9a-f]{8}"); }

    @Override
    public void prepare(String netns, String bridge) {
        prepared.incrementAndGet();
        namespaces.put(netns, bridge);
    }

    @Override
    public void setGateway(String netns, String bridge, String gatewayCidr) {
        if (gatewayCidr == null) gateways.remove(netns); else gateways.put(netns, gatewayCidr);
    }

    @Override
    public void destroy(String netns, List<String> routerNamespaces) {
        for (String r : routerNamespaces) namespaces.remove(r);
        namespaces.remove(netns);
        gateways.remove(netns);
    }

    @Override public boolean exists(String netns) { return namespaces.containsKey(netns); }
    @Override public List<String> namespaces() { return new ArrayList<>(namespaces.keySet()); }
    @Override public String vpnMechanism() { return "fake"; }

    @Override
    public VpnEndpoint startVpn(String netns, String iface, String privateKey, int listenPort, String addressCidr, Path log) {
        if (busyPorts.contains(listenPort)) throw VmctlException.conflict("udp port " + listenPort + " in use", null);
        vpns.put(iface, listenPort);
        return new VpnEndpoint("wireguard-go", null, null);
    }

    @Override
    public void setVpnPeer(String netns, String iface, String publicKey, String allowedCidr) {
        peers.computeIfAbsent(iface, k -> new ConcurrentHashMap<>()).put(publicKey, allowedCidr);
    }

    @Override public boolean vpnAlive(String netns, String iface, VpnEndpoint e) { return vpns.containsKey(iface); }

    @Override
    public void stopVpn(String netns, String iface, VpnEndpoint e) {
        vpns.remove(iface);
        peers.remove(iface);
    }

    @Override public String endpointHost() { return "192.0.2.1"; }
}
