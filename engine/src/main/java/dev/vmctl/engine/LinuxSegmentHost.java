package dev.vmctl.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.VmctlException;
import dev.vmctl.net.Fabric;
import dev.vmctl.net.NetNames;
import dev.vmctl.net.Netns;
import dev.vmctl.net.Wireguard;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link SegmentHost} on Linux namespaces and WireGuard (net module). The VPN's edge — the namespace whose addresses
 * clients reach and where the endpoint's UDP socket lives — is the host's own namespace unless the system property
 * {@code vmctl.vpn.netns} names another (the end-to-end tests use a namespace of their own); {@code vmctl.vpn.endpoint}
 * sets the host name printed in client configurations (default: the edge's first global IPv4 address).
 */
final class LinuxSegmentHost implements SegmentHost {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String fabric;
    private final Map<String, HostCapabilities.Capability> caps;
    private final String edge;
    private final String endpointHost;
    private volatile String detectedHost;

    LinuxSegmentHost(String fabric, Map<String, HostCapabilities.Capability> caps) {
        this.fabric = NetNames.checkNetns(fabric);
        this.caps = caps;
        String e = System.getProperty("vmctl.vpn.netns");
        this.edge = e == null || e.isBlank() ? null : NetNames.checkNetns(e.strip());
        String h = System.getProperty("vmctl.vpn.endpoint");
        this.endpointHost = h == null || h.isBlank() ? null : h.strip();
    }

    @Override public String prefix() { return NetNames.segmentPrefix(fabric); }
    @Override public String netns(String segmentId) { return NetNames.segmentNs(fabric, segmentId); }
    @Override public String vpnInterface(String segmentId) { return NetNames.vpnInterface(fabric, segmentId); }
    @Override public boolean isSegmentNs(String netns) { return NetNames.isSegmentNs(fabric, netns); }

    @Override
    public void prepare(String netns, String bridge) {
        Netns ns = Netns.of(netns).ensure();
        Map<String, String> sysctls = new LinkedHashMap<>();
        // forwarding only matters between the namespace's own addresses: the gateway on the segment's bridge and the
        // VPN interface; there is no other interface and no route out
        sysctls.put("net.ipv4.ip_forward", "1");
        sysctls.put("net.ipv6.conf.all.disable_ipv6", "1");
        sysctls.put("net.ipv6.conf.default.disable_ipv6", "1");
        ns.sysctl(sysctls);
        new Fabric(netns, false).ensureBridge(bridge);
    }

    @Override
    public void setGateway(String netns, String bridge, String gatewayCidr) {
        Netns ns = Netns.of(netns);
        if (gatewayCidr == null) {
            ns.ip("remove gateway", bridge, "addr", "flush", "dev", bridge);
        } else {
            ns.ip("set gateway", bridge, "addr", "replace", gatewayCidr, "dev", bridge);
        }
    }

    @Override
    public void destroy(String netns, List<String> routerNamespaces) {
        for (String r : routerNamespaces) deleteNs(r);
        deleteNs(netns);
    }

    /** No command when it can be helped ({@link Netns#deleteNow}): the namespace's links go with it (the kernel finishes that in the background). */
    private static void deleteNs(String netns) {
        Netns.of(netns).deleteNow();
    }

    @Override public boolean exists(String netns) { return Netns.of(netns).exists(); }

    @Override public List<String> namespaces() { return Netns.list(prefix()); }

    // ---- VPN ---------------------------------------------------------------------------------------------

    @Override
    public String vpnMechanism() {
        return Wireguard.describe(caps) + "; edge: " + (edge == null ? "the host's own namespace" : "namespace " + edge);
    }

    private Wireguard.Mechanism mechanism() {
        Wireguard.Mechanism m = Wireguard.choose(caps);
        if (m == null) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "segment vpn: " + Wireguard.describe(caps),
                    "apt-get install wireguard-go wireguard-tools (or load the wireguard kernel module), then restart the server");
        }
        return m;
    }

    @Override
    public VpnEndpoint startVpn(String netns, String iface, String privateKey, int listenPort, String addressCidr, Path log) {
        if (edge != null && !Netns.of(edge).exists()) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "segment vpn: the edge namespace " + edge + " (vmctl.vpn.netns) does not exist",
                    "create it, or start the server without -Dvmctl.vpn.netns to listen in the host's namespace");
        }
        Netns ns = Netns.of(netns);
        Wireguard.Endpoint e = Wireguard.create(mechanism(), edge, ns, iface, log);
        try {
            Wireguard.configure(ns, iface, privateKey, listenPort, addressCidr);
        } catch (RuntimeException ex) {
            Wireguard.destroy(ns, iface, e);
            throw ex;
        }
        return new VpnEndpoint(e.mechanism().wire(), e.pid(), e.pidStart());
    }

    @Override
    public void setVpnPeer(String netns, String iface, String publicKey, String allowedCidr) {
        Wireguard.setPeer(Netns.of(netns), iface, publicKey, allowedCidr);
    }

    private static Wireguard.Endpoint endpoint(VpnEndpoint e) {
        return e == null ? null : new Wireguard.Endpoint(Wireguard.Mechanism.parse(e.mechanism()), e.pid(), e.pidStart());
    }

    @Override
    public boolean vpnAlive(String netns, String iface, VpnEndpoint e) {
        return Wireguard.alive(Netns.of(netns), iface, endpoint(e));
    }

    @Override
    public void stopVpn(String netns, String iface, VpnEndpoint e) {
        Wireguard.destroy(Netns.of(netns), iface, endpoint(e));
    }

    @Override
    public String endpointHost() {
        if (endpointHost != null) return endpointHost;
        String h = detectedHost;
        if (h == null) detectedHost = h = detectHost();
        return h;
    }

    private String detectHost() {
        List<String> argv = new ArrayList<>(List.of("ip"));
        if (edge != null) argv.addAll(List.of("-n", edge));
        argv.addAll(List.of("-json", "-4", "addr", "show", "scope", "global"));
        CmdResult r = Cmd.run(argv);
        try {
            for (JsonNode link : JSON.readTree(r.stdout().isBlank() ? "[]" : r.stdout())) {
                for (JsonNode a : link.path("addr_info")) {
                    if (a.hasNonNull("local")) return a.path("local").asText();
                }
            }
        } catch (java.io.IOException ignored) {
            // no address found: the placeholder below
        }
        return "HOST";
    }
}
