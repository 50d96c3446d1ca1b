package dev.vmctl.engine.op;

import dev.vmctl.engine.EventBus;
import dev.vmctl.model.EventType;
import dev.vmctl.model.Operation;
import dev.vmctl.model.OperationState;
import dev.vmctl.model.VmctlException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every mutating call is an operation: recorded (SQLite), run one at a time per resource in arrival order,
 * awaited by clients instead of polled.
 *
 * <p>A resource is a <em>lane</em> ({@code vm:ID}, {@code network:NAME}, {@code topology:NAME} …): the
 * operations of one lane run one after the other on their own virtual thread, in the order they were
 * submitted; lanes run in parallel. An operation may start others (a topology deploy starts VMs): those
 * are its children and run on their own lanes. An operation may <em>hold</em> a lane (a deploy holds the
 * VMs it creates): until it finishes, only it and its descendants may submit to that lane; anyone else
 * gets a 409 naming it. No lock is held while an operation's body runs.
 *
 * <p>The body calls {@link Op#accept} once its precondition held and its first effect is visible (a VM
 * is PREPARING): a caller that submitted to an idle lane waits for that moment, so a wrong-state call
 * still fails at once with a 409, while a call queued behind others is answered as queued and checks its
 * precondition when its turn comes.
 */
public final class Operations {
    private static final Logger log = LoggerFactory.getLogger(Operations.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Op> CURRENT = new ThreadLocal<>();
    /** Finished operations kept in memory for fast waits; the store has them all. */
    private static final int RECENT = 512;

    /** What an operation does; returns its result (or null). */
    @FunctionalInterface
    public interface Body {
        Object run(Op op) throws Exception;
    }

    /** The operation ended because it was cancelled (a stop pre-empting a boot, vm rm --force, op cancel). */
    public static final class CancelledException extends RuntimeException {
        public CancelledException(String message) {
            super(message);
        }
    }

    private final OperationStore store;
    private final EventBus events;
    private final Map<String, Lane> lanes = new HashMap<>();
    private final Map<String, Op> holds = new HashMap<>();
    private final Map<String, Op> live = new LinkedHashMap<>();
    private final Map<String, Op> recent = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Op> e) {
            return size() > RECENT;
        }
    };

    public Operations(OperationStore store, EventBus events) {
        this.store = store;
        this.events = events;
    }

    /** The operation whose body runs on this thread (null outside operations); events carry its id. */
    public static Op current() {
        return CURRENT.get();
    }

    public static String currentId() {
        Op op = CURRENT.get();
        return op == null ? null : op.id;
    }

    /** Wraps work handed to another thread so that it runs as part of the calling operation. */
    public static Runnable propagate(Runnable r) {
        Op op = CURRENT.get();
        if (op == null) return r;
        return () -> {
            Op before = CURRENT.get();
            CURRENT.set(op);
            try {
                r.run();
            } finally {
                if (before == null) CURRENT.remove(); else CURRENT.set(before);
            }
        };
    }

    /** Runs {@code r} as if outside any operation (callbacks of processes, for instance). */
    public static void outside(Runnable r) {
        Op before = CURRENT.get();
        CURRENT.remove();
        try {
            r.run();
        } finally {
            if (before != null) CURRENT.set(before);
        }
    }

    /** At start-up: operations that were queued or running when the server died are failed. */
    public List<Operation> failInterrupted() {
        List<Operation> failed = store.failInterrupted();
        for (Operation o : failed) {
            log.info("operation {} ({}) failed: server restarted", o.id(), o.kind());
            events.publish(EventType.OPERATION_FAILED, null, String.join(",", o.targets()), null, null, o.kind() + ": " + o.error(), o.id());
        }
        return failed;
    }

    // ---------------------------------------------------------------- submit

    /** Options of one submission. */
    public record Spec(String kind, String lane, List<String> targets, boolean cancellable) {
        public Spec {
            targets = targets == null ? List.of(lane) : List.copyOf(targets);
        }

        public static Spec of(String kind, String lane) {
            return new Spec(kind, lane, List.of(lane), false);
        }

        public Spec asCancellable() {
            return new Spec(kind, lane, targets, true);
        }

        public Spec targets(List<String> t) {
            return new Spec(kind, lane, t, cancellable);
        }
    }

    /**
     * Queues an operation on its lane. Throws a 409 (and records nothing) when the lane is held by an
     * operation that is neither the caller's nor one of its ancestors.
     */
    public Op submit(Spec spec, Body body) {
        Op parent = CURRENT.get();
        Op op = new Op(newId(), spec, parent, body);
        boolean startNow;
        synchronized (this) {
            Op holder = holds.get(spec.lane());
            if (holder != null && !holder.isAncestorOrSelf(parent)) {
                throw VmctlException.conflict(spec.lane().replace(':', ' ') + " is held by operation " + holder.id
                                + " (" + holder.kind + " " + String.join(",", holder.targets) + ")",
                        "wait for it: vmctl op wait " + holder.id);
            }
            // recorded as queued before it can start: the journal never shows a running operation as queued
            store.save(op.view());
            Lane lane = lanes.computeIfAbsent(spec.lane(), Lane::new);
            op.queuedBehind = lane.running != null || !lane.queue.isEmpty();
            lane.queue.addLast(op);
            live.put(op.id, op);
            startNow = lane.running == null;
            publish(op, EventType.OPERATION_QUEUED, null); // before anyone can announce it running
        }
        if (startNow) startNext(spec.lane());
        return op;
    }

    /**
     * Submits and, when the lane was idle, waits until the body accepted (or finished): a failure before
     * that point is thrown to the caller as it is (a 409 for a wrong state, say). When the operation is
     * queued behind others it returns at once.
     */
    public Op submitAndAccept(Spec spec, Body body) {
        Op op = submit(spec, body);
        if (!op.queuedBehind) op.awaitAccepted(Duration.ofMinutes(10));
        return op;
    }

    /**
     * Submits, waits until the operation finished (at most {@code timeout}) and answers with it and its result;
     * its error is thrown as it is. For calls whose answer is the work's result (a NIC change, a network).
     */
    public <T> Accepted<T> run(Spec spec, Duration timeout, Body body) {
        Op op = submit(spec, body);
        @SuppressWarnings("unchecked") T r = (T) op.join(timeout);
        return new Accepted<>(op.view(), r);
    }

    private void startNext(String laneKey) {
        Op next;
        synchronized (this) {
            Lane lane = lanes.get(laneKey);
            if (lane == null || lane.running != null) return;
            next = lane.queue.pollFirst();
            if (next == null) {
                lanes.remove(laneKey);
                return;
            }
            lane.running = next;
        }
        Op op = next;
        Thread.ofVirtual().name("op-" + op.kind + "-" + op.id).start(() -> run(op));
    }

    private void run(Op op) {
        synchronized (op) {
            op.state = OperationState.RUNNING;
            op.startedAt = Instant.now().toString();
        }
        store.save(op.view());
        CURRENT.set(op);
        publish(op, EventType.OPERATION_RUNNING, null);
        OperationState end;
        String error = null;
        Object result = null;
        RuntimeException failure = null;
        try {
            if (op.cancelRequested) throw new CancelledException(op.kind + " cancelled before it started");
            result = op.body.run(op);
            end = OperationState.SUCCEEDED;
        } catch (CancelledException e) {
            end = OperationState.CANCELLED;
            error = e.getMessage();
            failure = e;
        } catch (RuntimeException e) {
            end = op.cancelRequested ? OperationState.CANCELLED : OperationState.FAILED;
            error = e.getMessage() == null ? e.toString() : e.getMessage();
            failure = end == OperationState.CANCELLED ? new CancelledException(op.kind + " cancelled: " + error) : e;
            if (!(e instanceof VmctlException)) log.warn("operation {} ({}) failed", op.id, op.kind, e);
        } catch (Exception e) {
            end = OperationState.FAILED;
            error = e.toString();
            failure = VmctlException.internal(op.kind + ": " + e.getMessage(), e);
        } catch (Error e) {
            end = OperationState.FAILED;
            error = e.toString();
            failure = VmctlException.internal(op.kind + ": " + e, e);
            log.error("operation {} ({})", op.id, op.kind, e);
        } finally {
            CURRENT.remove();
        }
        // the lane is free before anyone learns that the operation ended: a call made right after a wait
        // finds an idle lane (and its precondition checked at once), not a lane still busy with this one
        synchronized (this) {
            Lane lane = lanes.get(op.spec.lane());
            if (lane != null && lane.running == op) lane.running = null;
        }
        finish(op, end, error, result, failure);
        startNext(op.spec.lane());
    }

    private void finish(Op op, OperationState end, String error, Object result, RuntimeException failure) {
        synchronized (op) {
            op.state = end;
            op.finishedAt = Instant.now().toString();
            op.error = error;
            op.result = result;
            op.failure = failure;
        }
        synchronized (this) {
            holds.values().removeIf(h -> h == op);
            live.remove(op.id);
            recent.put(op.id, op);
        }
        store.save(op.view());
        Op before = CURRENT.get();
        CURRENT.set(op);
        try {
            publish(op, EventType.of(end), error);
        } finally {
            if (before == null) CURRENT.remove(); else CURRENT.set(before);
        }
        op.accepted.complete(null);
        op.done.complete(op);
    }

    private void publish(Op op, EventType type, String error) {
        String msg = op.kind + (error == null ? "" : ": " + error);
        events.publish(type, vmIdOf(op), String.join(",", op.targets), null, null, msg, op.id, op.view());
    }

    private static String vmIdOf(Op op) {
        String t = op.spec.lane();
        return t.startsWith("vm:") ? t.substring(3) : null;
    }

    // ---------------------------------------------------------------- holds, cancel, queries

    /** Until {@code op} finishes, only it and its descendants may submit operations to {@code lane}. */
    public synchronized void hold(String lane, Op op) {
        Op h = holds.get(lane);
        if (h != null && h != op && !h.isAncestorOrSelf(op)) {
            throw VmctlException.conflict(lane.replace(':', ' ') + " is held by operation " + h.id, "wait for it: vmctl op wait " + h.id);
        }
        if (h == null) holds.put(lane, op);
    }


    /** The running operation of a lane, if any. */
    public synchronized Op running(String lane) {
        Lane l = lanes.get(lane);
        return l == null ? null : l.running;
    }

    /**
     * Cancels what is queued on a lane (and the running operation when it is cancellable), except the
     * caller's own operation and its ancestors. Returns the operations cancelled or asked to stop.
     */
    public List<Op> cancelLane(String lane, String why, Op keep) {
        List<Op> queued = new ArrayList<>();
        Op running;
        Op self = CURRENT.get();
        synchronized (this) {
            Lane l = lanes.get(lane);
            if (l == null) return List.of();
            for (var it = l.queue.iterator(); it.hasNext(); ) {
                Op o = it.next();
                if (o == keep || o.isAncestorOrSelf(self)) continue;
                it.remove();
                queued.add(o);
            }
            running = l.running;
        }
        List<Op> out = new ArrayList<>();
        for (Op o : queued) {
            finish(o, OperationState.CANCELLED, why, null, new CancelledException(o.kind + " cancelled: " + why));
            out.add(o);
        }
        if (running != null && running.cancellable() && !running.isAncestorOrSelf(self)) {
            running.requestCancel(why);
            out.add(running);
        }
        return out;
    }

    /** Asks a running operation to cancel (its hooks run now); no-op once it has finished. */
    public void cancel(Op op, String why) {
        if (!op.state.finished()) op.requestCancel(why);
    }


    /** Cancels one operation: a queued one at once, a running one if it can be (a boot), else 409. */
    public Operation cancel(String id) {
        Op op;
        boolean wasQueued = false;
        synchronized (this) {
            op = live.get(id);
            if (op == null) {
                Operation done = get(id);
                throw VmctlException.conflict("operation " + id + " has already finished (" + done.state() + ")", "nothing to cancel");
            }
            if (op.state == OperationState.QUEUED) {
                Lane l = lanes.get(op.spec.lane());
                if (l != null && l.queue.remove(op)) wasQueued = true;
            }
        }
        if (wasQueued) {
            finish(op, OperationState.CANCELLED, "cancelled by request", null, new CancelledException(op.kind + " cancelled by request"));
        } else if (op.cancellable()) {
            op.requestCancel("cancelled by request");
        } else {
            throw VmctlException.conflict("operation " + id + " (" + op.kind + ") cannot be cancelled while it runs",
                    "only queued operations and boots (start, reboot, restore, clone) can be cancelled; wait: vmctl op wait " + id);
        }
        return op.view();
    }

    public Operation get(String id) {
        Op op;
        synchronized (this) {
            op = live.get(id);
            if (op == null) op = recent.get(id);
        }
        if (op != null) return op.view();
        return store.get(id).orElseThrow(() -> VmctlException.notFound("operation", id));
    }

    public List<Operation> list(String target, String state, String kind, int limit) {
        return store.list(target, state, kind, limit);
    }

    /** Waits until the operation has finished or the timeout passed, and returns it as it is then. */
    public Operation await(String id, Duration timeout) {
        Op op;
        synchronized (this) {
            op = live.get(id);
        }
        if (op == null) return get(id);
        try {
            op.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // answered as it is at the deadline
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // done never completes exceptionally
        }
        return op.view();
    }


    private static String newId() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static final class Lane {
        final String key;
        final ArrayDeque<Op> queue = new ArrayDeque<>();
        Op running;

        Lane(String key) {
            this.key = key;
        }
    }

    /** One operation while it lives. */
    public static final class Op {
        final String id;
        final String kind;
        final List<String> targets;
        final Spec spec;
        final Op parent;
        final Body body;
        final String createdAt = Instant.now().toString();
        final CompletableFuture<Void> accepted = new CompletableFuture<>();
        final CompletableFuture<Op> done = new CompletableFuture<>();
        private final List<Runnable> cancelHooks = new CopyOnWriteArrayList<>();
        volatile OperationState state = OperationState.QUEUED;
        volatile boolean cancelRequested;
        volatile String cancelReason;
        boolean queuedBehind;
        String startedAt;
        String finishedAt;
        String error;
        volatile String progress;
        Object result;
        Object acceptedValue;
        RuntimeException failure;

        Op(String id, Spec spec, Op parent, Body body) {
            this.id = id;
            this.kind = spec.kind();
            this.targets = spec.targets();
            this.spec = spec;
            this.parent = parent;
            this.body = body;
        }

        public String id() { return id; }
        public String kind() { return kind; }
        public boolean cancellable() { return spec.cancellable(); }
        public boolean cancelRequested() { return cancelRequested; }
        /** Why it was asked to cancel (null when it was not). */
        public String cancelReason() { return cancelReason; }
        public boolean queuedBehind() { return queuedBehind; }

        /** The precondition held and the first effect is visible; optionally a value for the submitter. */
        public void accept() {
            synchronized (this) {
                acceptedByBody = true;
            }
            accepted.complete(null);
        }

        public void accept(Object value) {
            synchronized (this) {
                acceptedValue = value;
                acceptedByBody = true;
            }
            accepted.complete(null);
        }

        /** A progress message (kept as the operation's {@code progress}). */
        public void progress(String message) {
            progress = message;
        }

        /** Runs once the operation has ended, whichever way (at once when it already has). */
        public void whenDone(Runnable hook) {
            done.whenComplete((o, e) -> hook.run());
        }

        /** Runs when the operation is asked to cancel (at once when it already was). */
        public void onCancel(Runnable hook) {
            cancelHooks.add(hook);
            if (cancelRequested) hook.run();
        }

        /** Throws {@link CancelledException} when the operation was asked to cancel. */
        public void checkCancelled() {
            if (cancelRequested) throw new CancelledException(kind + " cancelled: " + cancelReason);
        }

        private boolean cancelClaimed;

        /** True for the one caller that gets to cancel this operation (a stop pre-empting a boot); false for later ones. */
        public synchronized boolean claimCancel() {
            if (cancelClaimed || cancelRequested || state.finished()) return false;
            cancelClaimed = true;
            return true;
        }

        void requestCancel(String why) {
            if (cancelRequested) return;
            cancelReason = why;
            cancelRequested = true;
            for (Runnable h : cancelHooks) {
                try {
                    h.run();
                } catch (RuntimeException e) {
                    log.warn("operation {}: cancel hook: {}", id, e.getMessage());
                }
            }
        }

        boolean isAncestorOrSelf(Op other) {
            for (Op o = other; o != null; o = o.parent) if (o == this) return true;
            return false;
        }

        /** Waits until the body accepted or the operation ended; rethrows a failure that came first. */
        public void awaitAccepted(Duration timeout) {
            try {
                CompletableFuture.anyOf(accepted, done).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                return;
            }
            synchronized (this) {
                if (state.finished() && failure != null && !acceptedByBody) throw failure;
            }
        }

        private boolean acceptedByBody;

        /** Waits for the end; returns the result or throws the failure. */
        public Object join(Duration timeout) {
            try {
                done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, kind + ": still running after " + timeout.toSeconds() + " s",
                        "operation " + id + " goes on; vmctl op wait " + id);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmctlException(VmctlException.Kind.INTERNAL, "interrupted", null);
            } catch (ExecutionException e) {
                throw VmctlException.internal(kind + ": " + e.getMessage(), e);
            }
            synchronized (this) {
                if (failure != null) throw failure;
                return result;
            }
        }

        /** Waits for the end (no throw). */
        public Operation await(Duration timeout) {
            try {
                done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // as it is
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return view();
        }

        public synchronized Object acceptedValue() { return acceptedValue; }
        public OperationState state() { return state; }

        public synchronized Operation view() {
            return new Operation(id, kind, targets, state.wire(), parent == null ? null : parent.id, createdAt, startedAt, finishedAt,
                    error, progress);
        }
    }
}
