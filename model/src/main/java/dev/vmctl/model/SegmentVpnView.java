package dev.vmctl.model;

import java.util.List;

/**
 * What {@code vmctl segment vpn NAME --peer PUBKEY} answers: the peer's tunnel address, what it may reach (the segment's
 * subnet), the server's endpoint and public key, and the same as a wg-quick client configuration ({@code config}).
 */
public record SegmentVpnView(String segment, String peer, String clientAddress, List<String> allowedIps, String endpoint,
                             String serverPublicKey, String mechanism, String config) {
    public SegmentVpnView {
        allowedIps = allowedIps == null ? List.of() : List.copyOf(allowedIps);
    }
}
