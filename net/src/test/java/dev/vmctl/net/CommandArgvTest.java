package dev.vmctl.net;

import dev.vmctl.host.HostCapabilities.Capability;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The commands built for paths this host cannot run (netem, VLAN filtering, NAT) and for shaping. */
class CommandArgvTest {
    private static final Netns NS = Netns.of("vmctl-3fa2c1d0");
    private static final String TAP = "vt0123456789ab0";
    private static final String IFB = "vi0123456789ab0";

    @Test
    void egressTbf() {
        assertThat(Shaper.rootTbfArgv(NS, TAP, 10_000_000)).containsExactly(
                "tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", TAP, "root", "handle", "1:",
                "tbf", "rate", "10000000bit", "burst", "5000", "latency", "400ms");
    }

    @Test
    void burstIsOneTickOfTheRateButAtLeast32kbit() {
        assertThat(Shaper.burstBytes(1_000_000)).isEqualTo(4_000);
        assertThat(Shaper.burstBytes(10_000_000)).isEqualTo(5_000);
        assertThat(Shaper.burstBytes(100_000_000)).isEqualTo(50_000);
    }

    @Test
    void ingressRedirectToIfb() {
        assertThat(Shaper.ingressRedirectArgv(NS, TAP, IFB)).containsExactly(
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", TAP, "handle", "ffff:", "ingress"),
                List.of("tc", "-n", "vmctl-3fa2c1d0", "filter", "replace", "dev", TAP, "parent", "ffff:", "protocol", "all",
                        "pref", "1", "handle", "800::800", "u32", "match", "u32", "0", "0",
                        "action", "mirred", "egress", "redirect", "dev", IFB));
    }

