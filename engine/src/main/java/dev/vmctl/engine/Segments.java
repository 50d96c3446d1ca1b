package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.SegmentView;
import dev.vmctl.model.SegmentVpnView;
import dev.vmctl.model.VmState;
import dev.vmctl.net.Wireguard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Segments as operations, one lane per segment ({@code segment:NAME}): {@code segment.create}, {@code segment.delete}
 * (its VMs are removed first, each a {@code vm.destroy} child with --force semantics, then everything else at once) and
 * {@code segment.vpn}; and their TTLs: at its expiry a segment is removed by a {@code segment.delete} operation that
 * publishes {@code segment.expired}. The work is {@link SegmentService}'s; reads go to it directly.
 */
public final class Segments implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Segments.class);

    private final SegmentService svc;
    private final Operations ops;
    private final VmService vms;
    private final VmCore core;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "segment-ttl");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, ScheduledFuture<?>> expiries = new ConcurrentHashMap<>();

    Segments(SegmentService svc, Operations ops, VmService vms, VmCore core) {
        this.svc = svc;
        this.ops = ops;
        this.vms = vms;
        this.core = core;
    }

    static String lane(String name) {
        return "segment:" + name;
    }

    public List<SegmentView> list() { return svc.list(); }

    public SegmentView get(String key) { return svc.view(key); }

    public boolean exists(String key) { return svc.exists(key); }

    /** For {@code vmctl doctor}: how VPN endpoints are made here. */
    public String vpnMechanism() { return svc.vpnMechanism(); }

    /** How many prepared namespaces wait in the pool now. */
    public int pooled() { return svc.pool().ready(); }

    // ---------------------------------------------------------------- operations

    /** {@code POST /api/v1/segments}: ttl is a duration such as 30s, 10m, 2h, 1d; subnet defaults to 198.18.0.0/24. */
    public record CreateRequest(String name, String owner, String subnet, String ttl, Boolean router) {}

    public Accepted<SegmentView> create(CreateRequest req) {
        SegmentService.Validated v = svc.validate(req);
        return ops.run(Operations.Spec.of("segment.create", lane(v.name())), Duration.ofMinutes(2), o -> {
            SegmentView s = svc.create(v);
            schedule(s.name(), s.expiresAt());
            return s;
        });
    }

    /** Removes the segment and everything in it: its VMs (forced), topologies, routers, networks, VPN and namespace. */
    public Accepted<SegmentView> delete(String key) {
        String name = svc.row(key).name();
        return ops.run(Operations.Spec.of("segment.delete", lane(name)), Duration.ofMinutes(10), o -> remove(o, name, false));
    }

    private SegmentView remove(Operations.Op o, String name, boolean expired) {
        if (!svc.exists(name)) return null; // removed meanwhile (an expiry behind a delete)
        SegmentView before = svc.view(name);
        List<String> ids = svc.vmIds(name);
        if (!ids.isEmpty() && o != null) o.progress("removing " + ids.size() + " VM(s)");
        for (String id : ids) {
            if (core.store.byIdOrName(id).isPresent()) vms.destroy(id, true);
        }
        if (o != null) o.progress(expired ? "ttl reached: removing the namespace" : "removing the namespace");
        svc.delete(name, expired);
        ScheduledFuture<?> f = expiries.remove(name);
        if (f != null) f.cancel(false);
        return before; // as it was: what it held is what went with it
    }

    /** A WireGuard endpoint into this segment only, for the peer with this public key; its client configuration. */
    public Accepted<SegmentVpnView> vpn(String key, String peerPublicKey) {
        String peer = Wireguard.checkKey("peer", peerPublicKey);
        String name = svc.row(key).name();
        return ops.run(Operations.Spec.of("segment.vpn", lane(name)), Duration.ofMinutes(2), o -> svc.vpn(name, peer));
    }

    java.util.Optional<String> segmentOfTopology(String topology) { return svc.segmentOfTopology(topology); }

    void addTopology(String topology, String segment) { svc.addTopology(topology, segment); }

    // ---------------------------------------------------------------- TTL

    private void schedule(String name, String expiresAt) {
        if (expiresAt == null) return;
        long ms = Math.max(0, Duration.between(Instant.now(), Instant.parse(expiresAt)).toMillis());
        expiries.put(name, timers.schedule(() -> expire(name), ms, TimeUnit.MILLISECONDS));
    }

    private void expire(String name) {
        expiries.remove(name);
        try {
            ops.submit(Operations.Spec.of("segment.delete", lane(name)), o -> remove(o, name, true));
        } catch (RuntimeException e) {
            log.warn("segment {}: remove at its TTL: {}", name, e.getMessage());
        }
    }

    // ---------------------------------------------------------------- lifetime

    /**
     * Once at start-up, after the VMs were reconciled: segment namespaces are compared with the database (see
     * {@link SegmentService#reconcile}), segments past their TTL are removed, the others' TTLs are scheduled, and the pool
     * of prepared namespaces starts filling when there are segments (else at the first create).
     */
    void start() {
        Set<String> live = new HashSet<>();
        for (VmRow r : core.store.all()) if (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) live.add(r.id());
        List<String> expired;
        try {
            expired = svc.reconcile(live);
        } catch (RuntimeException e) {
            log.warn("reconcile segments: {}", e.getMessage());
            expired = List.of();
        }
        for (String name : expired) {
            log.info("segment {}: its TTL passed while the server was down: removing it", name);
            expire(name);
        }
        for (var s : svc.rows()) if (!expired.contains(s.name())) schedule(s.name(), s.expiresAt());
        if (!svc.rows().isEmpty()) svc.pool().start(); // otherwise the first create starts it
    }

    /** Segments outlive the server (like VMs): only the timers stop and the pool's unused namespaces go. */
    @Override
    public void close() {
        timers.shutdownNow();
        svc.pool().close();
    }
}
