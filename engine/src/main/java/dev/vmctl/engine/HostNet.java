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
    void ensureTap(String tap, String bridge, Integer vlan, boolean up);

    void setTapUp(String tap, boolean up);

    /** Deletes the tap, its shaping and its ifb. */
    void deleteTap(String tap);

    /** Rate limit in both directions; returns a description of the mechanism. */
    String applyRate(String tap, long rateKbit);

    /** Delay/jitter/loss/corruption/duplication (and rate) with netem on the host; only when {@link #hostNetem()}. */
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

    /** IPv4 traffic between the addresses of a and those of b dropped both ways in the fabric (idempotent per id). */
    default void partition(String id, List<String> ipsA, List<String> ipsB) {
        throw new dev.vmctl.model.VmctlException(dev.vmctl.model.VmctlException.Kind.UNAVAILABLE, "partition: not implemented", null);
    }

    default void unpartition(String id) {}

    default List<String> partitions() { return List.of(); }
}
