package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.CmdResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A named network namespace that vmctl owns (its name starts with "vmctl"). Creating and deleting are
 * idempotent; everything else runs "inside" it through {@code ip -n NS}, {@code tc -n NS} or
 * {@code ip netns exec NS}. Nothing here touches the host's own namespace.
 */
public final class Netns {
    private final String name;

    private Netns(String name) {
        this.name = NetNames.checkNetns(name);
    }

    public static Netns of(String name) {
        return new Netns(name);
    }

    public String name() { return name; }

    /** Names of the namespaces that exist and start with prefix (which must itself start with "vmctl"). */
    public static List<String> list(String prefix) {
        if (prefix == null || !prefix.startsWith(NetNames.NS_PREFIX)) {
            throw dev.vmctl.model.VmctlException.invalid("prefix", "'" + prefix + "' does not start with " + NetNames.NS_PREFIX,
                    "a prefix starting with " + NetNames.NS_PREFIX);
        }
        CmdResult r = HostCmd.check("list namespaces", prefix + "*", List.of("ip", "-json", "netns", "list"));
        List<String> names = new ArrayList<>();
        for (JsonNode n : HostCmd.json("list namespaces", prefix + "*", r)) {
            String nm = HostCmd.text(n, "name");
            if (nm != null && nm.startsWith(prefix)) names.add(nm);
        }
        names.sort(null);
        return names;
    }

    public boolean exists() {
        CmdResult r = HostCmd.check("list namespaces", name, List.of("ip", "-json", "netns", "list"));
        for (JsonNode n : HostCmd.json("list namespaces", name, r)) {
            if (name.equals(HostCmd.text(n, "name"))) return true;
        }
        return false;
    }

    /** Creates the namespace unless it exists, and sets its loopback up. */
    public Netns ensure() {
        if (!exists()) {
            CmdResult r = HostCmd.run(List.of("ip", "netns", "add", name));
            if (!r.ok() && !exists()) throw HostCmd.failed("create namespace", name, r);
        }
        ip("set loopback up", "lo", "link", "set", "dev", "lo", "up");
        return this;
    }

    /**
     * Deletes the namespace's name; its links go with it (a veth's peer in another namespace too), but
     * the kernel removes them in the background, a moment after this returns — delete links first where
     * that matters. Deleting one that does not exist is fine. Processes still running inside keep the
     * (now nameless) namespace and its links alive.
     */
    public void delete() {
        if (!exists()) return;
        CmdResult r = HostCmd.run(List.of("ip", "netns", "delete", name));
        if (!r.ok() && exists()) throw HostCmd.failed("delete namespace", name, r);
    }

    /**
     * As {@link #delete()}, with no program on the path when the C library can be called (see {@link NetnsFiles}) and
     * without looking first: one {@code ip netns delete} otherwise. Fine when it does not exist.
     */
    public void deleteNow() {
        if (NetnsFiles.delete(name)) return;
        CmdResult r = HostCmd.run(List.of("ip", "netns", "delete", name));
        if (!r.ok() && !r.stderr().contains("No such file") && exists()) throw HostCmd.failed("delete namespace", name, r);
    }

    // ---- running things inside --------------------------------------------------------------

    /** ["ip", "-n", NS, args…] */
    public List<String> ipArgv(String... args) {
        return prefixed(List.of("ip", "-n", name), Arrays.asList(args));
    }

    /** ["tc", "-n", NS, args…] */
    public List<String> tcArgv(String... args) {
        return prefixed(List.of("tc", "-n", name), Arrays.asList(args));
    }

    /** ["bridge", "-n", NS, args…] */
    public List<String> bridgeArgv(String... args) {
        return prefixed(List.of("bridge", "-n", name), Arrays.asList(args));
    }

    /** ["ip", "netns", "exec", NS, argv…]: how to run any program inside (QEMU included). */
    public List<String> execArgv(List<String> argv) {
        return prefixed(List.of("ip", "netns", "exec", name), argv);
    }

