package dev.vmctl.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {
    @ParameterizedTest
    @CsvSource({
            "30s, 30000",
            "2m, 120000",
            "500ms, 500",
            "10, 10000",
            "1.5s, 1500",
            "1h, 3600000",
            "' 45 s ', 45000",
            "2min, 120000",
            "0, 0"})
    void parsesWhatUsersWrite(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "-1", "10x", "s", "1.2.3s", "PT30S"})
    void rejectsTheRestNamingTheAcceptedForms(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text + "' is not a duration")
                .hasMessageContaining("30s, 2m, 500ms");
    }

    @Test
    void formatsShortestExactForm() {
        assertThat(Durations.format(Duration.ofMillis(500))).isEqualTo("500ms");
        assertThat(Durations.format(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(Durations.format(Duration.ofSeconds(120))).isEqualTo("2m");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    }

    @Test
    void execTimeoutRoundsUpToWholeSeconds() {
        assertThat(Durations.ceilSeconds(Duration.ofMillis(500))).isEqualTo(1);
        assertThat(Durations.ceilSeconds(Duration.ofMillis(1001))).isEqualTo(2);
        assertThat(Durations.ceilSeconds(Duration.ofSeconds(30))).isEqualTo(30);
        assertThat(Durations.ceilSeconds(Duration.ZERO)).isEqualTo(1);
    }

    @Test
    void aBadDurationOnTheCommandLineIsAUsageError() {
        CliRun r = CliRun.run("http://127.0.0.1:1", "vm", "exec", "web1", "--timeout", "soon", "--", "true");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--timeout': 'soon' is not a duration");
    }
}
