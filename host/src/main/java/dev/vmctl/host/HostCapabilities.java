package dev.vmctl.host;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What this host's kernel can do for virtual networks, found by trying each feature in a scratch
 * network namespace that is deleted afterwards (nothing touches the host's own namespace).
 */
public final class HostCapabilities {
    public record Capability(boolean available, String detail) {}

    private HostCapabilities() {}

    public static Map<String, Capability> probe() {
        Map<String, Capability> caps = new LinkedHashMap<>();
        String ns = "vmctl-probe-" + ProcessHandle.current().pid();
        CmdResult add = Cmd.run("ip", "netns", "add", ns);
        if (!add.ok()) {
            caps.put("netns", new Capability(false, "cannot create a network namespace: " + add.stderrTail()));
            return caps;
        }
        try {
            caps.put("netns", new Capability(true, "ip netns"));
            caps.put("bridge", tryIn(ns, "Linux bridge", List.of("ip", "link", "add", "vbr0", "type", "bridge")));
            caps.put("tap", tryIn(ns, "tun/tap", List.of("ip", "tuntap", "add", "dev", "vtap0", "mode", "tap")));
            caps.put("veth", tryIn(ns, "veth pairs", List.of("ip", "link", "add", "vve0", "type", "veth", "peer", "name", "vve1")));
            caps.put("ifb", tryIn(ns, "ifb (ingress shaping)", List.of("ip", "link", "add", "vifb0", "type", "ifb")));
            caps.put("vxlan", tryIn(ns, "vxlan", List.of("ip", "link", "add", "vvx0", "type", "vxlan", "id", "42", "dstport", "4789", "local", "127.0.0.1")));
            Cmd.run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            Capability vlan = caps.get("veth").available()
                    ? tryIn(ns, "802.1q VLAN sub-interfaces", List.of("ip", "link", "add", "link", "vve0", "name", "vve0.10", "type", "vlan", "id", "10"))
                    : new Capability(false, "needs veth");
            caps.put("vlan8021q", vlan);
            Capability filtering = caps.get("bridge").available()
                    ? tryIn(ns, "bridge VLAN filtering", List.of("ip", "link", "set", "vbr0", "type", "bridge", "vlan_filtering", "1"))
                    : new Capability(false, "needs bridge");
            caps.put("bridgeVlanFiltering", filtering);
            caps.put("tbf", tryIn(ns, "tc tbf", List.of("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "tbf", "rate", "10mbit", "burst", "32kbit", "latency", "400ms")));
            Cmd.run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root");
            caps.put("htb", tryIn(ns, "tc htb", List.of("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb")));
            Cmd.run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root");
            caps.put("netem", tryIn(ns, "tc netem on the host", List.of("tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms")));
            Cmd.run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root");
            // network partitions: an nftables table of the bridge family (it goes with the namespace)
            caps.put("nftBridge", Cmd.available("nft")
                    ? tryIn(ns, "nftables bridge family (partitions)", List.of("nft", "add", "table", "bridge", "vmctl_probe"))
                    : new Capability(false, "nftables bridge family (partitions) unavailable: nft is not installed"));
            // segment VPNs: the kernel module when a wireguard link can be made, else wireguard-go (userspace, TUN) + wg
            caps.put("wireguard", tryIn(ns, "WireGuard kernel module", List.of("ip", "link", "add", "vwg0", "type", "wireguard")));
            caps.put("wireguardGo", Cmd.available("wireguard-go") && Cmd.available("wg")
                    ? new Capability(true, "wireguard-go (userspace WireGuard over TUN) and wg")
                    : new Capability(false, "wireguard-go unavailable: install the Debian packages wireguard-go and wireguard-tools"));
        } finally {
            Cmd.run("ip", "netns", "del", ns);
        }
        return caps;
    }

    private static Capability tryIn(String ns, String what, List<String> argv) {
        List<String> full = new java.util.ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(argv);
        CmdResult r = Cmd.run(full);
        if (r.ok()) return new Capability(true, what);
        String err = r.stderrTail().replace('\n', ' ');
        return new Capability(false, what + " unavailable: " + (err.isEmpty() ? "exit " + r.exitCode() : err));
    }
}
