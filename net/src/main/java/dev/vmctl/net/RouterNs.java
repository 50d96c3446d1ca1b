package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A router: its own namespace ({@link NetNames#routerNs}) with IPv4 forwarding on, joined to each
 * segment it serves by a veth pair — the router end ({@link NetNames#routerPort}) holds the segment's
 * gateway address, the fabric end ({@link NetNames#routerPeer}) is a port of the segment's bridge.
 * Deleting the namespace deletes all its veth pairs, fabric ends included. Every change is idempotent.
 */
public final class RouterNs {
    private final String routerId;
    private final Netns ns;
    private final Fabric fabric;

    /**
     * @param routerId 8 lower-case hex digits; the namespace is "vmctl-r-" + routerId
     */
    public RouterNs(String routerId, Fabric fabric) {
        this(routerId, NetNames.routerNs(routerId), fabric);
    }

    /**
     * @param nsName the router's namespace when the caller scopes it (e.g. per server:
     *               "vmctl-&lt;fabric id&gt;-r&lt;routerId&gt;"); must start with "vmctl"
     */
    public RouterNs(String routerId, String nsName, Fabric fabric) {
        this.routerId = NetNames.hex8("routerId", routerId);
        this.ns = Netns.of(nsName);
        this.fabric = fabric;
    }

    public String routerId() { return routerId; }
    public Netns netns() { return ns; }
    public Fabric fabric() { return fabric; }

    /** Creates the namespace if needed: loopback up, IPv4 forwarding on, IPv6 off. */
    public RouterNs ensure() {
        ns.ensure();
        Map<String, String> sysctls = new LinkedHashMap<>();
        sysctls.put("net.ipv4.ip_forward", "1");
        sysctls.put("net.ipv6.conf.all.disable_ipv6", "1");
        sysctls.put("net.ipv6.conf.default.disable_ipv6", "1");
        ns.sysctl(sysctls);
        return this;
    }

    public boolean exists() { return ns.exists(); }

    /**
     * Deletes the router: first its links (so the fabric ends of its veth pairs are gone when this
     * returns — the kernel tears down a deleted namespace's links only later, in the background), then
     * the namespace. Fine when it does not exist.
     */
    public void destroy() {
        if (!ns.exists()) return;
        for (LinkInfo l : ns.links()) {
            if (!"lo".equals(l.name())) ns.deleteLink(l.name());
        }
        ns.delete();
    }

    // ---- segments ---------------------------------------------------------------------------------

    public void connect(String netId, String bridge, Ipam subnet) {
        connect(netId, bridge, subnet.gatewayCidr(), null);
    }

    public void connect(String netId, String bridge, String gatewayCidr) {
        connect(netId, bridge, gatewayCidr, null);
    }

    /**
     * Joins the router to a segment: a veth pair whose router end holds gatewayCidr (e.g.
     * 198.18.10.1/24) and whose fabric end is a port of bridge (in VLAN vlan with VLAN filtering).
     */
    public void connect(String netId, String bridge, String gatewayCidr, Integer vlan) {
        String port = NetNames.routerPort(netId);
        String peer = NetNames.routerPeer(routerId, netId);
        String subject = "router " + routerId + " to segment " + netId;
        checkHostCidr("gateway", gatewayCidr);
        if (!fabric.netns().hasLink(bridge)) throw VmctlException.notFound("bridge", bridge + " in " + fabric.name());
        boolean havePort = ns.hasLink(port);
        boolean havePeer = fabric.netns().hasLink(peer);
        if (havePort && !havePeer) {
            ns.deleteLink(port);          // half a pair: start over
            havePort = false;
        }
        if (!havePort) {
            if (havePeer) fabric.netns().deleteLink(peer);
            HostCmd.check("connect", subject, vethArgv(ns, port, peer, fabric.name()));
        }
        fabric.netns().ip("connect", subject, "link", "set", "dev", peer, "alias", "vmctl router=" + routerId + " net=" + netId);
        fabric.attach(peer, bridge, vlan);
        List<String> addrs = ns.ipv4Addresses(port);
        if (!addrs.equals(List.of(gatewayCidr))) {
            if (!addrs.isEmpty()) ns.ip("connect", subject, "addr", "flush", "dev", port);
            ns.ip("connect", subject, "addr", "replace", gatewayCidr, "dev", port);
        }
        ns.setLinkUp(port, true);
    }

    /** ip -n ROUTER link add name PORT type veth peer name PEER netns FABRIC */
    static List<String> vethArgv(Netns router, String port, String peer, String fabricNs) {
        return router.ipArgv("link", "add", "name", port, "type", "veth", "peer", "name", peer, "netns", fabricNs);
    }

    /** Removes the router from a segment (both veth ends); fine when it is not connected. */
    public void disconnect(String netId) {
        String port = NetNames.routerPort(netId);
        if (ns.exists()) ns.deleteLink(port);
        fabric.netns().deleteLink(NetNames.routerPeer(routerId, netId));
    }

    /** The net ids of the segments this router is joined to (from its r… links). */
    public List<String> connectedNets() {
        List<String> out = new ArrayList<>();
        for (LinkInfo l : ns.links()) {
            if (l.name().matches("r[0-9a-f]{8}")) out.add(l.name().substring(1));
        }
        return out;
    }

    // ---- routes -------------------------------------------------------------------------------------

    /** ip route replace CIDR via GW in the router ("default" is allowed as CIDR). */
    public void replaceRoute(String cidr, String via) {
        String dst = checkDestination(cidr);
        if (Ipam.parseIp(via) == null) throw VmctlException.invalid("via", "'" + via + "' is not an IPv4 address", "the address of a next hop on a connected segment");
        CmdResult r = HostCmd.run(ns.ipArgv("route", "replace", dst, "via", via));
        if (!r.ok()) {
            if (r.stderr().contains("invalid gateway") || r.stderr().contains("unreachable")) {
                throw VmctlException.invalid("via", via + " is not on a segment router " + routerId + " is connected to",
                        "an address in one of " + connectedCidrs());
            }
            throw HostCmd.failed("add route", dst + " via " + via + " in router " + routerId, r);
        }
    }

    /** Removes a route; fine when it does not exist. */
    public void deleteRoute(String cidr) {
        String dst = checkDestination(cidr);
        for (RouteInfo r : routes()) {
            if (sameDestination(r.dst(), dst)) {
                ns.ip("delete route", dst + " in router " + routerId, "route", "del", dst);
                return;
            }
        }
    }

    public List<RouteInfo> routes() {
        CmdResult r = ns.ip("list routes", "router " + routerId, "-json", "-4", "route", "show");
        List<RouteInfo> out = new ArrayList<>();
        for (JsonNode n : HostCmd.json("list routes", routerId, r)) out.add(RouteInfo.fromJson(n));
        return out;
    }

    private List<String> connectedCidrs() {
        List<String> out = new ArrayList<>();
        for (RouteInfo r : routes()) if (!r.isStatic()) out.add(r.dst());
        return out;
    }

    private static boolean sameDestination(String shown, String dst) {
        return shown != null && (shown.equals(dst) || (shown + "/32").equals(dst));
    }

    private static String checkDestination(String cidr) {
        String allowed = "default, an address, or a network in CIDR form, e.g. 198.18.20.0/24";
        if (cidr == null) throw VmctlException.invalid("route destination", "missing", allowed);
        if ("default".equals(cidr) || "0.0.0.0/0".equals(cidr)) return "default";
        String ip = cidr;
        int p = 32;
        int slash = cidr.indexOf('/');
        if (slash >= 0) {
            ip = cidr.substring(0, slash);
            String ps = cidr.substring(slash + 1);
            p = ps.matches("[0-9]{1,2}") ? Integer.parseInt(ps) : -1;
            if (p < 1 || p > 32) throw VmctlException.invalid("route destination", "'" + cidr + "' has no valid prefix length", allowed);
        }
        Integer a = Ipam.parseIp(ip);
        if (a == null) throw VmctlException.invalid("route destination", "'" + cidr + "' is not an IPv4 address or network", allowed);
        if ((a & Ipam.mask(p)) != a) {
            throw VmctlException.invalid("route destination", "'" + cidr + "' is not a network address (did you mean "
                    + Ipam.format(a & Ipam.mask(p)) + "/" + p + "?)", allowed);
        }
        return Ipam.format(a) + "/" + p;
    }

    static void checkHostCidr(String field, String cidr) {
        int slash = cidr == null ? -1 : cidr.indexOf('/');
        String allowed = "an address with its prefix, e.g. 198.18.10.1/24";
        if (slash < 0 || Ipam.parseIp(cidr.substring(0, slash)) == null) throw VmctlException.invalid(field, "'" + cidr + "' is not address/prefix", allowed);
        String p = cidr.substring(slash + 1);
        if (!p.matches("[0-9]{1,2}") || Integer.parseInt(p) < 8 || Integer.parseInt(p) > 30) throw VmctlException.invalid(field, "prefix of '" + cidr + "'", allowed);
    }

    // ---- NAT uplink (changes the host's own namespace: never used by tests) ------------------------------

    /**
     * A NAT uplink from this router to the host's namespace and on through the host's own routing.
     *
     * @param linkCidr         a small subnet (e.g. a /30) for the veth between host and router, unused
     *                         elsewhere on the host: the host end gets its first address, the router end the second
     * @param allowHostChanges must be true: this adds a link and an nftables table to the host's own namespace
     */
    public record NatUplink(String linkCidr, boolean allowHostChanges) {}

    /** The commands {@link #enableNatUplink} runs, in order; nft scripts are fed on stdin. */
    public record NatPlan(List<List<String>> hostCommands, List<List<String>> routerCommands,
                          String routerNftScript, String hostNftScript) {}

    /**
     * Gives every segment of this router a NAT path out: default route via the host, masquerade in the
     * router (the host sees only the link address) and in the host towards its own uplinks. Refuses
     * (UNAVAILABLE) unless allowHostChanges is set, nft is installed and the host already forwards IPv4
     * (vmctl never turns host forwarding on by itself). A host whose forward chain drops by policy in
     * another table still drops this traffic.
     */
    public void enableNatUplink(NatUplink req) {
        String subject = "router " + routerId;
        if (req == null || !req.allowHostChanges()) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE,
                    "enable NAT uplink: " + subject + ": refused: it changes the host's own network namespace",
                    "request it explicitly (allowHostChanges=true)");
        }
        if (!Cmd.available("nft")) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "enable NAT uplink: " + subject + ": nft is not installed", "install nftables");
        }
        String fwd;
        try {
            fwd = Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip();
        } catch (IOException e) {
            fwd = "?";
        }
        if (!"1".equals(fwd)) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE,
                    "enable NAT uplink: " + subject + ": the host does not forward IPv4 (net.ipv4.ip_forward=" + fwd + ")",
                    "vmctl does not change host forwarding; enable it yourself to use NAT uplinks");
        }
        NatPlan plan = natPlan(ns, routerId, Ipam.of(req.linkCidr()));
        String hostEnd = NetNames.uplinkHostEnd(routerId);
        if (Cmd.run("ip", "link", "show", "dev", hostEnd).ok()) {
            Cmd.run("ip", "link", "delete", "dev", hostEnd);   // start over from a known state
        }
        for (List<String> argv : plan.hostCommands()) HostCmd.check("enable NAT uplink", subject, argv);
        for (List<String> argv : plan.routerCommands()) HostCmd.check("enable NAT uplink", subject, argv);
        nft("enable NAT uplink", subject, ns.execArgv(List.of("nft", "-f", "-")), plan.routerNftScript());
        nft("enable NAT uplink", subject, List.of("nft", "-f", "-"), plan.hostNftScript());
    }

    /** Undoes {@link #enableNatUplink}; fine when there is none. Also changes the host's namespace. */
    public void disableNatUplink(boolean allowHostChanges) {
        String subject = "router " + routerId;
        if (!allowHostChanges) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE,
                    "disable NAT uplink: " + subject + ": refused: it changes the host's own network namespace",
                    "request it explicitly (allowHostChanges=true)");
        }
        String table = hostNftTable(routerId);
        if (Cmd.available("nft") && Cmd.run("nft", "list", "table", "ip", table).ok()) {
            HostCmd.check("disable NAT uplink", subject, List.of("nft", "delete", "table", "ip", table));
        }
        String hostEnd = NetNames.uplinkHostEnd(routerId);
        if (Cmd.run("ip", "link", "show", "dev", hostEnd).ok()) {
            HostCmd.check("disable NAT uplink", subject, List.of("ip", "link", "delete", "dev", hostEnd));
        }
        if (ns.exists()) {
            if (Cmd.available("nft")) Cmd.run(ns.execArgv(List.of("nft", "delete", "table", "ip", "vmctl_nat")));
            deleteRoute("default");
        }
    }

    static String hostNftTable(String routerId) {
        return "vmctl_uplink_" + routerId;
    }

    static NatPlan natPlan(Netns router, String routerId, Ipam link) {
        String hostEnd = NetNames.uplinkHostEnd(routerId);
        String routerEnd = NetNames.uplinkRouterEnd(routerId);
        String hostIp = link.gateway();
        String routerIp = link.allocate(java.util.Set.of());
        int p = link.prefixLength();
        List<List<String>> host = List.of(
                List.of("ip", "link", "add", "name", hostEnd, "type", "veth", "peer", "name", routerEnd, "netns", router.name()),
                List.of("ip", "addr", "replace", hostIp + "/" + p, "dev", hostEnd),
                List.of("ip", "link", "set", "dev", hostEnd, "up"));
        List<List<String>> inRouter = List.of(
                router.ipArgv("addr", "replace", routerIp + "/" + p, "dev", routerEnd),
                router.ipArgv("link", "set", "dev", routerEnd, "up"),
                router.ipArgv("route", "replace", "default", "via", hostIp));
        String routerNft = """
                table ip vmctl_nat
                delete table ip vmctl_nat
                table ip vmctl_nat {
                  chain postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    oifname "%s" masquerade
                  }
                }
                """.formatted(routerEnd);
        String table = hostNftTable(routerId);
        String hostNft = """
                table ip %1$s
                delete table ip %1$s
                table ip %1$s {
                  chain forward {
                    type filter hook forward priority filter; policy accept;
                    iifname "%2$s" accept
                    oifname "%2$s" ct state established,related accept
                  }
                  chain postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    ip saddr %3$s oifname != "%2$s" masquerade
                  }
                }
                """.formatted(table, hostEnd, link.cidr());
        return new NatPlan(host, inRouter, routerNft, hostNft);
    }

    private static void nft(String op, String subject, List<String> argv, String script) {
        CmdResult r = Cmd.run(argv, script.getBytes(StandardCharsets.UTF_8), null, Duration.ofSeconds(30));
        if (!r.ok()) throw HostCmd.failed(op, subject, r);
    }

    @Override
    public String toString() { return "router " + routerId + " (" + ns.name() + ")"; }
}
