package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.NetworkView;
import dev.vmctl.model.RouterView;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Networks and routers as operations (lanes {@code network:NAME}, {@code router:NAME}); the host work is
 * {@link NetService}'s. Reads go to NetService directly.
 */
public final class Networks {
    private final NetService net;
    private final Operations ops;
    private final VmCore core;

    Networks(NetService net, Operations ops, VmCore core) {
        this.net = net;
        this.ops = ops;
        this.core = core;
    }

    public NetService net() {
        return net;
    }

    public Accepted<NetworkView> createNetwork(String name, String subnet, Integer vlan) {
        return createNetwork(name, subnet, vlan, null);
    }

    /** A network inside isolated segment {@code segment}'s namespace (null: the fabric). */
    public Accepted<NetworkView> createNetwork(String name, String subnet, Integer vlan, String segment) {
        return call(Operations.Spec.of("network.create", "network:" + name), () -> net.createNetwork(name, subnet, vlan, segment));
    }

    public Accepted<NetworkView> deleteNetwork(String key) {
        String name = net.network(key).name();
        return call(Operations.Spec.of("network.delete", "network:" + name), () -> {
            NetworkView v = net.deleteNetwork(key);
            core.maybeRemoveFabric();
            return v;
        });
    }

    public Accepted<RouterView> createRouter(String name, List<String> networks, List<NetService.RouteSpec> routes) {
        List<String> targets = new ArrayList<>();
        targets.add("router:" + name);
        if (networks != null) for (String n : networks) targets.add("network:" + n);
        return call(Operations.Spec.of("router.create", "router:" + name).targets(targets), () -> net.createRouter(name, networks, routes));
    }

    public Accepted<RouterView> deleteRouter(String key) {
        String name = net.router(key).name();
        return call(Operations.Spec.of("router.delete", "router:" + name), () -> {
            RouterView v = net.deleteRouter(key);
            core.maybeRemoveFabric();
            return v;
        });
    }

    /** IPv4 traffic between the addresses of a and b dropped both ways, in the fabric (operation partition.apply). */
    public Accepted<String> partition(String id, List<String> a, List<String> b) {
        return call(Operations.Spec.of("partition.apply", "partition:" + id), () -> {
            net.host().partition(id, a, b);
            return id;
        });
    }

    /** Removes a partition; nothing when it does not exist (operation partition.remove). */
    public Accepted<String> unpartition(String id) {
        return call(Operations.Spec.of("partition.remove", "partition:" + id), () -> {
            if (net.host().fabricExists()) net.host().unpartition(id);
            return id;
        });
    }

    /** The partitions that exist in the fabric now. */
    public List<String> partitions() {
        return net.host().fabricExists() ? net.host().partitions() : List.of();
    }

    private <T> Accepted<T> call(Operations.Spec spec, java.util.function.Supplier<T> work) {
        return ops.run(spec, Duration.ofMinutes(10), o -> work.get());
    }
}
