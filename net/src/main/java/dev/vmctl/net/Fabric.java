package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.VmctlException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The fabric namespace of one vmctl server: every QEMU runs inside it (started through
 * {@link Netns#execArgv}), so the VMs' taps live here; each network segment is a Linux bridge here with
 * no address, and forwarding is off, so segments only meet through a {@link RouterNs}.
 *
 * <p>VLANs: with bridge VLAN filtering ({@link #VLAN_FILTERING}) a segment's bridge filters and each port
 * gets its VLAN as pvid/untagged; without it ({@link #BRIDGE_PER_VLAN}) the caller gives each VLAN its own
 * bridge and the {@code vlan} argument of {@link #attach} is ignored.
 *
 * <p>Every method that changes the host is idempotent.
 */
public final class Fabric {
    public static final String VLAN_FILTERING = "bridge-vlan-filtering";
    public static final String BRIDGE_PER_VLAN = "bridge-per-vlan";

    private final Netns ns;
    private final boolean vlanFiltering;

    /**
     * @param nsName        the fabric namespace, e.g. "vmctl-3fa2c1d0"
     * @param vlanFiltering whether bridges filter VLANs (see {@link #forHost})
     */
    public Fabric(String nsName, boolean vlanFiltering) {
        this.ns = Netns.of(nsName);
        this.vlanFiltering = vlanFiltering;
    }

    /** A fabric that uses bridge VLAN filtering when the probed host has it. */
    public static Fabric forHost(String nsName, Map<String, HostCapabilities.Capability> caps) {
        return new Fabric(nsName, available(caps, "bridgeVlanFiltering"));
    }

    static boolean available(Map<String, HostCapabilities.Capability> caps, String key) {
        HostCapabilities.Capability c = caps == null ? null : caps.get(key);
        return c != null && c.available();
    }

    public Netns netns() { return ns; }

    public String name() { return ns.name(); }

    /** "bridge-vlan-filtering" or "bridge-per-vlan". */
    public String vlanMechanism() {
        return vlanFiltering ? VLAN_FILTERING : BRIDGE_PER_VLAN;
    }

    /** Creates the namespace if needed: loopback up, no IPv4 forwarding, no IPv6. */
    public Fabric ensure() {
        ns.ensure();
        Map<String, String> sysctls = new LinkedHashMap<>();
        sysctls.put("net.ipv4.ip_forward", "0");
        sysctls.put("net.ipv6.conf.all.disable_ipv6", "1");
        sysctls.put("net.ipv6.conf.default.disable_ipv6", "1");
        ns.sysctl(sysctls);
        return this;
    }

    public boolean exists() { return ns.exists(); }

    /**
     * Deletes the namespace with all its bridges, taps and ifbs (QEMU processes must be gone first).
     * Router links (vr…) are deleted first, so the routers' ends are gone when this returns; the rest
     * goes with the namespace. Fine when it does not exist.
     */
    public void destroy() {
        if (!ns.exists()) return;
        for (LinkInfo l : ns.links()) {
            if (l.name().startsWith("vr")) ns.deleteLink(l.name());
        }
        ns.delete();
    }

    // ---- segments (bridges) ---------------------------------------------------------------------

    /** Creates the bridge unless it exists (no STP, no multicast snooping) and sets it up. */
    public void ensureBridge(String bridge) {
        NetNames.checkIfName("bridge", bridge);
        var existing = ns.link(bridge);
        if (existing.isPresent() && !existing.get().isBridge()) {
            throw VmctlException.conflict("create bridge: " + bridge + " in " + name() + ": a " + existing.get().kind() + " link has that name", null);
        }
        if (existing.isEmpty()) {
            CmdResult r = HostCmd.run(bridgeCreateArgv(ns, bridge, vlanFiltering));
            if (!r.ok() && !ns.hasLink(bridge)) throw HostCmd.failed("create bridge", bridge + " in " + name(), r);
        } else if (existing.get().adminUp()) {
            return; // there and up: nothing to run (this is on the path of every boot)
        }
        ns.setLinkUp(bridge, true);
    }

    static List<String> bridgeCreateArgv(Netns ns, String bridge, boolean vlanFiltering) {
        List<String> argv = new ArrayList<>(ns.ipArgv("link", "add", "name", bridge, "type", "bridge",
                "stp_state", "0", "mcast_snooping", "0"));
        if (vlanFiltering) argv.addAll(List.of("vlan_filtering", "1", "vlan_default_pvid", "0"));
        return List.copyOf(argv);
    }

    /** Deletes the bridge; its ports stay, detached. Deleting a missing bridge is fine. */
    public void deleteBridge(String bridge) {
        NetNames.checkIfName("bridge", bridge);
        ns.deleteLink(bridge);
    }

    /** Names of the links whose master is this bridge. */
    public List<String> ports(String bridge) {
        List<String> out = new ArrayList<>();
        for (LinkInfo l : ns.links()) if (bridge.equals(l.master())) out.add(l.name());
        return out;
    }

    // ---- taps and other ports -------------------------------------------------------------------

    /** The user and group QEMU runs as (vmctl's confinement; null: root): taps are made theirs, so QEMU can open them. */
    private static volatile List<String> tapOwner = List.of();

    public static void tapOwner(String user, String group) {
        tapOwner = user == null ? List.of() : List.of("user", user, "group", group);
    }

    /** The user a tap belongs to ({@code ip -details}: linkinfo.info_data.user), or null. */
    private String tapUser(String tap) {
        CmdResult r = HostCmd.run(ns.ipArgv("-json", "-details", "link", "show", "dev", tap));
        if (!r.ok()) return null;
        JsonNode arr = HostCmd.json("show link", tap, r);
        if (arr.isEmpty()) return null;
        JsonNode u = arr.get(0).path("linkinfo").path("info_data").path("user");
        return u.isMissingNode() || u.isNull() ? null : u.asText();
    }

    private List<String> tapAdd(String tap) {
        List<String> a = new ArrayList<>(List.of("tuntap", "add", "dev", tap, "mode", "tap"));
        a.addAll(tapOwner);
        return ns.ipArgv(a.toArray(String[]::new));
    }

    /** Creates a persistent tap (QEMU opens it by name later) unless it exists; leaves it detached. */
    public void createTap(String tap) {
        NetNames.checkIfName("tap", tap);
        var existing = ns.link(tap);
        if (existing.isPresent()) {
            if (!existing.get().isTap()) {
                throw VmctlException.conflict("create tap: " + tap + " in " + name() + ": a " + existing.get().kind() + " link has that name", null);
            }
            return;
        }
        CmdResult r = HostCmd.run(tapAdd(tap));
        if (!r.ok() && !ns.hasLink(tap)) throw HostCmd.failed("create tap", tap + " in " + name(), r);
    }

    /** createTap + attach + up: the usual way to give a VM NIC its tap. */
    public void ensureTap(String tap, String bridge, Integer vlan) {
        createTap(tap);
        attach(tap, bridge, vlan);
    }

    public void ensureTap(String tap, String bridge) {
        ensureTap(tap, bridge, null);
    }

    /**
     * A VM NIC's tap in as few commands as it takes (each a process: 5–15 ms on a loaded host, on the path of every
     * boot and clone): {@code ip tuntap add}, then one {@code ip link set dev TAP master BRIDGE up|down}; with VLAN
     * filtering the port's VLAN commands too. An existing tap is reused (and re-attached).
     *
     * @return true when the tap was created now: it has no qdisc and no ifb, there is no shaping to clear
     */
    public boolean ensureTap(String tap, String bridge, Integer vlan, boolean up) {
        NetNames.checkIfName("tap", tap);
        NetNames.checkIfName("bridge", bridge);
        CmdResult r = HostCmd.run(tapAdd(tap));
        boolean created = r.ok();
        if (!created) {
            var existing = ns.link(tap);
            if (existing.isEmpty()) throw HostCmd.failed("create tap", tap + " in " + name(), r);
            if (!existing.get().isTap()) {
                throw VmctlException.conflict("create tap: " + tap + " in " + name() + ": a " + existing.get().kind() + " link has that name", null);
            }
            if (!tapOwner.isEmpty() && !tapOwner.get(1).equals(tapUser(tap))) {
                // a tap left from before that belongs to another user (made before vmctl confined QEMU, or with
                // --no-sandbox): made again as QEMU's; a tap QEMU's user owns (a running VM's, re-attached) stays
                ns.ip("delete tap", tap, "link", "del", "dev", tap);
                r = HostCmd.run(tapAdd(tap));
                if (!r.ok()) throw HostCmd.failed("create tap", tap + " in " + name(), r);
                created = true;
            }
        }
        if (vlanFiltering || vlan != null) {
            attach(tap, bridge, vlan);
            ns.setLinkUp(tap, up);
        } else {
            ns.ip("attach port", tap + " to " + bridge, "link", "set", "dev", tap, "master", bridge, up ? "up" : "down");
        }
        return created;
    }

    /**
     * Makes port (a tap or a veth end in this namespace) a port of bridge and sets it up. Moving a port
     * to another bridge is the same call. With VLAN filtering the port gets {@code vlan} (or the default
     * VLAN 1 when null) as its only, pvid and untagged VLAN; with bridge-per-vlan, vlan is ignored.
     */
    public void attach(String port, String bridge, Integer vlan) {
        NetNames.checkIfName("port", port);
        NetNames.checkIfName("bridge", bridge);
        if (vlan != null && (vlan < 1 || vlan > 4094)) throw VmctlException.invalid("vlan", String.valueOf(vlan), "1 to 4094");
        ns.ip("attach port", port + " to " + bridge, "link", "set", "dev", port, "master", bridge);
        if (vlanFiltering) {
            int vid = vlan == null ? 1 : vlan;
            for (List<String> argv : portVlanArgv(ns, port, vid, portVlans(port))) {
                HostCmd.check("set port vlan", port + " vid " + vid + " in " + name(), argv);
            }
        }
        ns.setLinkUp(port, true);
    }

    public void attach(String port, String bridge) {
        attach(port, bridge, null);
    }

    /**
     * The commands that leave {@code vid} the only VLAN of a port, as pvid and untagged: one
     * "bridge vlan del" per other VLAN it has, then "bridge vlan add dev PORT vid N pvid untagged".
     */
    static List<List<String>> portVlanArgv(Netns ns, String port, int vid, Iterable<Integer> current) {
        List<List<String>> cmds = new ArrayList<>();
        for (int v : current) {
            if (v != vid) cmds.add(ns.bridgeArgv("vlan", "del", "dev", port, "vid", String.valueOf(v)));
        }
        cmds.add(ns.bridgeArgv("vlan", "add", "dev", port, "vid", String.valueOf(vid), "pvid", "untagged"));
        return cmds;
    }

    /** The VLAN ids a port has on a filtering bridge ({@code bridge -json vlan show dev PORT}). */
    public List<Integer> portVlans(String port) {
        CmdResult r = HostCmd.check("show port vlans", port + " in " + name(), ns.bridgeArgv("-json", "vlan", "show", "dev", port));
        TreeSet<Integer> vids = new TreeSet<>();
        for (JsonNode entry : HostCmd.json("show port vlans", port, r)) {
            for (JsonNode v : entry.path("vlans")) {
                int lo = v.path("vlan").asInt();
                int hi = v.has("vlanEnd") ? v.path("vlanEnd").asInt() : lo;
                for (int i = lo; i <= hi && lo > 0; i++) vids.add(i);
            }
        }
        return List.copyOf(vids);
    }

    /** Removes a port from its bridge (it keeps existing). */
    public void detach(String port) {
        NetNames.checkIfName("port", port);
        if (!ns.hasLink(port)) return;
        ns.ip("detach port", port, "link", "set", "dev", port, "nomaster");
    }

    /** Host-side link state of a tap/port: up or down (the guest keeps its carrier, see QMP set_link). */
    public void setUp(String port, boolean up) {
        ns.setLinkUp(port, up);
    }

    /** Deletes a tap, ifb, veth end or bridge by name; a missing one is fine. */
    public void deleteLink(String name) {
        ns.deleteLink(name);
    }

    public List<LinkInfo> links() {
        return ns.links();
    }

    /** The links vmctl named (vb…, vt…, vi…, vr…): what reconciliation compares with its database. */
    public List<LinkInfo> vmctlLinks() {
        List<LinkInfo> out = new ArrayList<>();
        for (LinkInfo l : ns.links()) if (NetNames.isFabricLink(l.name())) out.add(l);
        return out;
    }

    @Override
    public String toString() { return "fabric " + ns.name(); }
}