    @Test
    void ifbGetsTbfAloneWithoutNetem() {
        assertThat(Shaper.ifbQdiscArgv(NS, IFB, LinkShape.rate(2_000_000))).containsExactly(
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", IFB, "root", "handle", "1:",
                        "tbf", "rate", "2000000bit", "burst", "4000", "latency", "400ms"));
    }

    @Test
    void netemWithRateIsNetemAtTheRootAndTbfBelow() {
        var netem = new LinkShape.Netem(Duration.ofMillis(50), Duration.ofMillis(10), 1.5, 0.1, 2);
        var shape = new LinkShape(0, 5_000_000, netem);
        assertThat(Shaper.ifbQdiscArgv(NS, IFB, shape)).containsExactly(
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", IFB, "root", "handle", "1:",
                        "netem", "delay", "50ms", "10ms", "loss", "1.5%", "corrupt", "0.1%", "duplicate", "2%", "limit", "10000"),
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", IFB, "parent", "1:1", "handle", "10:",
                        "tbf", "rate", "5000000bit", "burst", "4000", "latency", "400ms"));
    }

    @Test
    void netemAloneAndFractionalDelays() {
        var shape = new LinkShape(0, 0, LinkShape.Netem.delay(Duration.ofNanos(1_500_000)));
        assertThat(shape.shapesFromGuest()).isTrue();
        assertThat(Shaper.ifbQdiscArgv(NS, IFB, shape)).containsExactly(
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", IFB, "root", "handle", "1:",
                        "netem", "delay", "1500us", "limit", "10000"));
        assertThat(Shaper.netemParams(new LinkShape.Netem(null, null, 100, 0, 0)))
                .containsExactly("netem", "loss", "100%", "limit", "10000");
    }

    @Test
    void netemTowardsTheGuestIsNetemAtTheTapsRootAndTbfBelow() {
        var netem = LinkShape.Netem.delay(Duration.ofMillis(100));
        var shape = new LinkShape(5_000_000, 5_000_000, null, netem);
        assertThat(shape.shapesFromGuest()).as("the ifb only carries the rate").isTrue();
        assertThat(shape.hasNetem()).isTrue();
        assertThat(Shaper.tapQdiscArgv(NS, TAP, shape)).containsExactly(
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", TAP, "root", "handle", "1:",
                        "netem", "delay", "100ms", "limit", "10000"),
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", TAP, "parent", "1:1", "handle", "10:",
                        "tbf", "rate", "5000000bit", "burst", "4000", "latency", "400ms"));
        assertThat(Shaper.ifbQdiscArgv(NS, IFB, shape)).containsExactly(
                List.of("tc", "-n", "vmctl-3fa2c1d0", "qdisc", "replace", "dev", IFB, "root", "handle", "1:",
                        "tbf", "rate", "5000000bit", "burst", "4000", "latency", "400ms"));
        assertThat(Shaper.tapQdiscArgv(NS, TAP, new LinkShape(0, 0, null, netem))).hasSize(1);
        assertThat(new LinkShape(0, 0, null, new LinkShape.Netem(null, null, 0, 0, 0))).isEqualTo(LinkShape.NONE);
    }

    @Test
    void partitionScriptIsOneTransactionDroppingBothWays() {
        assertThat(Partitions.table("split1")).isEqualTo("vmctl_part_split1");
        assertThat(Partitions.script("vmctl_part_split1", List.of("198.18.1.10"), List.of("198.18.1.11", "198.18.2.0/24"))).isEqualTo("""
                table bridge vmctl_part_split1
                delete table bridge vmctl_part_split1
                table bridge vmctl_part_split1 {
                  chain forward {
                    type filter hook forward priority filter; policy accept;
                    ip saddr { 198.18.1.10 } ip daddr { 198.18.1.11, 198.18.2.0/24 } drop
                    ip saddr { 198.18.1.11, 198.18.2.0/24 } ip daddr { 198.18.1.10 } drop
                  }
                }
                """);
        assertThat(Partitions.group("ipsA", List.of(" 198.18.1.10", "198.18.1.10", "198.18.3.4/32", "198.18.0.0/15")))
                .containsExactly("198.18.1.10", "198.18.3.4", "198.18.0.0/15");
    }

    @Test
    void partitionsAreReadFromNftJson() throws Exception {
        var doc = HostCmd.JSON.readTree("""
                {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
                 {"table": {"family": "bridge", "name": "vmctl_part_zz", "handle": 3}},
                 {"table": {"family": "bridge", "name": "vmctl_part_a1", "handle": 1}},
                 {"table": {"family": "ip", "name": "vmctl_part_ip", "handle": 2}},
                 {"table": {"family": "bridge", "name": "someone_else", "handle": 4}}]}""");
        assertThat(Partitions.ids(doc)).containsExactly("a1", "zz");
        assertThat(Partitions.ids(HostCmd.JSON.createArrayNode())).isEmpty();
    }

    @Test
    void partitionMechanismSaysWhatToInstall() {
        assertThat(Partitions.mechanism(true, null)).startsWith("nftables bridge-family forward chain");
        assertThat(Partitions.mechanism(false, "nftables bridge family (partitions) unavailable: nft is not installed"))
                .startsWith("unavailable: nftables bridge family (partitions) unavailable: nft is not installed; ");
    }

    @Test
    void netemIsRefusedWhenTheHostHasNone() {
        Shaper shaper = Shaper.forHost(NS, Map.of("netem", new Capability(false, "tc netem on the host unavailable")));
        assertThat(shaper.hostNetem()).isFalse();
        assertThatThrownBy(() -> shaper.apply(TAP, new LinkShape(0, 0, LinkShape.Netem.delay(Duration.ofMillis(5)))))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).isEqualTo("shape link: " + TAP + " in vmctl-3fa2c1d0: netem is not available in this host's kernel");
                });
        assertThat(Shaper.forHost(NS, Map.of("netem", new Capability(true, "x"))).hostNetem()).isTrue();
    }

    @Test
    void shapesAreValidated() {
        assertThatThrownBy(() -> LinkShape.rate(100)).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> new LinkShape.Netem(Duration.ZERO, Duration.ofMillis(1), 0, 0, 0)).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> new LinkShape.Netem(null, null, 101, 0, 0)).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> new LinkShape.Netem(null, null, Double.NaN, 0, 0)).isInstanceOf(VmctlException.class);
        assertThat(new LinkShape(0, 0, new LinkShape.Netem(null, null, 0, 0, 0))).isEqualTo(LinkShape.NONE);
        assertThat(LinkShape.NONE.isEmpty()).isTrue();
    }

    @Test
    void vlanFilteringBridgeAndPorts() {
        assertThat(Fabric.bridgeCreateArgv(NS, "vb5e6f7a8b", true)).containsExactly(
                "ip", "-n", "vmctl-3fa2c1d0", "link", "add", "name", "vb5e6f7a8b", "type", "bridge",
                "stp_state", "0", "mcast_snooping", "0", "vlan_filtering", "1", "vlan_default_pvid", "0");
        assertThat(Fabric.bridgeCreateArgv(NS, "vb5e6f7a8b", false)).doesNotContain("vlan_filtering");
        assertThat(Fabric.portVlanArgv(NS, TAP, 20, List.of(1, 20, 30))).containsExactly(
                List.of("bridge", "-n", "vmctl-3fa2c1d0", "vlan", "del", "dev", TAP, "vid", "1"),
                List.of("bridge", "-n", "vmctl-3fa2c1d0", "vlan", "del", "dev", TAP, "vid", "30"),
                List.of("bridge", "-n", "vmctl-3fa2c1d0", "vlan", "add", "dev", TAP, "vid", "20", "pvid", "untagged"));
        assertThat(Fabric.portVlanArgv(NS, TAP, 20, List.of())).containsExactly(
                List.of("bridge", "-n", "vmctl-3fa2c1d0", "vlan", "add", "dev", TAP, "vid", "20", "pvid", "untagged"));
    }

    @Test
    void vlanMechanismFollowsTheProbe() {
        assertThat(Fabric.forHost("vmctl-x", Map.of("bridgeVlanFiltering", new Capability(true, "ok"))).vlanMechanism())
                .isEqualTo("bridge-vlan-filtering");
        assertThat(Fabric.forHost("vmctl-x", Map.of("bridgeVlanFiltering", new Capability(false, "no"))).vlanMechanism())
                .isEqualTo("bridge-per-vlan");
        assertThat(Fabric.forHost("vmctl-x", Map.of()).vlanMechanism()).isEqualTo("bridge-per-vlan");
    }

    @Test
    void routerVeth() {
        assertThat(RouterNs.vethArgv(Netns.of("vmctl-r-0a1b2c3d"), "r5e6f7a8b", "vr5e6f7a8b0a1b2", "vmctl-3fa2c1d0")).containsExactly(
                "ip", "-n", "vmctl-r-0a1b2c3d", "link", "add", "name", "r5e6f7a8b", "type", "veth",
                "peer", "name", "vr5e6f7a8b0a1b2", "netns", "vmctl-3fa2c1d0");
    }

    @Test
    void natUplinkPlan() {
        Netns r = Netns.of("vmctl-r-0a1b2c3d");
        RouterNs.NatPlan plan = RouterNs.natPlan(r, "0a1b2c3d", Ipam.of("198.19.255.252/30"));
        assertThat(plan.hostCommands()).containsExactly(
                List.of("ip", "link", "add", "name", "vu0a1b2c3d", "type", "veth", "peer", "name", "u0a1b2c3d", "netns", "vmctl-r-0a1b2c3d"),
                List.of("ip", "addr", "replace", "198.19.255.253/30", "dev", "vu0a1b2c3d"),
                List.of("ip", "link", "set", "dev", "vu0a1b2c3d", "up"));
        assertThat(plan.routerCommands()).containsExactly(
                List.of("ip", "-n", "vmctl-r-0a1b2c3d", "addr", "replace", "198.19.255.254/30", "dev", "u0a1b2c3d"),
                List.of("ip", "-n", "vmctl-r-0a1b2c3d", "link", "set", "dev", "u0a1b2c3d", "up"),
                List.of("ip", "-n", "vmctl-r-0a1b2c3d", "route", "replace", "default", "via", "198.19.255.253"));
        assertThat(plan.routerNftScript()).contains("oifname \"u0a1b2c3d\" masquerade").contains("delete table ip vmctl_nat");
        assertThat(plan.hostNftScript()).contains("table ip vmctl_uplink_0a1b2c3d {")
                .contains("ip saddr 198.19.255.252/30 oifname != \"vu0a1b2c3d\" masquerade");
    }

    @Test
    void natUplinkRefusesUnlessAskedExplicitly() {
        RouterNs router = new RouterNs("0a1b2c3d", new Fabric("vmctl-3fa2c1d0", false));
        assertThatThrownBy(() -> router.enableNatUplink(new RouterNs.NatUplink("198.19.255.252/30", false)))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("refused");
                });
        assertThatThrownBy(() -> router.disableNatUplink(false)).isInstanceOf(VmctlException.class);
    }
}
