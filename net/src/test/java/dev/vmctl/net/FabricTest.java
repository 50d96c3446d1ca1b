package dev.vmctl.net;

import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real namespaces, bridges, veths and taps; namespaces play the guests. */
@Timeout(60)
class FabricTest {
    private static final String NET1 = "0000aa01";
    private static final String NET2 = "0000aa02";
    private static final String BR1 = NetNames.bridge(NET1);
    private static final String BR2 = NetNames.bridge(NET2);

    private NsHarness h;
    private Fabric fabric;

    @BeforeEach
    void setUp() {
        NsHarness.requireRoot();
        h = new NsHarness();
        fabric = h.fabric();
        fabric.ensureBridge(BR1);
        fabric.ensureBridge(BR2);
    }

    @AfterEach
    void tearDown() {
        if (h != null) h.close();   // asserts nothing is left
    }

    @Test
    void namespaceLifecycleIsIdempotent() {
        Netns ns = Netns.of(h.prefix + "-x");
        assertThat(ns.exists()).isFalse();
        ns.ensure();
        ns.ensure();
        assertThat(ns.exists()).isTrue();
        assertThat(Netns.list(h.prefix)).contains(ns.name(), fabric.name());
        assertThat(ns.link("lo")).get().satisfies(lo -> assertThat(lo.adminUp()).isTrue());
        ns.delete();
        ns.delete();
        assertThat(ns.exists()).isFalse();
        assertThat(Netns.list(h.prefix)).doesNotContain(ns.name());
    }

    @Test
    void fabricHasNoForwardingAndNoIpv6AndBridgesAreListed() {
        assertThat(fabric.netns().exec(List.of("sysctl", "-n", "net.ipv4.ip_forward")).stdout().strip()).isEqualTo("0");
        assertThat(fabric.netns().exec(List.of("sysctl", "-n", "net.ipv6.conf.all.disable_ipv6")).stdout().strip()).isEqualTo("1");
        fabric.ensure();                 // idempotent
        fabric.ensureBridge(BR1);        // idempotent
        assertThat(fabric.vmctlLinks()).extracting(LinkInfo::name).containsExactlyInAnyOrder(BR1, BR2);
        assertThat(fabric.netns().link(BR1)).get().satisfies(b -> {
            assertThat(b.isBridge()).isTrue();
            assertThat(b.adminUp()).isTrue();
        });
        assertThat(fabric.netns().ipv4Addresses(BR1)).isEmpty();
        fabric.deleteBridge(BR2);
        fabric.deleteBridge(BR2);
        assertThat(fabric.vmctlLinks()).extracting(LinkInfo::name).containsExactly(BR1);
        assertThat(fabric.vlanMechanism()).isEqualTo(Fabric.BRIDGE_PER_VLAN);
    }

