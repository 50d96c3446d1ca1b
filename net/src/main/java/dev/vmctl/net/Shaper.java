package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.VmctlException;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Shapes the host side of a VM NIC (a tap, or any port named vt…) in a namespace:
 * <ul>
 * <li>host→guest: tbf at the root of the tap ({@code tc qdisc replace dev TAP root handle 1: tbf …}), or,
 *     with {@link LinkShape#netemToGuest()}, netem at its root and tbf below it: what the guest receives
 *     (the direction an in-guest ifb on eth0's ingress acts on);</li>
 * <li>guest→host: the tap's ingress is redirected (u32 match-all + mirred) to an ifb named
 *     {@link NetNames#ifbFor} and shaped there: tbf at its root, or, with {@link LinkShape#netem()}, netem
 *     at its root and tbf below it. That netem impairs what the guest sends — the same direction an
 *     in-guest netem on eth0 acts on, so the engine can use either path with the same meaning.</li>
 * </ul>
 * netem runs on the host only when the kernel has it ({@code HostCapabilities} "netem"); otherwise asking
 * for it is UNAVAILABLE and the engine impairs inside the guest instead. apply and clear are idempotent.
 */
public final class Shaper {
    /** tbf queue: how long a packet may wait before it is dropped. */
    public static final String TBF_LATENCY = "400ms";
    /** Smallest tbf bucket (32 kbit); larger rates get rate/250 bytes (one 4 ms tick). */
    public static final long MIN_BURST_BYTES = 4_000;
    /** netem's queue in packets (its default of 1000 drops at long delays × high rates). */
    public static final int NETEM_LIMIT = 10_000;

    private static final String INGRESS_HANDLE = "ffff:";
    private static final String FILTER_HANDLE = "800::800";

    private final Netns ns;
    private final boolean hostNetem;

    public Shaper(Netns ns, boolean hostNetem) {
        this.ns = ns;
        this.hostNetem = hostNetem;
    }

    public static Shaper forHost(Netns ns, Map<String, HostCapabilities.Capability> caps) {
        return new Shaper(ns, Fabric.available(caps, "netem"));
    }

    /** Whether netem can run on the host side; if not, impair inside the guest. */
    public boolean hostNetem() { return hostNetem; }

    /** Makes the port's shaping exactly {@code shape} (LinkShape.NONE = {@link #clear}). */
    public void apply(String port, LinkShape shape) {
        String ifb = NetNames.ifbFor(port);
        if (shape.hasNetem() && !hostNetem) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE,
                    "shape link: " + port + " in " + ns.name() + ": netem is not available in this host's kernel",
                    "impair inside the guest (tc netem on its eth0) instead");
        }
        if (!ns.hasLink(port)) throw VmctlException.notFound("port", port + " in " + ns.name());
        String subject = port + " in " + ns.name();

        // guest -> host first, so the redirect never points at an unshaped ifb
        if (shape.shapesFromGuest()) {
            ensureIfb(ifb);
            List<List<String>> ifbPlan = ifbQdiscArgv(ns, ifb, shape);
            if (!kinds(qdiscs(ifb)).equals(ifbKinds(shape))) delRootIfCustom(ifb);
            for (List<String> argv : ifbPlan) HostCmd.check("shape link (from guest)", subject, argv);
            for (List<String> argv : ingressRedirectArgv(ns, port, ifb)) HostCmd.check("redirect ingress", subject, argv);
        } else {
            clearIngress(port, ifb);
        }
        toGuest(port, shape, subject);
    }

    /**
     * Only the host→guest part of {@code shape}, for a port whose guest→host traffic an {@link EgressGroup} shapes (a
     * node's egress limit): the port's own ifb goes; its ingress redirect is the group's to set.
     */
    public void applyToGuest(String port, LinkShape shape) {
        if (shape.netemToGuest() != null && !hostNetem) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE,
                    "shape link: " + port + " in " + ns.name() + ": netem is not available in this host's kernel",
                    "impair inside the guest (tc netem on its eth0) instead");
        }
        if (!ns.hasLink(port)) throw VmctlException.notFound("port", port + " in " + ns.name());
        ns.deleteLink(NetNames.ifbFor(port));
        toGuest(port, shape, port + " in " + ns.name());
    }

    private void toGuest(String port, LinkShape shape, String subject) {
        if (shape.netemToGuest() != null) {
            if (!kinds(qdiscs(port)).equals(tapKinds(shape))) delRootIfCustom(port);
            for (List<String> argv : tapQdiscArgv(ns, port, shape)) HostCmd.check("shape link (to guest)", subject, argv);
        } else if (shape.toGuestBitsPerSec() > 0) {
            if (!kinds(qdiscs(port)).equals(List.of("tbf"))) delRootIfCustom(port);
            HostCmd.check("shape link (to guest)", subject, rootTbfArgv(ns, port, shape.toGuestBitsPerSec()));
        } else {
            delRootIfCustom(port);
        }
    }

    /** Removes every qdisc vmctl put on the port and deletes its ifb; clearing twice is fine. */
    public void clear(String port) {
        String ifb = NetNames.ifbFor(port);
        if (ns.hasLink(port)) {
            delRootIfCustom(port);
        }
        clearIngress(port, ifb);
    }

    public List<QdiscInfo> qdiscs(String dev) {
        CmdResult r = ns.tc("show qdiscs", dev, "-json", "qdisc", "show", "dev", dev);
        List<QdiscInfo> out = new ArrayList<>();
        for (JsonNode n : HostCmd.json("show qdiscs", dev, r)) out.add(QdiscInfo.fromJson(n));
        return out;
    }

    // ---- the commands ---------------------------------------------------------------------------

    /** tc qdisc replace dev DEV root handle 1: tbf rate Rbit burst B latency 400ms */
    static List<String> rootTbfArgv(Netns ns, String dev, long bitsPerSec) {
        return Netns.prefixed(ns.tcArgv("qdisc", "replace", "dev", dev, "root", "handle", "1:"), tbfParams(bitsPerSec));
    }

    static List<String> tbfParams(long bitsPerSec) {
        return List.of("tbf", "rate", bitsPerSec + "bit", "burst", String.valueOf(burstBytes(bitsPerSec)), "latency", TBF_LATENCY);
    }

    /** The tbf bucket: one 4 ms tick of the rate, at least 32 kbit. */
    static long burstBytes(long bitsPerSec) {
        return Math.max(bitsPerSec / 8 / 250, MIN_BURST_BYTES);
    }

    /** The qdiscs for the ifb: tbf at the root, or netem at the root (+ tbf as its child for a rate). */
    static List<List<String>> ifbQdiscArgv(Netns ns, String ifb, LinkShape shape) {
        List<List<String>> cmds = new ArrayList<>();
        long rate = shape.fromGuestBitsPerSec();
        if (shape.netem() == null) {
            cmds.add(rootTbfArgv(ns, ifb, rate));
        } else {
            cmds.add(Netns.prefixed(ns.tcArgv("qdisc", "replace", "dev", ifb, "root", "handle", "1:"), netemParams(shape.netem())));
            if (rate > 0) {
                cmds.add(Netns.prefixed(ns.tcArgv("qdisc", "replace", "dev", ifb, "parent", "1:1", "handle", "10:"), tbfParams(rate)));
            }
        }
        return cmds;
    }

    /** The qdiscs at the tap's root with netem towards the guest: netem (+ tbf as its child for a rate). */
    static List<List<String>> tapQdiscArgv(Netns ns, String port, LinkShape shape) {
        List<List<String>> cmds = new ArrayList<>();
        cmds.add(Netns.prefixed(ns.tcArgv("qdisc", "replace", "dev", port, "root", "handle", "1:"), netemParams(shape.netemToGuest())));
        long rate = shape.toGuestBitsPerSec();
        if (rate > 0) {
            cmds.add(Netns.prefixed(ns.tcArgv("qdisc", "replace", "dev", port, "parent", "1:1", "handle", "10:"), tbfParams(rate)));
        }
        return cmds;
    }

    private static List<String> tapKinds(LinkShape shape) {
        return shape.toGuestBitsPerSec() > 0 ? List.of("netem", "tbf") : List.of("netem");
    }

    private static List<String> ifbKinds(LinkShape shape) {
        if (shape.netem() == null) return List.of("tbf");
        return shape.fromGuestBitsPerSec() > 0 ? List.of("netem", "tbf") : List.of("netem");
    }

    private static List<String> kinds(List<QdiscInfo> qs) {
        List<String> k = new ArrayList<>();
        for (QdiscInfo q : qs) if (!q.isDefault() && !q.isIngress()) k.add(q.kind());
        return k;
    }

    /** netem [delay D [J]] [loss P%] [corrupt P%] [duplicate P%] limit N */
    static List<String> netemParams(LinkShape.Netem n) {
        List<String> a = new ArrayList<>(List.of("netem"));
        if (!n.delay().isZero()) {
            a.add("delay");
            a.add(duration(n.delay()));
            if (!n.jitter().isZero()) a.add(duration(n.jitter()));
        }
        if (n.lossPercent() > 0) { a.add("loss"); a.add(percent(n.lossPercent())); }
        if (n.corruptPercent() > 0) { a.add("corrupt"); a.add(percent(n.corruptPercent())); }
        if (n.duplicatePercent() > 0) { a.add("duplicate"); a.add(percent(n.duplicatePercent())); }
        a.add("limit");
        a.add(String.valueOf(NETEM_LIMIT));
        return List.copyOf(a);
    }

    /** The tap's ingress qdisc and the filter that sends everything arriving from the guest to the ifb. */
    static List<List<String>> ingressRedirectArgv(Netns ns, String port, String ifb) {
        return List.of(
                ns.tcArgv("qdisc", "replace", "dev", port, "handle", INGRESS_HANDLE, "ingress"),
                ns.tcArgv("filter", "replace", "dev", port, "parent", INGRESS_HANDLE, "protocol", "all", "pref", "1",
                        "handle", FILTER_HANDLE, "u32", "match", "u32", "0", "0",
                        "action", "mirred", "egress", "redirect", "dev", ifb));
    }

    static String duration(Duration d) {
        long us = d.toNanos() / 1000;
        return us % 1000 == 0 ? (us / 1000) + "ms" : us + "us";
    }

    static String percent(double p) {
        return new BigDecimal(Double.toString(p)).stripTrailingZeros().toPlainString() + "%";
    }

    // ---- helpers ----------------------------------------------------------------------------------

    void ensureIfb(String ifb) {
        var existing = ns.link(ifb);
        if (existing.isPresent() && !"ifb".equals(existing.get().kind())) {
            throw VmctlException.conflict("create ifb: " + ifb + " in " + ns.name() + ": a " + existing.get().kind() + " link has that name", null);
        }
        if (existing.isEmpty()) {
            CmdResult r = HostCmd.run(ns.ipArgv("link", "add", "name", ifb, "type", "ifb"));
            if (!r.ok() && !ns.hasLink(ifb)) throw HostCmd.failed("create ifb", ifb + " in " + ns.name(), r);
        }
        ns.setLinkUp(ifb, true);
    }

    private void clearIngress(String port, String ifb) {
        if (ns.hasLink(port)) {
            for (QdiscInfo q : qdiscs(port)) {
                if (q.isIngress()) ns.tc("remove ingress shaping", port, "qdisc", "del", "dev", port, "handle", INGRESS_HANDLE, "ingress");
            }
        }
        ns.deleteLink(ifb);
    }

    void delRootIfCustom(String dev) {
        for (QdiscInfo q : qdiscs(dev)) {
            if (q.root() && !q.isDefault()) {
                ns.tc("remove shaping", dev, "qdisc", "del", "dev", dev, "root");
                return;
            }
        }
    }
}
