package dev.vmctl.engine;

import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.Impairment;
import dev.vmctl.net.Fabric;
import dev.vmctl.net.LinkInfo;
import dev.vmctl.net.LinkShape;
import dev.vmctl.net.NetNames;
import dev.vmctl.net.Netns;
import dev.vmctl.net.Partitions;
import dev.vmctl.net.RouterNs;
import dev.vmctl.net.Shaper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** {@link HostNet} on Linux bridges, taps, veths and tc in vmctl-owned namespaces (the net module). */
public final class LinuxHostNet implements HostNet {
    private final Fabric fabric;
    private final Shaper shaper;
    private final Partitions partitions;
    private final HostCapabilities.Capability nftBridge;
    private final String routerPrefix;
    private final Map<String, HostCapabilities.Capability> caps;
    /** true for a segment's namespace ({@link #in}): its settings are the segment's, and it is not removed from here */
    private final boolean scoped;

    public LinuxHostNet(String fabricName, Map<String, HostCapabilities.Capability> caps) {
        this(fabricName, caps, false);
    }

    private LinuxHostNet(String fabricName, Map<String, HostCapabilities.Capability> caps, boolean scoped) {
        this.caps = caps;
        this.scoped = scoped;
        this.fabric = Fabric.forHost(fabricName, caps);
        this.shaper = Shaper.forHost(fabric.netns(), caps);
        this.partitions = new Partitions(fabric.netns());
        HostCapabilities.Capability nft = caps == null ? null : caps.get("nftBridge");
        this.nftBridge = nft != null ? nft : Partitions.nftInstalled()
                ? new HostCapabilities.Capability(true, "nft installed (bridge family not probed)")
                : new HostCapabilities.Capability(false, "nft is not installed");
        this.routerPrefix = dev.vmctl.net.NetNames.routerPrefix(fabricName);
    }

    /** The fabric namespace of a data directory: "vmctl-" + 8 hex digits of SHA-256 of its path. */
    public static String fabricName(Path dataDir) {
        return dev.vmctl.net.NetNames.fabric(dataDir);
    }

    @Override
    public String routerNs(String routerId) {
        return dev.vmctl.net.NetNames.routerNs(fabric(), routerId);
    }

    @Override
    public String routerPrefix() {
        return routerPrefix;
    }

    private RouterNs router(String netns) {
        if (!netns.startsWith(routerPrefix)) throw new IllegalArgumentException("not a router of " + fabric.name() + ": " + netns);
        return new RouterNs(netns.substring(routerPrefix.length()), netns, fabric);
    }

    @Override public String fabric() { return fabric.name(); }
    @Override public boolean fabricExists() { return fabric.exists(); }

    @Override
    public void ensureFabric() {
        // set up once per server (loopback, sysctls: processes on the path of every boot), then only checked to exist
        if (fabricReady && fabric.exists()) return;
        if (scoped) fabric.netns().ensure(); else fabric.ensure();
        fabricReady = true;
    }

    private volatile boolean fabricReady;

    @Override
    public void destroyFabric() {
        fabricReady = false;
        if (!scoped) fabric.destroy();
    }

    /** A view of a segment's namespace (plain objects, no command runs to make one). */
    @Override
    public HostNet in(String netns) {
        return netns.equals(fabric.name()) ? this : new LinuxHostNet(netns, caps, true);
    }

    /** The capabilities this host was probed with (segments read the VPN mechanism from them). */
    Map<String, HostCapabilities.Capability> capabilities() {
        return caps;
    }

    @Override public void ensureBridge(String bridge, Integer vlan) { fabric.ensureBridge(bridge); }
    @Override public void deleteBridge(String bridge) { if (fabric.exists()) fabric.deleteBridge(bridge); }

    @Override
    public boolean ensureTap(String tap, String bridge, Integer vlan, boolean up) {
        return fabric.ensureTap(tap, bridge, vlan, up);
    }

    @Override public void setTapUp(String tap, boolean up) { fabric.setUp(tap, up); }

    @Override
    public void deleteTap(String tap) {
        if (!fabric.exists()) return;
        fabric.deleteLink(NetNames.ifbFor(tap));
        fabric.deleteLink(tap);
    }