    @Test
    void segmentsAreIsolatedAndARouterJoinsThem() {
        Netns a1 = h.guest("a1", fabric, BR1, "vt00000000a10", "198.18.1.10/24", "198.18.1.1");
        Netns a2 = h.guest("a2", fabric, BR1, "vt00000000a20", "198.18.1.11/24", "198.18.1.1");
        Netns b1 = h.guest("b1", fabric, BR2, "vt00000000b10", "198.18.2.10/24", "198.18.2.1");
        // an address of segment 1's subnet, but plugged into segment 2: only L2 isolation keeps it apart
        Netns b2 = h.guest("b2", fabric, BR2, "vt00000000b20", "198.18.1.20/24", null);

        assertThat(NsHarness.reaches(a1, "198.18.1.11")).isTrue();
        assertThat(NsHarness.reaches(a2, "198.18.1.10")).isTrue();
        assertThat(NsHarness.ping(a1, "198.18.1.20")).as("segment 1 -> segment 2 (same subnet)").isFalse();
        assertThat(NsHarness.ping(b2, "198.18.1.10")).as("segment 2 -> segment 1 (same subnet)").isFalse();
        assertThat(NsHarness.ping(a1, "198.18.2.10")).as("no router: 1 -> 2").isFalse();
        assertThat(NsHarness.ping(b1, "198.18.1.10")).as("no router: 2 -> 1").isFalse();
        assertThat(fabric.ports(BR1)).containsExactlyInAnyOrder("vt00000000a10", "vt00000000a20");

        RouterNs router = h.router(fabric);
        router.connect(NET1, BR1, Ipam.of("198.18.1.0/24"));
        router.connect(NET2, BR2, Ipam.of("198.18.2.0/24"));
        router.connect(NET2, BR2, Ipam.of("198.18.2.0/24"));   // idempotent
        assertThat(router.netns().exec(List.of("sysctl", "-n", "net.ipv4.ip_forward")).stdout().strip()).isEqualTo("1");
        assertThat(router.connectedNets()).containsExactlyInAnyOrder(NET1, NET2);
        assertThat(router.netns().ipv4Addresses(NetNames.routerPort(NET1))).containsExactly("198.18.1.1/24");
        String peer1 = NetNames.routerPeer(router.routerId(), NET1);
        assertThat(fabric.netns().link(peer1)).get().satisfies(l -> {
            assertThat(l.master()).isEqualTo(BR1);
            assertThat(l.alias()).isEqualTo("vmctl router=" + router.routerId() + " net=" + NET1);
        });

        assertThat(NsHarness.reaches(a1, "198.18.2.10")).as("routed 1 -> 2").isTrue();
        assertThat(NsHarness.reaches(b1, "198.18.1.11")).as("routed 2 -> 1").isTrue();
        assertThat(NsHarness.ping(a1, "198.18.1.20")).as("b2 has no route back").isFalse();

        // a changed gateway replaces the old address
        router.connect(NET2, BR2, "198.18.2.254/24");
        assertThat(router.netns().ipv4Addresses(NetNames.routerPort(NET2))).containsExactly("198.18.2.254/24");
        router.connect(NET2, BR2, "198.18.2.1/24");

        router.disconnect(NET2);
        router.disconnect(NET2);
        assertThat(fabric.netns().hasLink(NetNames.routerPeer(router.routerId(), NET2))).isFalse();
        assertThat(NsHarness.ping(a1, "198.18.2.10")).as("disconnected").isFalse();
        router.connect(NET2, BR2, Ipam.of("198.18.2.0/24"));
        assertThat(NsHarness.reaches(a1, "198.18.2.10")).as("reconnected").isTrue();

        router.destroy();
        router.destroy();
        assertThat(router.exists()).isFalse();
        assertThat(fabric.vmctlLinks()).extracting(LinkInfo::name).noneMatch(n -> n.startsWith("vr"));
        assertThat(NsHarness.ping(a1, "198.18.2.10")).as("router gone: 1 -> 2").isFalse();
        assertThat(NsHarness.ping(b1, "198.18.1.10")).as("router gone: 2 -> 1").isFalse();
    }

    @Test
    void destroyingTheFabricTakesTheRoutersLinksAlong() {
        RouterNs router = h.router(fabric);
        router.connect(NET1, BR1, Ipam.of("198.18.1.0/24"));
        assertThat(router.connectedNets()).containsExactly(NET1);
        fabric.destroy();
        fabric.destroy();
        assertThat(fabric.exists()).isFalse();
        assertThat(router.connectedNets()).isEmpty();
        assertThat(router.exists()).isTrue();
    }

