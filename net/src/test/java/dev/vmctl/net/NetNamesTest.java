package dev.vmctl.net;

import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NetNamesTest {
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
    void serverScopedNamesComeFromTheDataDirectory() {
        String fabric = NetNames.fabric(java.nio.file.Path.of("/var/lib/vmctl"));
        assertThat(fabric).matches("vmctl-[0-9a-f]{8}").isEqualTo(NetNames.fabric(java.nio.file.Path.of("/var/lib/vmctl/")));
        assertThat(NetNames.fabric(java.nio.file.Path.of("/tmp/other"))).isNotEqualTo(fabric);
        assertThat(NetNames.routerNs(fabric, "0a1b2c3d4e5f")).isEqualTo(fabric + "-r0a1b2c3d").startsWith(NetNames.routerPrefix(fabric));
        assertThat(NetNames.isSegmentOrNicLink("vt0123456789ab0")).isTrue();
        assertThat(NetNames.isSegmentOrNicLink("vr5e6f7a8b0a1b2")).as("router legs are the routers' business").isFalse();
        assertThat(NetNames.tapOf("vi0123456789ab3")).isEqualTo("vt0123456789ab3");
        assertThat(NetNames.tapOf("vt0123456789ab3")).isEqualTo("vt0123456789ab3");
        assertThat(NetNames.isBridge("vb5e6f7a8b")).isTrue();
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
