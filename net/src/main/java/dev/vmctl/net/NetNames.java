package dev.vmctl.net;

import dev.vmctl.model.VmctlException;

import java.util.regex.Pattern;

/**
 * How vmctl names what it creates on the host, so it can find its own things again (reconciliation).
 *
 * <pre>
 * namespace   fabric (one per server)   given by the caller, starts with "vmctl", e.g. vmctl-3fa2c1d0
 *             router                    vmctl-r-&lt;routerId&gt;                      vmctl-r-0a1b2c3d
 *             segment (isolated)        &lt;fabric&gt;-s&lt;segmentId&gt;                  vmctl-3fa2c1d0-s0a1b2c3d
 *             router of a segment       &lt;segment ns&gt;-r&lt;routerId&gt;               vmctl-3fa2c1d0-s0a1b2c3d-r5e6f7a8b
 * fabric ns   segment bridge            vb&lt;netId&gt;                              vb5e6f7a8b      (10)
 *             VM NIC tap                vt&lt;vmId12&gt;&lt;nic index, 1 hex digit&gt;    vt0123456789ab0 (15)
 *             its ingress-shaping ifb   vi + the tap's suffix                    vi0123456789ab0 (15)
 *             a node's egress ifb       vq + 12 hex of SHA-256 of "TOPO/NODE"     vq0123456789ab  (14)
 *             router port, fabric end   vr&lt;netId&gt;&lt;first 5 of routerId&gt;          vr5e6f7a8b0a1b2 (15)
 *             NAT uplink, host end      vu&lt;routerId&gt;  (host namespace)          vu0a1b2c3d      (10)
 * segment ns  its bridges, taps, router ports: as in the fabric (vb…, vt…, vi…, vr…)
 *             VPN interface (WireGuard) vw&lt;4 of fabric id&gt;&lt;segmentId&gt;          vw3fa20a1b2c3d  (14)
 * router ns   router port               r&lt;netId&gt;                               r5e6f7a8b       (9)
 *             NAT uplink, router end    u&lt;routerId&gt;                            u0a1b2c3d       (9)
 * </pre>
 * netId and routerId are 8 lower-case hex digits, vmId12 is 12; interface names stay within Linux's
 * 15 characters. A router's fabric end, whose name keeps only 5 digits of the router id, carries the
 * full ids in its alias ("vmctl router=… net=…").
 */
public final class NetNames {
    /** Every namespace vmctl creates starts with this. */
    public static final String NS_PREFIX = "vmctl";
    public static final String ROUTER_NS_PREFIX = "vmctl-r-";
    public static final int IFNAMSIZ = 15;