    @Test
    void staticRoutesInTheRouter() {
        RouterNs router = h.router(fabric);
        router.connect(NET1, BR1, Ipam.of("198.18.1.0/24"));
        router.replaceRoute("198.18.50.0/24", "198.18.1.254");
        router.replaceRoute("198.18.50.0/24", "198.18.1.253");   // replace, not add
        assertThat(router.routes()).filteredOn(RouteInfo::isStatic)
                .containsExactly(new RouteInfo("198.18.50.0/24", "198.18.1.253", NetNames.routerPort(NET1), "boot", "universe"));
        assertThatThrownBy(() -> router.replaceRoute("198.18.60.0/24", "198.18.9.9"))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
                    assertThat(e.detail()).contains("198.18.1.0/24");
                });
        assertThatThrownBy(() -> router.replaceRoute("198.18.60.1/24", "198.18.1.9"))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.getMessage()).contains("198.18.60.0/24"));
        router.deleteRoute("198.18.50.0/24");
        router.deleteRoute("198.18.50.0/24");
        assertThat(router.routes()).filteredOn(RouteInfo::isStatic).isEmpty();
    }

    @Test
    void movingAPortChangesReachability() {
        Netns a1 = h.guest("a1", fabric, BR1, "vt00000000a10", "198.18.1.10/24", null);
        Netns a2 = h.guest("a2", fabric, BR1, "vt00000000a20", "198.18.1.11/24", null);
        assertThat(NsHarness.reaches(a1, "198.18.1.11")).isTrue();

        fabric.attach("vt00000000a20", BR2, null);
        assertThat(fabric.ports(BR2)).containsExactly("vt00000000a20");
        assertThat(NsHarness.ping(a1, "198.18.1.11")).as("moved away").isFalse();

        fabric.attach("vt00000000a20", BR1, null);
        assertThat(NsHarness.reaches(a2, "198.18.1.10")).as("moved back").isTrue();

        fabric.detach("vt00000000a20");
        fabric.detach("vt00000000a20");
        assertThat(fabric.netns().link("vt00000000a20")).get().satisfies(l -> assertThat(l.master()).isNull());
        assertThat(NsHarness.ping(a1, "198.18.1.11")).as("detached").isFalse();
    }

    @Test
    void hostSideLinkDownStopsTraffic() {
        Netns a1 = h.guest("a1", fabric, BR1, "vt00000000a10", "198.18.1.10/24", null);
        h.guest("a2", fabric, BR1, "vt00000000a20", "198.18.1.11/24", null);
        assertThat(NsHarness.reaches(a1, "198.18.1.11")).isTrue();
        fabric.setUp("vt00000000a20", false);
        assertThat(fabric.netns().link("vt00000000a20")).get().satisfies(l -> assertThat(l.adminUp()).isFalse());
        assertThat(NsHarness.ping(a1, "198.18.1.11")).isFalse();
        fabric.setUp("vt00000000a20", true);
        assertThat(NsHarness.reaches(a1, "198.18.1.11")).isTrue();
    }

    @Test
    void tapLifecycle() {
        String tap = NetNames.tap("0123456789ab", 0);
        fabric.ensureTap(tap, BR1);
        fabric.ensureTap(tap, BR1);      // idempotent
        assertThat(fabric.netns().link(tap)).get().satisfies(l -> {
            assertThat(l.isTap()).isTrue();
            assertThat(l.master()).isEqualTo(BR1);
            assertThat(l.adminUp()).isTrue();
            assertThat(l.lowerUp()).as("no QEMU attached: no carrier").isFalse();
        });
        fabric.attach(tap, BR2, 7);      // bridge-per-vlan: the VLAN is the caller's bookkeeping
        assertThat(fabric.ports(BR2)).containsExactly(tap);
        fabric.setUp(tap, false);
        assertThat(fabric.netns().link(tap)).get().satisfies(l -> assertThat(l.adminUp()).isFalse());
        fabric.deleteLink(tap);
        fabric.deleteLink(tap);
        assertThat(fabric.netns().hasLink(tap)).isFalse();
        assertThat(fabric.ports(BR2)).isEmpty();
    }

    @Test
    void aVmTapInTwoCommandsCreatedOnceThenReused() {
        String tap = NetNames.tap("0123456789ab", 2);
        assertThat(fabric.ensureTap(tap, BR1, null, false)).as("created").isTrue();
        assertThat(fabric.netns().link(tap)).get().satisfies(l -> {
            assertThat(l.isTap()).isTrue();
            assertThat(l.master()).isEqualTo(BR1);
            assertThat(l.adminUp()).as("asked down").isFalse();
        });
        assertThat(fabric.ensureTap(tap, BR2, null, true)).as("there already: reused").isFalse();
        assertThat(fabric.netns().link(tap)).get().satisfies(l -> {
            assertThat(l.master()).isEqualTo(BR2);
            assertThat(l.adminUp()).isTrue();
        });
        fabric.deleteLink(tap);
        assertThatThrownBy(() -> fabric.ensureTap(BR1, BR2, null, true)).as("a bridge has that name").hasMessageContaining("a bridge link has that name");
    }

    @Test
    void failuresSayOperationSubjectAndCause() {
        String tap = NetNames.tap("0123456789ab", 1);
        fabric.createTap(tap);
        assertThatThrownBy(() -> fabric.attach(tap, "vbffffffff", null))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INTERNAL);
                    assertThat(e.getMessage()).startsWith("attach port: " + tap + " to vbffffffff in " + fabric.name() + ": ip -n ")
                            .contains("exit ");
                    assertThat(e.detail()).isNotBlank();
                });
        assertThatThrownBy(() -> fabric.createTap(BR1)).isInstanceOfSatisfying(VmctlException.class,
                e -> assertThat(e.kind()).isEqualTo(VmctlException.Kind.CONFLICT));
        RouterNs router = h.router(fabric);
        assertThatThrownBy(() -> router.connect(NET1, "vbffffffff", "198.18.1.1/24"))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(VmctlException.Kind.NOT_FOUND));
    }

    @Test
    void probedHostPicksAVlanMechanism() {
        Map<String, HostCapabilities.Capability> caps = HostCapabilities.probe();
        Fabric f = Fabric.forHost(fabric.name(), caps);
        boolean filtering = caps.get("bridgeVlanFiltering").available();
        assertThat(f.vlanMechanism()).isEqualTo(filtering ? Fabric.VLAN_FILTERING : Fabric.BRIDGE_PER_VLAN);
        if (filtering) {
            // only where the kernel has it: a filtering bridge, the port's only VLAN is 20, pvid + untagged
            String br = NetNames.bridge("0000aa03");
            f.ensureBridge(br);
            String tap = NetNames.tap("0123456789ab", 2);
            f.ensureTap(tap, br, 20);
            f.ensureTap(tap, br, 20);
            assertThat(f.portVlans(tap)).containsExactly(20);
            f.attach(tap, br, 30);
            assertThat(f.portVlans(tap)).containsExactly(30);
        }
    }
}
