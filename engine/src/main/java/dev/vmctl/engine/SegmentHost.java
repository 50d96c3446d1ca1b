package dev.vmctl.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * What segments need from the host besides {@link HostNet} (which works inside a segment's namespace through
 * {@link HostNet#in}): their namespaces and their VPN endpoints. The consumer owns this interface;
 * {@link LinuxSegmentHost} is the real one, the engine's unit tests use an in-memory one. Every method is idempotent.
 */
public interface SegmentHost {
    /** Every namespace of this server's segments, and of their routers, starts with this. */
    String prefix();

    /** The namespace of the segment with this id (8 hex digits). */
    String netns(String segmentId);

    /** The name of the segment's WireGuard interface (unique on the host). */
    String vpnInterface(String segmentId);

    /** Creates the namespace (loopback up, IPv4 forwarding on, no IPv6) with one empty bridge; idempotent. */
    void prepare(String netns, String bridge);

    /** The namespace's own address on the bridge — the gateway of the segment's network; null removes it. */
    void setGateway(String netns, String bridge, String gatewayCidr);

    /** Deletes the namespace, the given router namespaces of the segment first. Fine when it does not exist. */
    void destroy(String netns, List<String> routerNamespaces);

    boolean exists(String netns);

    /** Every existing namespace under {@link #prefix()}: the segments' own and their routers'. */
    List<String> namespaces();

    /** True for a segment's own namespace (not a router's) of this server. */
    boolean isSegmentNs(String netns);

    // ---- VPN ---------------------------------------------------------------------------------------------

    /** Which mechanism a VPN uses here, or why there is none (for {@code vmctl doctor}). */
    String vpnMechanism();

    /** A started endpoint: mechanism ("kernel", "wireguard-go"), and wireguard-go's process (null for the kernel). */
    record VpnEndpoint(String mechanism, Long pid, Long pidStart) {}

    /**
     * A WireGuard endpoint whose interface is in {@code netns} with {@code addressCidr}, its UDP socket on
     * {@code listenPort} in the edge namespace (the host's own unless configured otherwise). UNAVAILABLE without
     * WireGuard; CONFLICT when the port is in use.
     */
    VpnEndpoint startVpn(String netns, String iface, String privateKey, int listenPort, String addressCidr, Path log);

    void setVpnPeer(String netns, String iface, String publicKey, String allowedCidr);

    boolean vpnAlive(String netns, String iface, VpnEndpoint e);

    void stopVpn(String netns, String iface, VpnEndpoint e);

    /** The host (name or address) clients put in their Endpoint line. */
    String endpointHost();

    /** No segments on this host (an engine over another {@link HostNet} than Linux's, in tests): nothing exists, creating is UNAVAILABLE. */
    static SegmentHost none(String fabric) {
        return new SegmentHost() {
            private dev.vmctl.model.VmctlException no() {
                return new dev.vmctl.model.VmctlException(dev.vmctl.model.VmctlException.Kind.UNAVAILABLE,
                        "segments: not available with this engine's host networking", null);
            }
            @Override public String prefix() { return fabric + "-s"; }
            @Override public String netns(String segmentId) { return prefix() + segmentId; }
            @Override public String vpnInterface(String segmentId) { return "vw" + segmentId; }
            @Override public void prepare(String netns, String bridge) { throw no(); }
            @Override public void setGateway(String netns, String bridge, String gatewayCidr) { throw no(); }
            @Override public void destroy(String netns, List<String> routerNamespaces) { }
            @Override public boolean exists(String netns) { return false; }
            @Override public List<String> namespaces() { return List.of(); }
            @Override public boolean isSegmentNs(String netns) { return false; }
            @Override public String vpnMechanism() { return "unavailable: no segments with this engine's host networking"; }
            @Override public VpnEndpoint startVpn(String netns, String iface, String privateKey, int listenPort, String addressCidr, Path log) { throw no(); }
            @Override public void setVpnPeer(String netns, String iface, String publicKey, String allowedCidr) { throw no(); }
            @Override public boolean vpnAlive(String netns, String iface, VpnEndpoint e) { return false; }
            @Override public void stopVpn(String netns, String iface, VpnEndpoint e) { }
            @Override public String endpointHost() { return "HOST"; }
        };
    }
}
