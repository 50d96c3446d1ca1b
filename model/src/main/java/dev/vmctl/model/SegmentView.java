package dev.vmctl.model;

import java.util.List;

/**
 * An isolated segment as the API shows it: its own network namespace ({@code netns}) with its network (named like the
 * segment, {@code subnet}), what else lives in it, the owner, the TTL and the VPN. {@code gateway} is the namespace's
 * own address on the network (null without {@code router}); {@code ttlSeconds}/{@code expiresAt} are null without a
 * TTL; {@code vpn} is null until {@code vmctl segment vpn}.
 */
public record SegmentView(String id, String name, String owner, String subnet, String gateway, boolean router, String netns,
                          String bridge, Long ttlSeconds, String expiresAt, String createdAt, List<String> networks,
                          List<String> routers, List<String> vms, List<String> topologies, Vpn vpn) {
    public SegmentView {
        networks = networks == null ? List.of() : List.copyOf(networks);
        routers = routers == null ? List.of() : List.copyOf(routers);
        vms = vms == null ? List.of() : List.copyOf(vms);
        topologies = topologies == null ? List.of() : List.copyOf(topologies);
    }

    /** The segment's WireGuard endpoint: {@code mechanism} kernel or wireguard-go, its tunnel subnet and the peers it lets in. */
    public record Vpn(String mechanism, String endpoint, int listenPort, String publicKey, String tunnel, List<Peer> peers) {
        public Vpn {
            peers = peers == null ? List.of() : List.copyOf(peers);
        }
    }

    public record Peer(String publicKey, String address) {}
}
