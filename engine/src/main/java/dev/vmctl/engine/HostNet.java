package dev.vmctl.engine;

import dev.vmctl.model.Impairment;

import java.util.List;

/**
 * What the engine needs from the host's networking (the consumer owns this interface; the net module
 * provides the Linux implementation). Every method is idempotent.
 */
public interface HostNet {
    /** The fabric namespace: all bridges and taps of this server, and every QEMU process, live in it. */
    String fabric();

    boolean fabricExists();

    void ensureFabric();

    void destroyFabric();

    void ensureBridge(String bridge, Integer vlan);

    void deleteBridge(String bridge);

    /** Creates the tap if missing, attaches it to the bridge (moving it if needed), sets it up or down. */
    /** Creates (or reuses) a VM NIC's tap on bridge, up or down; true when it was created now (nothing to clear on it). */
    boolean ensureTap(String tap, String bridge, Integer vlan, boolean up);

    void setTapUp(String tap, boolean up);

    /** Deletes the tap, its shaping and its ifb. */
    void deleteTap(String tap);

    /** Rate limit in both directions; returns a description of the mechanism. */
    String applyRate(String tap, long rateKbit);

    /**
     * Delay/jitter/loss/corruption/duplication (and rate) with netem on the host, in the impairment's direction
     * (egress: what the guest sends, ingress: what it receives, both); only when {@link #hostNetem()}.
     */
    String applyHostNetem(String tap, Impairment impairment);

    void clearShaping(String tap);

    boolean hostNetem();

    String vlanMechanism();

    /** The namespace of router {@code routerId} of this server; every router namespace starts with {@link #routerPrefix()}. */
    String routerNs(String routerId);

    String routerPrefix();

    void ensureRouter(String netns);

    void deleteRouter(String netns);

    /** Joins a router namespace to a segment's bridge; the router's leg holds {@code addressCidr}. */
    void connectRouter(String netns, String leg, String bridge, String addressCidr);

    void replaceRoute(String netns, String to, String via);

    /** Names of the links in the fabric namespace (empty when it does not exist). */
    List<String> fabricLinks();

    /** Network namespaces whose name starts with the prefix. */
    List<String> namespaces(String prefix);

    /**
     * A network partition: IPv4 traffic between the addresses (or prefixes) of {@code ipsA} and those of {@code ipsB}
     * is dropped both ways; links stay up. Replaces a partition of the same id. id: 1 to 24 of [a-z0-9].
     * UNAVAILABLE when the host cannot filter bridged traffic (see {@link #partitionMechanism()}).
     */
    void partition(String id, List<String> ipsA, List<String> ipsB);

    /** Removes a partition; fine when there is none of that id. */
    void unpartition(String id);

    /** Ids of the partitions that exist on the host (they live in the fabric and go with it). */
    List<String> partitions();

    /** How partitions are made on this host, or why they cannot be (for {@code vmctl doctor}). */
    String partitionMechanism();

    /**
     * The same operations in another namespace of this server: a segment's, which holds its own bridges, taps and
     * routers exactly as the fabric does ({@link #fabric()} is then that namespace). Its {@link #ensureFabric()} only
     * makes sure the namespace exists (the segment owns its settings) and {@link #destroyFabric()} does nothing (the
     * segment removes its namespace itself).
     */
    HostNet in(String netns);

    /** One NIC of a node with an egress limit: its tap, IPv4 addresses, own ceiling (0: none) and netem on what it sends (or null). */
    record EgressMember(String tap, List<String> ipv4, long ceilKbit, Impairment netemEgress) {}

    /**
     * Only the host→guest part of an impairment (rate, host netem towards the guest) on a tap whose guest→host side a
     * node's egress group shapes ({@link #applyEgressGroup}); null clears that part.
     */
    String shapeToGuest(String tap, Impairment impairment);

    /**
     * A node's egress limit: what its members send, all together, at most {@code rateKbit} (an ifb per node, HTB with a
     * class per member); the whole group is rebuilt; no members removes it. {@code key} is "TOPO/NODE".
     */
    void applyEgressGroup(String key, long rateKbit, List<EgressMember> members);
}
