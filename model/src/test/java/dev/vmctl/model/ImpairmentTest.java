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
}