    private static final Pattern HEX8 = Pattern.compile("[0-9a-f]{8}");
    private static final Pattern HEX12 = Pattern.compile("[0-9a-f]{12}");
    private static final Pattern NETNS = Pattern.compile("vmctl[a-z0-9-]{0,43}");
    private static final Pattern IFNAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,14}");

    private NetNames() {}

    /** The bridge of one segment (or, with bridge-per-vlan, of one VLAN of a segment). */
    public static String bridge(String netId) {
        return "vb" + hex8("netId", netId);
    }

    /** A VM NIC's tap; index 0..15 becomes one hex digit. */
    public static String tap(String vmId12, int index) {
        if (vmId12 == null || !HEX12.matcher(vmId12).matches()) {
            throw VmctlException.invalid("vmId", "'" + vmId12 + "' is not 12 lower-case hex digits", "12 hex digits, e.g. 0123456789ab");
        }
        if (index < 0 || index > 15) throw VmctlException.invalid("nic index", String.valueOf(index), "0 to 15");
        return "vt" + vmId12 + Integer.toHexString(index);
    }

    /** The ifb that shapes what enters a port: "vi" + the port's name after its two-letter prefix. */
    public static String ifbFor(String port) {
        checkIfName("port", port);
        if (!port.startsWith("vt") || port.length() < 3) {
            throw VmctlException.invalid("port", "'" + port + "' cannot be shaped: only vmctl taps/ports (vt…) have an ifb name", "a name starting with vt");
        }
        return "vi" + port.substring(2);
    }

    public static String routerNs(String routerId) {
        return ROUTER_NS_PREFIX + hex8("routerId", routerId);
    }

    /** The router's own end of its link to a segment (lives in the router namespace). */
    public static String routerPort(String netId) {
        return "r" + hex8("netId", netId);
    }

    /** The fabric end of a router's link to a segment, attached to the segment's bridge. */
    public static String routerPeer(String routerId, String netId) {
        return "vr" + hex8("netId", netId) + hex8("routerId", routerId).substring(0, 5);
    }

    public static String uplinkHostEnd(String routerId) {
        return "vu" + hex8("routerId", routerId);
    }

    public static String uplinkRouterEnd(String routerId) {
        return "u" + hex8("routerId", routerId);
    }

    /** True for the links of segments and VM NICs in a fabric namespace: bridges (vb), taps (vt), their ifbs (vi) and node egress ifbs (vq). */
    public static boolean isSegmentOrNicLink(String name) {
        return name != null && name.length() > 2
                && (name.startsWith("vb") || name.startsWith("vt") || name.startsWith("vi") || name.startsWith("vq"));
    }

    /** The ifb that shapes what a node's VMs send, all together ({@code key}: "TOPO/NODE"). */
    public static String egressIfb(String key) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "vq" + java.util.HexFormat.of().formatHex(h).substring(0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static boolean isEgressIfb(String name) {
        return name != null && name.startsWith("vq");
    }

    public static boolean isBridge(String name) {
        return name != null && name.startsWith("vb");
    }

    /** The tap an ifb shapes ("vi…" → "vt…"); a tap's own name otherwise. */
    public static String tapOf(String link) {
        return link.startsWith("vi") ? "vt" + link.substring(2) : link;
    }

    /** The fabric namespace of a data directory: "vmctl-" + 8 hex digits of SHA-256 of its path. */
    public static String fabric(java.nio.file.Path dataDir) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(dataDir.toAbsolutePath().normalize().toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "vmctl-" + java.util.HexFormat.of().formatHex(h, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The prefix of the router namespaces of one server: its fabric's name + "-r". */
    public static String routerPrefix(String fabric) {
        return checkNetns(fabric) + "-r";
    }

    /** A router's namespace of one server: its fabric's name + "-r" + 8 hex digits of the router id. */
    public static String routerNs(String fabric, String routerId) {
        return routerPrefix(fabric) + hex8("routerId", routerId.substring(0, Math.min(8, routerId.length())));
    }

    /** The prefix of the segment namespaces of one server (and of their routers'): its fabric's name + "-s". */
    public static String segmentPrefix(String fabric) {
        return checkNetns(fabric) + "-s";
    }

    /** A segment's own namespace: its fabric's name + "-s" + 8 hex digits of the segment id. */
    public static String segmentNs(String fabric, String segmentId) {
        return segmentPrefix(fabric) + hex8("segmentId", segmentId);
    }

    /** True for a segment's own namespace of this fabric (not for one of its routers' namespaces). */
    public static boolean isSegmentNs(String fabric, String ns) {
        String p = segmentPrefix(fabric);
        return ns != null && ns.startsWith(p) && HEX8.matcher(ns.substring(p.length())).matches();
    }

    /**
     * The WireGuard interface of a segment's VPN: "vw" + the first 4 hex digits of the fabric's id + the segment id.
     * Unique on the host, not only in its namespace: wireguard-go's control socket is /var/run/wireguard/NAME.sock.
     */
    public static String vpnInterface(String fabric, String segmentId) {
        String f = checkNetns(fabric);
        String tail = f.substring(f.lastIndexOf('-') + 1).replaceAll("[^0-9a-f]", "");
        return "vw" + (tail + "0000").substring(0, 4) + hex8("segmentId", segmentId);
    }

    /** True for the names vmctl gives to links in a fabric namespace. */
    public static boolean isFabricLink(String name) {
        return name != null && name.length() > 2
                && (name.startsWith("vb") || name.startsWith("vt") || name.startsWith("vi") || name.startsWith("vr"));
    }

    /** Checks a namespace name vmctl may own: starts with "vmctl", lower-case letters, digits, '-', ≤ 48 chars. */
    public static String checkNetns(String name) {
        if (name == null || !NETNS.matcher(name).matches()) {
            throw VmctlException.invalid("namespace", "'" + name + "' is not a vmctl namespace name",
                    "'vmctl' followed by up to 43 lower-case letters, digits or '-', e.g. vmctl-3fa2c1d0");
        }
        return name;
    }

    /** Checks an interface name: 1–15 characters, lower-case letters, digits, '_' or '-'. */
    public static String checkIfName(String field, String name) {
        if (name == null || !IFNAME.matcher(name).matches()) {
            throw VmctlException.invalid(field, "'" + name + "' is not a usable interface name",
                    "1 to " + IFNAMSIZ + " lower-case letters, digits, '_' or '-', starting with a letter or digit");
        }
        return name;
    }

    static String hex8(String field, String id) {
        if (id == null || !HEX8.matcher(id).matches()) {
            throw VmctlException.invalid(field, "'" + id + "' is not 8 lower-case hex digits", "8 hex digits, e.g. 5e6f7a8b");
        }
        return id;
    }
}
