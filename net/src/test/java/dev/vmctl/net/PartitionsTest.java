package dev.vmctl.net;

import dev.vmctl.host.Cmd;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Partitions on real namespaces: a and b share segment 1, c is on segment 2 behind a router, so a partition has
 * to stop both bridged (a–b) and routed (a–c) traffic. Namespaces play the guests; all are deleted afterwards.
 */
@Timeout(90)
class PartitionsTest {
    private static final String NET1 = "0000dd01";
    private static final String NET2 = "0000dd02";
    private static final String BR1 = NetNames.bridge(NET1);
    private static final String BR2 = NetNames.bridge(NET2);
    private static final String A = "198.18.1.10", B = "198.18.1.11", C = "198.18.2.10";
    private static final String PORT_A = "vt00000000d10", PORT_B = "vt00000000d20", PORT_C = "vt00000000d30";

    private NsHarness h;
    private Fabric fabric;
    private Partitions parts;
    private Netns a, b, c;

    @BeforeEach
    void setUp() {
        NsHarness.requireRoot();
        assumeTrue(Cmd.available("nft"), "needs nft (package nftables)");
        h = new NsHarness();
        fabric = h.fabric();
        fabric.ensureBridge(BR1);
        fabric.ensureBridge(BR2);
        RouterNs router = h.router(fabric);
        router.connect(NET1, BR1, Ipam.of("198.18.1.0/24"));
        router.connect(NET2, BR2, Ipam.of("198.18.2.0/24"));
        a = h.guest("a", fabric, BR1, PORT_A, A + "/24", "198.18.1.1");
        b = h.guest("b", fabric, BR1, PORT_B, B + "/24", "198.18.1.1");
        c = h.guest("c", fabric, BR2, PORT_C, C + "/24", "198.18.2.1");
        parts = new Partitions(fabric.netns());
        assertAllReach("before any partition");
    }

    @AfterEach
    void tearDown() {
        if (h != null) h.close();   // asserts nothing is left; the nft tables go with the fabric namespace
    }

    @Test
    void aPartitionDropsBothWaysBetweenTheGroupsOnlyAndLinksStayUp() {
        assertThat(parts.list()).isEmpty();
        parts.apply("split1", List.of(A), List.of(B, C));
        parts.apply("split1", List.of(A), List.of(B, C));      // idempotent
        assertThat(parts.list()).containsExactly("split1");

        assertThat(NsHarness.ping(a, B)).as("a → b (same bridge)").isFalse();
        assertThat(NsHarness.ping(b, A)).as("b → a (same bridge)").isFalse();
        assertThat(NsHarness.ping(a, C)).as("a → c (routed)").isFalse();
        assertThat(NsHarness.ping(c, A)).as("c → a (routed)").isFalse();
        assertThat(NsHarness.reaches(b, C)).as("b → c: same group").isTrue();
        assertThat(NsHarness.reaches(c, B)).as("c → b: same group").isTrue();
        assertThat(NsHarness.reaches(a, "198.18.1.1")).as("a still reaches its gateway: not in group B").isTrue();
        for (String port : List.of(PORT_A, PORT_B, PORT_C)) {
            assertThat(fabric.netns().link(port)).get().as(port).satisfies(l -> {
                assertThat(l.adminUp()).isTrue();
                assertThat(l.lowerUp()).isTrue();
            });
        }
        String rules = fabric.netns().exec(List.of("nft", "list", "table", "bridge", "vmctl_part_split1")).stdout();
        assertThat(rules).contains("hook forward", "ip saddr 198.18.1.10 ip daddr { 198.18.1.11, 198.18.2.10 } drop",
                "ip saddr { 198.18.1.11, 198.18.2.10 } ip daddr 198.18.1.10 drop");

        parts.remove("split1");
        parts.remove("split1");                            // idempotent
        assertThat(parts.list()).isEmpty();
        assertAllReach("after unpartition");
    }

    @Test
    void reapplyingAnIdReplacesItAndPartitionsAreIndependent() {
        parts.apply("p1", List.of(A), List.of(B, C));
        parts.apply("p1", List.of(A, B), List.of(C));           // replaces: a–b heals, b–c splits
        assertThat(NsHarness.reaches(a, B)).as("a → b after the replacement").isTrue();
        assertThat(NsHarness.ping(b, C)).as("b → c after the replacement").isFalse();
        assertThat(NsHarness.ping(a, C)).isFalse();

        parts.apply("p2", List.of(C), List.of("198.18.1.0/24"));   // a prefix: c against all of segment 1
        assertThat(parts.list()).containsExactly("p1", "p2");
        parts.remove("p1");
        assertThat(NsHarness.reaches(a, B)).as("a → b without p1").isTrue();
        assertThat(NsHarness.ping(b, C)).as("b → c: p2 still holds").isFalse();
        assertThat(NsHarness.ping(c, A)).as("c → a: p2 still holds").isFalse();
        parts.remove("p2");
        assertAllReach("after both are gone");
    }

    @Test
    void theyGoWithTheFabric() {
        parts.apply("gone", List.of(A), List.of(B));
        fabric.destroy();
        assertThat(parts.list()).isEmpty();
        parts.remove("gone");                              // nothing there: fine
    }

    @Test
    void theHostProbeFindsTheBridgeFamily() {
        var nft = dev.vmctl.host.HostCapabilities.probe().get("nftBridge");
        assertThat(nft.available()).as(nft.detail()).isTrue();
        assertThat(Partitions.mechanism(nft.available(), nft.detail())).startsWith("nftables bridge-family");
    }

    @Test
    void badInputIsInvalidAndChangesNothing() {
        assertInvalid(() -> parts.apply("Bad-Id", List.of(A), List.of(B)), "partition id");
        assertInvalid(() -> parts.apply("x".repeat(25), List.of(A), List.of(B)), "partition id");
        assertInvalid(() -> parts.remove(""), "partition id");
        assertInvalid(() -> parts.apply("p", List.of(), List.of(B)), "ipsA");
        assertInvalid(() -> parts.apply("p", List.of(A), List.of("198.18.1.300")), "ipsB");
        assertInvalid(() -> parts.apply("p", List.of(A), List.of("example.com")), "ipsB");
        assertInvalid(() -> parts.apply("p", List.of("198.18.1.5/24"), List.of(B)), "ipsA");
        assertInvalid(() -> parts.apply("p", List.of(A, B), List.of(B)), "ipsB");
        assertThat(parts.list()).isEmpty();
    }

    private static void assertInvalid(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String field) {
        assertThatThrownBy(call).isInstanceOfSatisfying(VmctlException.class, e -> {
            assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
            assertThat(e.getMessage()).contains(field);
        });
    }

    private void assertAllReach(String when) {
        assertThat(NsHarness.reaches(a, B)).as("a → b " + when).isTrue();
        assertThat(NsHarness.reaches(b, A)).as("b → a " + when).isTrue();
        assertThat(NsHarness.reaches(a, C)).as("a → c " + when).isTrue();
        assertThat(NsHarness.reaches(c, A)).as("c → a " + when).isTrue();
        assertThat(NsHarness.reaches(b, C)).as("b → c " + when).isTrue();
    }
}
