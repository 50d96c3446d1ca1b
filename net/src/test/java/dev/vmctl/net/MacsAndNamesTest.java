package dev.vmctl.net;

import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MacsAndNamesTest {
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

    @Test
    void namesFollowTheSchemeAndFitInFifteenCharacters() {
        assertThat(NetNames.bridge("5e6f7a8b")).isEqualTo("vb5e6f7a8b");
        assertThat(NetNames.tap("0123456789ab", 0)).isEqualTo("vt0123456789ab0").hasSize(15);
        assertThat(NetNames.tap("0123456789ab", 15)).isEqualTo("vt0123456789abf");
        assertThat(NetNames.ifbFor("vt0123456789ab3")).isEqualTo("vi0123456789ab3");
        assertThat(NetNames.routerNs("0a1b2c3d")).isEqualTo("vmctl-r-0a1b2c3d");
        assertThat(NetNames.routerPort("5e6f7a8b")).isEqualTo("r5e6f7a8b");
        assertThat(NetNames.routerPeer("0a1b2c3d", "5e6f7a8b")).isEqualTo("vr5e6f7a8b0a1b2").hasSize(15);
        assertThat(NetNames.uplinkHostEnd("0a1b2c3d")).isEqualTo("vu0a1b2c3d");
        assertThat(NetNames.uplinkRouterEnd("0a1b2c3d")).isEqualTo("u0a1b2c3d");
        assertThat(NetNames.isFabricLink("vb5e6f7a8b")).isTrue();
        assertThat(NetNames.isFabricLink("lo")).isFalse();
        assertThat(NetNames.checkNetns("vmctl-3fa2c1d0")).isEqualTo("vmctl-3fa2c1d0");
    }

    @Test
    void badIdsAndNamesAreInvalid() {
        assertThatThrownBy(() -> NetNames.bridge("5E6F7A8B")).isInstanceOfSatisfying(VmctlException.class, e -> {
            assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
            assertThat(e.getMessage()).startsWith("invalid netId: ");
        });
        assertThatThrownBy(() -> NetNames.bridge("5e6f7a8b9")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.tap("0123456789ab", 16)).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.tap("0123456789a", 0)).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.ifbFor("eth0")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.checkNetns("default")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.checkNetns("vmctl/../x")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.checkIfName("port", "sixteen-chars-xx")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> NetNames.checkIfName("port", "a b")).isInstanceOf(VmctlException.class);
        assertThatThrownBy(() -> Netns.list("run")).isInstanceOf(VmctlException.class);
    }
}
