package dev.vmctl.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Namespaces prepared ahead of time, so that creating a segment needs no command on its path: each is a segment
 * namespace (loopback up, forwarding on, no IPv6) with its network's bridge, under a fresh segment id. A background
 * thread keeps {@code size} of them ready. They are in no database row: a server that dies leaves them to the next
 * start's reconciliation, which removes every segment namespace it does not know; {@link #close} removes them.
 */
final class SegmentPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SegmentPool.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long REFILL_DELAY_MS = 50;

    /** A prepared namespace: the segment id it was made for, its name and its (empty) bridge. */
    record Prepared(String id, String netns, String bridge) {}

    private final SegmentHost host;
    private final int size;
    private final Predicate<String> idTaken;
    private final Deque<Prepared> ready = new ArrayDeque<>();
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean closed;
    private Thread filler;

    /**
     * @param size    how many to keep ready (0: none, every create prepares its own)
     * @param idTaken true for a segment id that exists (a fresh id never names an existing segment's namespace)
     */
    SegmentPool(SegmentHost host, int size, Predicate<String> idTaken) {
        this.host = host;
        this.size = Math.max(0, size);
        this.idTaken = idTaken;
    }

    /** Starts keeping the pool full (once; never before start-up reconciliation has run). */
    synchronized void start() {
        if (filler != null || size == 0 || closed) return;
        filler = Thread.ofVirtual().name("segment-pool").start(this::fill);
    }

    /**
     * A prepared namespace: one from the pool when there is one (no command runs), else made now. The first take starts
     * the pool (a server that never makes a segment prepares none).
     */
    Prepared take() {
        Prepared p;
        synchronized (this) {
            p = ready.pollFirst();
        }
        start();
        wake.release();
        return p != null ? p : prepare();
    }

    synchronized int ready() {
        return ready.size();
    }

    Prepared prepare() {
        String id;
        do {
            byte[] b = new byte[4];
            RANDOM.nextBytes(b);
            id = HexFormat.of().formatHex(b);
        } while (idTaken.test(id));
        String netns = host.netns(id);
        String bridge = dev.vmctl.net.NetNames.bridge(id);
        try {
            host.prepare(netns, bridge);
        } catch (RuntimeException e) {
            host.destroy(netns, List.of());
            throw e;
        }
        return new Prepared(id, netns, bridge);
    }

    private void fill() {
        while (!closed) {
            try {
                while (!closed && ready() < size) {
                    Prepared p = prepare();
                    boolean keep;
                    synchronized (this) {
                        keep = !closed;
                        if (keep) ready.addLast(p);
                    }
                    if (!keep) host.destroy(p.netns(), List.of());
                }
                wake.tryAcquire(30, TimeUnit.SECONDS);
                // a take wakes the filler: let the create that took one answer first (preparing starts ~7 programs)
                Thread.sleep(REFILL_DELAY_MS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("segment pool: prepare a namespace: {}", e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Stops filling and removes the namespaces still in the pool. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = filler;
        }
        wake.release();
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Prepared> left;
        synchronized (this) {
            left = List.copyOf(ready);
            ready.clear();
        }
        for (Prepared p : left) {
            try {
                host.destroy(p.netns(), List.of());
            } catch (RuntimeException e) {
                log.warn("segment pool: remove {}: {}", p.netns(), e.getMessage());
            }
        }
    }
}