    @Override
    public String applyRate(String tap, long rateKbit) {
        shaper.apply(tap, LinkShape.rate(rateKbit * 1000));
        return "tbf on the tap (host→guest) and on an ifb for its ingress (guest→host)";
    }

    @Override
    public String applyHostNetem(String tap, Impairment i) {
        shaper.apply(tap, hostShape(i));
        return switch (i.dir()) {
            case EGRESS -> "netem on the host (what the guest sends)";
            case INGRESS -> "netem on the host (what the guest receives)";
            case BOTH -> "netem on the host (what the guest sends and what it receives)";
        };
    }

    @Override
    public String shapeToGuest(String tap, Impairment i) {
        LinkShape s = i == null ? LinkShape.NONE : hostShape(i);
        boolean netem = i != null && shaper.hostNetem() && i.netemIngress(); // else the guest impairs itself
        shaper.applyToGuest(tap, new LinkShape(s.toGuestBitsPerSec(), 0, null, netem ? s.netemToGuest() : null));
        return "node egress group (htb on an ifb) for what the guest sends; tbf on the tap for what it receives";
    }

    @Override
    public void applyEgressGroup(String key, long rateKbit, List<EgressMember> members) {
        List<dev.vmctl.net.EgressGroup.Member> m = new java.util.ArrayList<>();
        for (EgressMember e : members) {
            LinkShape.Netem netem = e.netemEgress() == null || !shaper.hostNetem() ? null : hostShape(e.netemEgress()).netem();
            m.add(new dev.vmctl.net.EgressGroup.Member(e.tap(), e.ipv4(), e.ceilKbit() * 1000, netem));
        }
        if (m.isEmpty() && !fabric.exists()) return;
        new dev.vmctl.net.EgressGroup(fabric.netns(), shaper).apply(NetNames.egressIfb(key), rateKbit * 1000, m);
    }

    /** The tap's shape for an impairment: netem on the ifb (egress), at the tap's root (ingress) or both; rate both ways. */
    static LinkShape hostShape(Impairment i) {
        long bps = i.rateKbit() * 1000;
        LinkShape.Netem n = new LinkShape.Netem(Duration.ofMillis(i.delayMs()), Duration.ofMillis(i.jitterMs()),
                i.lossPercent(), i.corruptPercent(), i.duplicatePercent());
        return new LinkShape(bps, bps, i.dir().egress() ? n : null, i.dir().ingress() ? n : null);
    }

    // ---- partitions (nftables, bridge family, in the fabric namespace) ---------------------------------

    @Override
    public void partition(String id, List<String> ipsA, List<String> ipsB) {
        Partitions.checkId(id);
        if (!nftBridge.available()) {
            throw new dev.vmctl.model.VmctlException(dev.vmctl.model.VmctlException.Kind.UNAVAILABLE,
                    "partition " + id + ": " + nftBridge.detail(), Partitions.remedy());
        }
        fabric.ensure();
        partitions.apply(id, ipsA, ipsB);
    }

    @Override public void unpartition(String id) { partitions.remove(id); }
    @Override public List<String> partitions() { return partitions.list(); }
    @Override public String partitionMechanism() { return Partitions.mechanism(nftBridge.available(), nftBridge.detail()); }

    @Override public void clearShaping(String tap) { if (fabric.exists()) shaper.clear(tap); }
    @Override public boolean hostNetem() { return shaper.hostNetem(); }
    @Override public String vlanMechanism() { return fabric.vlanMechanism(); }

    @Override public void ensureRouter(String netns) { router(netns).ensure(); }

    @Override
    public void deleteRouter(String netns) {
        if (netns.startsWith(routerPrefix)) {
            router(netns).destroy();
        } else {
            Netns.of(netns).delete();
        }
    }

    @Override
    public void connectRouter(String netns, String leg, String bridge, String addressCidr) {
        router(netns).connect(leg, bridge, addressCidr);
    }

    @Override public void replaceRoute(String netns, String to, String via) { router(netns).replaceRoute(to, via); }

    @Override
    public List<String> fabricLinks() {
        return fabric.exists() ? fabric.links().stream().map(LinkInfo::name).toList() : List.of();
    }

    @Override public List<String> namespaces(String prefix) { return Netns.list(prefix); }
}
