package dev.vmctl.net;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Keys, names, argv and the client configuration of segment VPNs (no interface is made here: app's SegmentIT). */
class WireguardTest {
    @Test
    void keysAreWireguardsAndThePublicKeyIsWhatWgComputes() {
        Wireguard.Keys k = Wireguard.generateKeys();
        assertThat(k.privateKey()).hasSize(44);
        assertThat(k.publicKey()).hasSize(44).isNotEqualTo(k.privateKey());
        assertThat(Wireguard.checkKey("peer", " " + k.publicKey() + "\n")).isEqualTo(k.publicKey());
        assumeTrue(Cmd.available("wg"), "wireguard-tools not installed");
        CmdResult r = Cmd.run(List.of("wg", "pubkey"), (k.privateKey() + "\n").getBytes(StandardCharsets.UTF_8), null, Duration.ofSeconds(10));
        assertThat(r.stdout().strip()).isEqualTo(k.publicKey());
    }

    @Test
    void badKeysNameTheField() {
        for (String bad : new String[]{null, "", "short", "!".repeat(44), "AAAA"}) {
            VmctlException e = catchThrowableOfType(VmctlException.class, () -> Wireguard.checkKey("peer", bad));
            assertThat(e.getMessage()).as(String.valueOf(bad)).startsWith("invalid peer:");
            assertThat(e.detail()).contains("wg pubkey");
        }
    }

    @Test
    void namesArgvAndConfig() {
        assertThat(NetNames.segmentNs("vmctl-3fa2c1d0", "0a1b2c3d")).isEqualTo("vmctl-3fa2c1d0-s0a1b2c3d");
        assertThat(NetNames.isSegmentNs("vmctl-3fa2c1d0", "vmctl-3fa2c1d0-s0a1b2c3d")).isTrue();
        assertThat(NetNames.isSegmentNs("vmctl-3fa2c1d0", "vmctl-3fa2c1d0-s0a1b2c3d-r01234567")).isFalse();
        assertThat(NetNames.isSegmentNs("vmctl-3fa2c1d0", "vmctl-3fa2c1d0-r01234567")).isFalse();
        assertThat(NetNames.vpnInterface("vmctl-3fa2c1d0", "0a1b2c3d")).isEqualTo("vw3fa20a1b2c3d").hasSizeLessThanOrEqualTo(NetNames.IFNAMSIZ);
        assertThat(Wireguard.userspaceArgv("vmctl-edge", "vw3fa20a1b2c3d"))
                .containsExactly("ip", "netns", "exec", "vmctl-edge", "setsid", "wireguard-go", "-f", "vw3fa20a1b2c3d");
        assertThat(Wireguard.userspaceArgv(null, "vw1")).containsExactly("setsid", "wireguard-go", "-f", "vw1");
        assertThat(Wireguard.ipIn(null, "link", "show")).containsExactly("ip", "link", "show");
        assertThat(Wireguard.ipIn("vmctl-edge", "link", "show")).containsExactly("ip", "-n", "vmctl-edge", "link", "show");
        String c = Wireguard.clientConfig("PEER", "198.19.255.2/32", List.of("198.18.50.0/24"), "SERVER", "192.0.2.1:51820");
        assertThat(c).contains("[Interface]", "Address = 198.19.255.2/32", "[Peer]", "PublicKey = SERVER",
                "AllowedIPs = 198.18.50.0/24", "Endpoint = 192.0.2.1:51820");
    }
}
