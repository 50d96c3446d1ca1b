package dev.vmctl.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmSpecTest {
    private static final List<String> IMAGES = List.of("tiny");

    @Test
    void defaultsAndUnits() {
        VmSpec s = VmSpec.validate("web1", "tiny", null, null, null, IMAGES);
        assertThat(s.cpus()).isEqualTo(1);
        assertThat(s.memoryMiB()).isEqualTo(128);
        assertThat(s.accel()).isEqualTo(VmSpec.Accel.AUTO);
        assertThat(VmSpec.validate("a", "tiny", 2, "1G", "tcg", IMAGES).memoryMiB()).isEqualTo(1024);
        assertThat(VmSpec.validate("a", "tiny", 2, "256MiB", "KVM", IMAGES).accel()).isEqualTo(VmSpec.Accel.KVM);
        assertThat(VmSpec.validate("a", "tiny", 2, "300", null, IMAGES).memoryMiB()).isEqualTo(300);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Web1", "-a", "a_b", "a.b", "a b", "ä",
            "a234567890123456789012345678901234567890123456789012345678901234"})
    void badNamesNameTheFieldAndThePattern(String name) {
        assertThatThrownBy(() -> VmSpec.validate(name, "tiny", 1, "128M", null, IMAGES))
                .hasMessageContaining("invalid name")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains(Names.PATTERN));
    }

    @Test
    void longestNameIsAccepted() {
        String n = "a".repeat(63);
        assertThat(VmSpec.validate(n, "tiny", 1, null, null, IMAGES).name()).isEqualTo(n);
    }

    @Test
    void cpusOutOfRange() {
        for (int c : new int[]{0, -1, 17}) {
            assertThatThrownBy(() -> VmSpec.validate("a", "tiny", c, null, null, IMAGES))
                    .hasMessageContaining("invalid cpus")
                    .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("1..16"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lots", "12X", "-5", "63M", "17G", "1.5G", ""})
    void badMemory(String m) {
        assertThatThrownBy(() -> VmSpec.validate("a", "tiny", 1, m, null, IMAGES))
                .hasMessageContaining("invalid memory")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("64M..16384M"));
    }

    @Test
    void unknownImageListsTheKnownOnes() {
        assertThatThrownBy(() -> VmSpec.validate("a", "debian", 1, null, null, IMAGES))
                .hasMessageContaining("invalid image").hasMessageContaining("debian")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("tiny"));
        assertThatThrownBy(() -> VmSpec.validate("a", "tiny", 1, null, null, List.of()))
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("vmctl image build tiny"));
    }

    @Test
    void badAccel() {
        assertThatThrownBy(() -> VmSpec.validate("a", "tiny", 1, null, "hvf", IMAGES))
                .hasMessageContaining("invalid accel")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("auto, kvm, tcg"));
    }
}
