package dev.vmctl.engine;

import dev.vmctl.model.Impairment;
import dev.vmctl.net.LinkShape;
import dev.vmctl.vmm.GuestScripts;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which way an impairment acts: the guest-side script's arguments, the host-side shape and the mechanisms shown. */
class ImpairDirectionTest {
    private static Impairment imp(String direction) {
        return Impairment.parse(Map.of("delay", "100ms", "jitter", "5ms", "loss", "1%", "direction", direction));
    }

    @Test
    void theGuestScriptGetsTheDirectionsAndNetemsParameters() {
        List<String> head = List.of("/bin/sh", "-c", GuestScripts.IMPAIR, "vmctl-tc", "eth0", "ifb-eth0");
        List<String> netem = List.of("delay", "100ms", "5ms", "loss", "1.0%", "limit", "10000");
        assertThat(NetService.guestImpairArgv("eth0", imp("egress"))).startsWith(head.toArray(String[]::new))
                .endsWith(concat(List.of("1", "0"), netem).toArray(String[]::new));
        assertThat(NetService.guestImpairArgv("eth0", imp("ingress"))).endsWith(concat(List.of("0", "1"), netem).toArray(String[]::new));
        assertThat(NetService.guestImpairArgv("eth0", imp("both"))).endsWith(concat(List.of("1", "1"), netem).toArray(String[]::new));
        assertThat(NetService.guestImpairArgv("eth0", null)).containsExactly(concat(head, List.of("0", "0")).toArray(String[]::new));
        assertThat(NetService.guestImpairArgv("eth1", Impairment.parse(Map.of("rate", "10mbit", "direction", "ingress"))))
                .as("a rate alone is shaped on the host: nothing in the guest").endsWith("ifb-eth1", "0", "0");
        assertThat(GuestScripts.ingressIfb("eth15")).hasSizeLessThanOrEqualTo(15);
    }

    @Test
    void onTheHostEgressIsTheIfbAndIngressTheTapsRoot() {
        LinkShape.Netem n = new LinkShape.Netem(Duration.ofMillis(100), Duration.ofMillis(5), 1, 0, 0);
        assertThat(LinuxHostNet.hostShape(imp("egress"))).isEqualTo(new LinkShape(0, 0, n, null));
        assertThat(LinuxHostNet.hostShape(imp("ingress"))).isEqualTo(new LinkShape(0, 0, null, n));
        assertThat(LinuxHostNet.hostShape(imp("both"))).isEqualTo(new LinkShape(0, 0, n, n));
        Impairment rated = Impairment.parse(Map.of("delay", "10ms", "rate", "2mbit", "direction", "ingress"));
        assertThat(LinuxHostNet.hostShape(rated)).isEqualTo(new LinkShape(2_000_000, 2_000_000, null, LinkShape.Netem.delay(Duration.ofMillis(10))));
    }

    @Test
    void mechanismsNameEachDirectionInUse() {
        NetService guestSide = new NetService(null, null, new FakeHostNet());
        assertThat(guestSide.mechanisms(imp("egress"))).containsOnlyKeys("netemEgress");
        assertThat(guestSide.mechanisms(imp("ingress"))).containsOnlyKeys("netemIngress")
                .extractingByKey("netemIngress").asString().contains("inside the guest", "ifb", "receives");
        assertThat(guestSide.mechanisms(Impairment.parse(Map.of("delay", "1ms", "rate", "1mbit", "direction", "both"))))
                .containsOnlyKeys("netemEgress", "netemIngress", "rate");
        FakeHostNet withNetem = new FakeHostNet();
        withNetem.hostNetem = true;
        NetService hostSide = new NetService(null, null, withNetem);
        assertThat(hostSide.mechanisms(imp("ingress"))).extractingByKey("netemIngress").asString().contains("root of the tap");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
