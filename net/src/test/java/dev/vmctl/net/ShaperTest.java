package dev.vmctl.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Rate shaping on a real veth port (standing in for a tap), measured with a bounded TCP transfer
 * between two namespaces on one segment. g1's port is the shaped one: "to guest" is g2 → g1,
 * "from guest" (the ifb path) is g1 → g2.
 */
@Timeout(60)
class ShaperTest {
    private static final long RATE = 10_000_000;                 // 10 mbit
    private static final int BYTES = 2_500_000;                  // ~2 s at 10 mbit
    private static final String PORT = "vt00000000c10";
    private static final String IFB = NetNames.ifbFor(PORT);

    private NsHarness h;
    private Fabric fabric;
    private Netns g1;
    private Netns g2;
    private Shaper shaper;

    @BeforeEach
    void setUp() {
        NsHarness.requireRoot();
        h = new NsHarness();
        fabric = h.fabric();
        String br = NetNames.bridge("0000cc01");
        fabric.ensureBridge(br);
        g1 = h.guest("g1", fabric, br, PORT, "198.18.5.10/24", null);
        g2 = h.guest("g2", fabric, br, "vt00000000c20", "198.18.5.11/24", null);
        shaper = new Shaper(fabric.netns(), false);
        assertThat(NsHarness.reaches(g1, "198.18.5.11")).isTrue();
    }

    @AfterEach
    void tearDown() {
        if (h != null) h.close();
    }

    @Test
    void rateLimitsBothDirectionsAndClears() throws Exception {
        assumeTrue(NsHarness.haveSocat(), "needs socat");
        double freeTo = NsHarness.transferRate(g2, g1, "198.18.5.10", BYTES);
        double freeFrom = NsHarness.transferRate(g1, g2, "198.18.5.11", BYTES);
        System.out.printf("unshaped: to guest %.1f Mbit/s, from guest %.1f Mbit/s%n", freeTo / 1e6, freeFrom / 1e6);
        assertThat(Math.min(freeTo, freeFrom)).as("unshaped must be well above the limit for this test to mean anything")
                .isGreaterThan(3.0 * RATE);

        shaper.apply(PORT, LinkShape.rate(RATE));
        shaper.apply(PORT, LinkShape.rate(RATE));        // idempotent
        assertThat(shaper.qdiscs(PORT)).anySatisfy(q -> {
            assertThat(q.kind()).isEqualTo("tbf");
            assertThat(q.root()).isTrue();
            assertThat(((Number) q.options().get("rate")).longValue()).isEqualTo(RATE / 8);
        }).anySatisfy(q -> assertThat(q.isIngress()).isTrue());
        assertThat(fabric.netns().link(IFB)).get().satisfies(l -> {
            assertThat(l.kind()).isEqualTo("ifb");
            assertThat(l.adminUp()).isTrue();
        });
        assertThat(shaper.qdiscs(IFB)).anySatisfy(q -> assertThat(q.kind()).isEqualTo("tbf"));

        double to = NsHarness.transferRate(g2, g1, "198.18.5.10", BYTES);
        double from = NsHarness.transferRate(g1, g2, "198.18.5.11", BYTES);
        System.out.printf("shaped %d bit/s: to guest %.2f Mbit/s, from guest %.2f Mbit/s%n", RATE, to / 1e6, from / 1e6);
        assertThat(to).as("to guest (tap egress tbf)").isCloseTo(RATE, within(0.15 * RATE));
        assertThat(from).as("from guest (ingress -> ifb tbf)").isCloseTo(RATE, within(0.15 * RATE));

        shaper.clear(PORT);
        shaper.clear(PORT);                              // clearing twice is fine
        assertNothingShaped();
        double after = NsHarness.transferRate(g2, g1, "198.18.5.10", BYTES);
        assertThat(after).as("after clear").isGreaterThan(3.0 * RATE);
    }

    @Test
    void oneDirectionAtATimeAndSwitchingBetweenShapes() {
        shaper.apply(PORT, new LinkShape(RATE, 0, null));
        assertThat(shaper.qdiscs(PORT)).noneSatisfy(q -> assertThat(q.isIngress()).isTrue());
        assertThat(fabric.netns().hasLink(IFB)).isFalse();

        shaper.apply(PORT, new LinkShape(0, 2_000_000, null));
        assertThat(shaper.qdiscs(PORT)).allSatisfy(q -> assertThat(q.kind()).isIn("noqueue", "ingress"));
        assertThat(shaper.qdiscs(IFB)).anySatisfy(q -> assertThat(((Number) q.options().get("rate")).longValue()).isEqualTo(250_000));

        shaper.apply(PORT, new LinkShape(0, 5_000_000, null));
        assertThat(shaper.qdiscs(IFB)).anySatisfy(q -> assertThat(((Number) q.options().get("rate")).longValue()).isEqualTo(625_000));

        shaper.apply(PORT, LinkShape.NONE);
        assertNothingShaped();
        shaper.clear(PORT);
    }

    private void assertNothingShaped() {
        assertThat(shaper.qdiscs(PORT)).allSatisfy(q -> {
            assertThat(q.isDefault()).as("default qdisc only: %s", q).isTrue();
            assertThat(q.isIngress()).isFalse();
        });
        assertThat(fabric.netns().hasLink(IFB)).isFalse();
    }
}