    /** Runs {@code ip -n NS args…}; a failure throws "operation: subject in NS: cause". */
    public CmdResult ip(String operation, String subject, String... args) {
        return HostCmd.check(operation, subject + " in " + name, ipArgv(args));
    }

    /** Runs {@code tc -n NS args…}; a failure throws "operation: subject in NS: cause". */
    public CmdResult tc(String operation, String subject, String... args) {
        return HostCmd.check(operation, subject + " in " + name, tcArgv(args));
    }

    /** Runs argv inside the namespace and returns its result, whatever the exit code. */
    public CmdResult exec(List<String> argv) {
        return HostCmd.run(execArgv(argv));
    }

    /** Sets sysctls inside the namespace (net.* keys are per namespace). */
    public void sysctl(Map<String, String> values) {
        List<String> argv = new ArrayList<>(List.of("sysctl", "-q", "-w"));
        values.forEach((k, v) -> argv.add(k + "=" + v));
        HostCmd.check("set sysctl", String.join(",", values.keySet()) + " in " + name, execArgv(argv));
    }

    // ---- links --------------------------------------------------------------------------------

    public List<LinkInfo> links() {
        CmdResult r = ip("list links", "all", "-json", "-details", "link", "show");
        List<LinkInfo> out = new ArrayList<>();
        for (JsonNode n : HostCmd.json("list links", name, r)) out.add(LinkInfo.fromJson(n));
        return out;
    }

    public Optional<LinkInfo> link(String ifname) {
        NetNames.checkIfName("interface", ifname);
        CmdResult r = HostCmd.run(ipArgv("-json", "-details", "link", "show", "dev", ifname));
        if (!r.ok()) {
            if (r.stderr().contains("does not exist") || r.stderr().contains("Cannot find device")) return Optional.empty();
            throw HostCmd.failed("show link", ifname + " in " + name, r);
        }
        JsonNode arr = HostCmd.json("show link", ifname, r);
        return arr.isEmpty() ? Optional.empty() : Optional.of(LinkInfo.fromJson(arr.get(0)));
    }

    public boolean hasLink(String ifname) {
        return link(ifname).isPresent();
    }

    /** Deletes a link by name (a veth takes its peer with it); deleting a missing one is fine. */
    public void deleteLink(String ifname) {
        NetNames.checkIfName("interface", ifname);
        CmdResult r = HostCmd.run(ipArgv("link", "delete", "dev", ifname));
        if (!r.ok() && hasLink(ifname)) throw HostCmd.failed("delete link", ifname + " in " + name, r);
    }

    /** Administrative state: "ip link set dev X up|down". */
    public void setLinkUp(String ifname, boolean up) {
        NetNames.checkIfName("interface", ifname);
        ip(up ? "set link up" : "set link down", ifname, "link", "set", "dev", ifname, up ? "up" : "down");
    }

    /** IPv4 addresses (CIDR form) on a link. */
    public List<String> ipv4Addresses(String ifname) {
        CmdResult r = ip("show addresses", ifname, "-json", "-4", "addr", "show", "dev", ifname);
        List<String> out = new ArrayList<>();
        for (JsonNode link : HostCmd.json("show addresses", ifname, r)) {
            for (JsonNode a : link.path("addr_info")) {
                if ("inet".equals(HostCmd.text(a, "family"))) out.add(HostCmd.text(a, "local") + "/" + a.path("prefixlen").asInt());
            }
        }
        return out;
    }

    static List<String> prefixed(List<String> head, List<String> tail) {
        List<String> argv = new ArrayList<>(head.size() + tail.size());
        argv.addAll(head);
        argv.addAll(tail);
        return List.copyOf(argv);
    }

    @Override
    public String toString() { return name; }

    @Override
    public boolean equals(Object o) { return o instanceof Netns n && n.name.equals(name); }

    @Override
    public int hashCode() { return name.hashCode(); }
}
