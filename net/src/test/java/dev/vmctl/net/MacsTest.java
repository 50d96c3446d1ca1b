package dev.vmctl.net;

import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MacsTest {
    private static final String MAC = "52:54:00(:[0-9a-f]{2}){3}";

    @Test
    void nicMacsAreDeterministicAndDistinct() {
        String a0 = Macs.forNic("vm-a", 0);
        assertThat(a0).matches(MAC).isEqualTo(Macs.forNic("vm-a", 0));
        assertThat(Macs.forNic("vm-a", 1)).matches(MAC).isNotEqualTo(a0);
        assertThat(Macs.forNic("vm-b", 0)).isNotEqualTo(a0);
        assertThat(Macs.forNic("vm-a", 0, 1)).matches(MAC).isNotEqualTo(a0);
        Set<String> seen = new HashSet<>();
        for (int vm = 0; vm < 200; vm++) for (int i = 0; i < 4; i++) seen.add(Macs.forNic("vm-" + vm, i));
        assertThat(seen).hasSize(800);
        // 0x52: locally administered, unicast
        int first = Integer.parseInt(a0.substring(0, 2), 16);
        assertThat(first & 2).isEqualTo(2);
        assertThat(first & 1).isZero();
    }

    @Test
    void randomMacs() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) seen.add(Macs.random());
        assertThat(seen).hasSizeGreaterThan(95).allSatisfy(m -> assertThat(m).matches(MAC));
    }

    @Test
    void checksUserMacs() {
        assertThat(Macs.check("52-54-00-AB-CD-EF")).isEqualTo("52:54:00:ab:cd:ef");
        assertThatThrownBy(() -> Macs.check("01:00:5e:00:00:01")).isInstanceOfSatisfying(VmctlException.class,
                e -> assertThat(e.getMessage()).contains("multicast"));
        assertThatThrownBy(() -> Macs.check("52:54:00:12:34")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> Macs.forNic("", 0)).isInstanceOf(VmctlException.class);
    }
}
