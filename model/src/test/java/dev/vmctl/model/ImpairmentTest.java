package dev.vmctl.model;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImpairmentTest {
    @Test
    void parsesWhatUsersType() {
        Impairment i = Impairment.parse(Map.of("delay", "50ms", "jitter", "5ms", "loss", "2%", "rate", "10mbit"));
        assertThat(i.delayMs()).isEqualTo(50);
        assertThat(i.jitterMs()).isEqualTo(5);
        assertThat(i.lossPercent()).isEqualTo(2.0);
        assertThat(i.rateKbit()).isEqualTo(10_000);
        assertThat(i.hasNetem()).isTrue();
        assertThat(Impairment.parse(Map.of("rate", "512kbit")).hasNetem()).isFalse();
        assertThat(Impairment.parse(Map.of("delay", "1.5s")).delayMs()).isEqualTo(1500);
        assertThat(Impairment.parse(Map.of("rate", "1mbps")).rateKbit()).isEqualTo(8000);
        assertThat(Impairment.parse(Map.of("loss", "0.5")).lossPercent()).isEqualTo(0.5);
    }

    @Test
    void rejectsWithFieldAndAllowedForm() {
        assertThatThrownBy(() -> Impairment.parse(Map.of("delay", "soon"))).hasMessageContaining("impair.delay");
        assertThatThrownBy(() -> Impairment.parse(Map.of("loss", "120%"))).hasMessageContaining("impair.loss");
        assertThatThrownBy(() -> Impairment.parse(Map.of("rate", "fast"))).hasMessageContaining("impair.rate");
        assertThatThrownBy(() -> Impairment.parse(Map.of("jitter", "5ms"))).hasMessageContaining("needs a delay");
        assertThatThrownBy(() -> Impairment.parse(Map.of("color", "red"))).hasMessageContaining("impair.color")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("delay, jitter, loss, rate"));
        assertThatThrownBy(() -> Impairment.parse(Map.of())).hasMessageContaining("no impairment");
    }

    @Test
    void directionIsEgressUnlessGivenAndNamesItsFieldWhenWrong() {
        Impairment plain = Impairment.parse(Map.of("delay", "50ms"));
        assertThat(plain.direction()).isEqualTo("egress");
        assertThat(plain.netemEgress()).isTrue();
        assertThat(plain.netemIngress()).isFalse();
        Impairment in = Impairment.parse(Map.of("delay", "100ms", "direction", "ingress"));
        assertThat(in.dir()).isEqualTo(Impairment.Direction.INGRESS);
        assertThat(in.netemEgress()).isFalse();
        assertThat(in.netemIngress()).isTrue();
        Impairment both = Impairment.parse(Map.of("loss", "1%", "direction", "both"));
        assertThat(both.netemEgress()).isTrue();
        assertThat(both.netemIngress()).isTrue();
        assertThat(Impairment.parse(Map.of("rate", "1mbit", "direction", "ingress")).netemIngress()).as("a rate is no netem").isFalse();
        assertThatThrownBy(() -> Impairment.parse(Map.of("delay", "5ms", "direction", "sideways")))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
                    assertThat(e.getMessage()).contains("impair.direction").contains("sideways");
                    assertThat(e.detail()).endsWith("egress, ingress, both");
                });
        assertThatThrownBy(() -> Impairment.parse(Map.of("direction", "both"))).hasMessageContaining("no impairment");
    }

    @Test
    void theSixValueConstructorAndStoredRowsWithoutADirectionAreEgress() {
        assertThat(new Impairment(50, 5, 2.0, 10_000, 0, 0)).isEqualTo(new Impairment(50, 5, 2.0, 10_000, 0, 0, "egress"));
        assertThat(new Impairment(50, 0, 0, 0, 0, 0, null).direction()).isEqualTo("egress");
        assertThat(new Impairment(50, 0, 0, 0, 0, 0, "BOTH").direction()).isEqualTo("both");
    }
}
