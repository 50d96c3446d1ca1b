package dev.vmctl.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A node's egress limit on real veth ports (standing in for taps): two members g1, g2 of one group send to g3, g4
 * (bounded TCP transfers); alone a member gets the whole limit, together they share it, a member's own ceiling holds,
 * and an empty group removes its ifb.
 */
@Timeout(120)
class EgressGroupTest {
    private static final long LIMIT = 8_000_000;                  // 8 mbit for the node
    private static final int BYTES = 2_000_000;                   // ~2 s at 8 mbit
    private static final String P1 = "vt00000000e10", P2 = "vt00000000e20";
    private static final String IFB = NetNames.egressIfb("t/n1");

    private NsHarness h;
    private Fabric fabric;
    private Netns g1, g2, g3, g4;
    private EgressGroup group;

    @BeforeEach
    void setUp() {
        NsHarness.requireRoot();
        h = new NsHarness();
        fabric = h.fabric();
        String br = NetNames.bridge("0000ee01");
        fabric.ensureBridge(br);
        g1 = h.guest("g1", fabric, br, P1, "198.18.6.10/24", null);
        g2 = h.guest("g2", fabric, br, P2, "198.18.6.11/24", null);
        g3 = h.guest("g3", fabric, br, "vt00000000e30", "198.18.6.12/24", null);
        g4 = h.guest("g4", fabric, br, "vt00000000e40", "198.18.6.13/24", null);
        group = new EgressGroup(fabric.netns(), new Shaper(fabric.netns(), false));
        assertThat(NsHarness.reaches(g1, "198.18.6.12")).isTrue();
        assertThat(NsHarness.reaches(g2, "198.18.6.13")).isTrue();
    }

    @AfterEach
    void tearDown() {
        if (h != null) h.close();
    }

    private List<EgressGroup.Member> members(long ceil1) {
        return List.of(new EgressGroup.Member(P1, List.of("198.18.6.10"), ceil1, null),
                new EgressGroup.Member(P2, List.of("198.18.6.11"), 0, null));
    }

    @Test
    void membersShareTheNodeLimitAndKeepTheirOwnCeiling() throws Exception {
        assumeTrue(NsHarness.haveSocat(), "needs socat");
        double free = NsHarness.transferRate(g1, g3, "198.18.6.12", BYTES);
        assertThat(free).as("unshaped must be well above the limit for this test to mean anything").isGreaterThan(3.0 * LIMIT);

        group.apply(IFB, LIMIT, members(0));
        group.apply(IFB, LIMIT, members(0));             // idempotent: a fresh tree each time
        assertThat(fabric.netns().link(IFB)).get().satisfies(l -> assertThat(l.kind()).isEqualTo("ifb"));
        assertThat(classes()).containsOnlyKeys("1:1", "1:10", "1:11", "1:ffff");

        double alone = NsHarness.transferRate(g1, g3, "198.18.6.12", BYTES);
        var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        var a = CompletableFuture.supplyAsync(() -> rate(g1, g3, "198.18.6.12"), pool);
        var b = CompletableFuture.supplyAsync(() -> rate(g2, g4, "198.18.6.13"), pool);
        double together = a.get() + b.get();
        System.out.printf("node egress %d bit/s: one member alone %.2f Mbit/s, two together %.2f + %.2f = %.2f Mbit/s%n",
                LIMIT, alone / 1e6, a.get() / 1e6, b.get() / 1e6, together / 1e6);
        assertThat(alone).as("one member alone may use the whole limit").isCloseTo(LIMIT, within(0.2 * LIMIT));
        // each transfer is timed on its own, so the sum over-counts the overlap a little: at most the limit + 35 %
        assertThat(together).as("two members together stay within the node's limit").isLessThan(1.35 * LIMIT);
        // the traffic went through the members' classes, not the default one
        assertThat(sentBytes("1:10")).isGreaterThan(BYTES);
        assertThat(sentBytes("1:11")).isGreaterThan(BYTES);

        group.apply(IFB, LIMIT, members(2_000_000));     // g1's own ceiling: 2 mbit
        double capped = NsHarness.transferRate(g1, g3, "198.18.6.12", BYTES / 4);
        System.out.printf("member ceiling 2 Mbit/s: %.2f Mbit/s%n", capped / 1e6);
        assertThat(capped).isCloseTo(2_000_000, within(0.25 * 2_000_000));

        group.apply(IFB, LIMIT, List.of());              // the node's last VM went
        assertThat(fabric.netns().hasLink(IFB)).isFalse();
    }

    private static double rate(Netns from, Netns to, String ip) {
        try {
            return NsHarness.transferRate(from, to, ip, BYTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** "class htb 1:2 parent 1:1 …" then " Sent N bytes …": handle → bytes (tc has no JSON for classes in this version). */
    private java.util.Map<String, Long> classes() {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        String handle = null;
        for (String line : fabric.netns().tc("show", IFB, "-s", "class", "show", "dev", IFB).stdout().lines().toList()) {
            String[] w = line.strip().split("\\s+");
            if (w.length > 2 && w[0].equals("class")) handle = w[2];
            else if (w.length > 1 && w[0].equals("Sent") && handle != null) out.put(handle, Long.parseLong(w[1]));
        }
        return out;
    }

    private long sentBytes(String handle) {
        Long b = classes().get(handle);
        if (b == null) throw new AssertionError("no class " + handle + " in " + classes());
        return b;
    }
}
