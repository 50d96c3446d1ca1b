package dev.vmctl.net;

import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IpamTest {

    @Test
    void describesAValidSubnet() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThat(s.cidr()).isEqualTo("198.18.10.0/24");
        assertThat(s.network()).isEqualTo("198.18.10.0");
        assertThat(s.prefixLength()).isEqualTo(24);
        assertThat(s.netmask()).isEqualTo("255.255.255.0");
        assertThat(s.gateway()).isEqualTo("198.18.10.1");
        assertThat(s.gatewayCidr()).isEqualTo("198.18.10.1/24");
        assertThat(s.broadcast()).isEqualTo("198.18.10.255");
        assertThat(s.lastHost()).isEqualTo("198.18.10.254");
        assertThat(s.assignableCount()).isEqualTo(253);
        assertThat(s.withPrefix("198.18.10.7")).isEqualTo("198.18.10.7/24");
        assertThat(Ipam.of("10.0.0.0/8").broadcast()).isEqualTo("10.255.255.255");
        assertThat(Ipam.of("198.19.255.252/30").gateway()).isEqualTo("198.19.255.253");
    }

    @Test
    void hostBitsSetIsInvalidAndNamesTheSubnetField() {
        assertThatThrownBy(() -> Ipam.of("198.18.10.5/24"))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
                    assertThat(e.getMessage()).startsWith("invalid subnet: ").contains("198.18.10.5/24").contains("198.18.10.0/24");
                    assertThat(e.detail()).contains("198.18.10.0/24").contains("/8 to /30");
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "198.18.10.0", "198.18.10.0/", "198.18.10.0/7", "198.18.10.0/31", "198.18.10.0/32",
            "198.18.10/24", "198.18.10.0.0/24", "198.18.256.0/24", "198.018.10.0/24", "a.b.c.d/24", "198.18.10.0/2x", "198.18.10.0/-1"})
    void rejectsMalformedSubnets(String cidr) {
        assertThatThrownBy(() -> Ipam.of(cidr))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
                    assertThat(e.getMessage()).startsWith("invalid subnet: ");
                });
    }

    @Test
    void allocatesTheLowestFreeAddressAfterTheGateway() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThat(s.allocate(Set.of())).isEqualTo("198.18.10.2");
        assertThat(s.allocate(Set.of("198.18.10.2", "198.18.10.3"))).isEqualTo("198.18.10.4");
        assertThat(s.allocate(Set.of("198.18.10.3"))).isEqualTo("198.18.10.2");
        // addresses with a prefix and foreign addresses are understood / ignored
        assertThat(s.allocate(Set.of("198.18.10.2/24", "10.0.0.2", "junk"))).isEqualTo("198.18.10.3");
    }

    @Test
    void aSlash30HasOneAssignableAddressThenIsExhausted() {
        Ipam s = Ipam.of("198.18.0.0/30");
        assertThat(s.assignableCount()).isEqualTo(1);
        assertThat(s.gateway()).isEqualTo("198.18.0.1");
        String only = s.allocate(Set.of());
        assertThat(only).isEqualTo("198.18.0.2");
        assertThatThrownBy(() -> s.allocate(Set.of(only)))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
                    assertThat(e.getMessage()).contains("198.18.0.0/30").contains("no free address");
                });
    }

    @Test
    void fillsASlash28Completely() {
        Ipam s = Ipam.of("198.18.3.16/28");
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < s.assignableCount(); i++) taken.add(s.allocate(taken));
        assertThat(taken).hasSize(13).doesNotContain("198.18.3.16", "198.18.3.17", "198.18.3.31").contains("198.18.3.18", "198.18.3.30");
        assertThatThrownBy(() -> s.allocate(taken)).isInstanceOf(VmctlException.class);
    }

    @Test
    void checkAcceptsAFreeHostAddress() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThat(s.check("198.18.10.7", Map.of("198.18.10.8", "vm b"))).isEqualTo("198.18.10.7");
        assertThat(s.contains("198.18.10.255")).isTrue();
        assertThat(s.contains("198.18.11.0")).isFalse();
    }

    @Test
    void checkRejectsAddressesOutsideTheSubnet() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThatThrownBy(() -> s.check("198.18.11.5", Map.of()))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
                    assertThat(e.getMessage()).isEqualTo("invalid ip: 198.18.11.5 is outside the subnet 198.18.10.0/24");
                    assertThat(e.detail()).contains("198.18.10.2 to 198.18.10.254");
                });
        assertThatThrownBy(() -> s.check("not-an-ip", Map.of()))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID));
    }

    @Test
    void checkRejectsReservedAddresses() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThatThrownBy(() -> s.check("198.18.10.0", Map.of()))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
                    assertThat(e.getMessage()).contains("network address");
                });
        assertThatThrownBy(() -> s.check("198.18.10.255", Map.of()))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.getMessage()).contains("broadcast address"));
        assertThatThrownBy(() -> s.check("198.18.10.1", Map.of()))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
                    assertThat(e.getMessage()).contains("reserved for the gateway");
                });
    }

    @Test
    void checkNamesTheOwnerOfATakenAddress() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThatThrownBy(() -> s.check("198.18.10.7", Map.of("198.18.10.7/24", "vm web-1 nic 0")))
                .isInstanceOfSatisfying(VmctlException.class, e -> {
                    assertThat(e.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
                    assertThat(e.getMessage()).isEqualTo("ip 198.18.10.7 already in use by vm web-1 nic 0");
                });
    }

    @Test
    void overlaps() {
        Ipam s = Ipam.of("198.18.10.0/24");
        assertThat(s.overlaps("198.18.10.128/25")).isTrue();
        assertThat(s.overlaps("198.18.0.0/16")).isTrue();
        assertThat(s.overlaps("198.18.10.0/24")).isTrue();
        assertThat(s.overlaps("198.18.11.0/24")).isFalse();
        assertThat(s.overlaps("198.18.9.0/24")).isFalse();
        assertThat(Ipam.of("198.18.0.0/15").overlaps("198.19.255.0/24")).isTrue();
        assertThat(Ipam.of("198.18.0.0/15").overlaps("198.20.0.0/24")).isFalse();
        assertThatThrownBy(() -> s.overlaps("198.18.11.3/24")).isInstanceOf(VmctlException.class);
    }

    @Test
    void highAddressesDoNotOverflow() {
        Ipam s = Ipam.of("223.255.255.0/24");
        assertThat(s.broadcast()).isEqualTo("223.255.255.255");
        assertThat(s.allocate(Set.of())).isEqualTo("223.255.255.2");
        assertThat(s.contains("223.255.255.254")).isTrue();
    }

    @org.junit.jupiter.api.Test
    void aSubnetWithSpacesAroundItIsRefusedNotTrimmed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipam.of(" 198.18.9.0/24"))
                .hasMessageContaining("subnet").hasMessageContaining("spaces around it");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipam.of("198.18.9.0/24\n")).hasMessageContaining("spaces around it");
        org.assertj.core.api.Assertions.assertThat(Ipam.of("198.18.9.0/24").cidr()).isEqualTo("198.18.9.0/24");
    }
}
