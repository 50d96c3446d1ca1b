package dev.vmctl.engine;

import dev.vmctl.model.EventType;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmState;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Server events (state changes, progress). Keeps the last few hundred so a reconnecting client can catch up. */
public final class EventBus {
    private static final int KEEP = 512;
    private final List<Consumer<VmEvent>> listeners = new CopyOnWriteArrayList<>();
    private final Deque<VmEvent> recent = new ArrayDeque<>();
    private long seq;

    /** Publishes an event of the operation running on this thread (if any). */
    public VmEvent publish(EventType type, String vmId, String name, VmState from, VmState to, String message) {
        return publish(type, vmId, name, from, to, message, dev.vmctl.engine.op.Operations.currentId());
    }

    public VmEvent publish(EventType type, String vmId, String name, VmState from, VmState to, String message, String operation) {
        return publish(type, vmId, name, from, to, message, operation, null);
    }

    /** An event of the operation running on this thread (if any) with a typed payload ({@link VmEvent#data()}). */
    public VmEvent publishData(EventType type, String vmId, String name, VmState from, VmState to, String message, Object data) {
        return publish(type, vmId, name, from, to, message, dev.vmctl.engine.op.Operations.currentId(), data);
    }

    /** An event with a typed payload ({@link VmEvent#data()}). */
    public VmEvent publish(EventType type, String vmId, String name, VmState from, VmState to, String message, String operation,
                           Object data) {
        VmEvent e;
        synchronized (this) {
            e = new VmEvent(++seq, type.wire(), vmId, name, from, to, message, Instant.now().toString(), operation, data);
            recent.addLast(e);
            if (recent.size() > KEEP) recent.removeFirst();
        }
        for (Consumer<VmEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ignored) {
                // one broken listener (a closed SSE client) must not stop the others
            }
        }
        return e;
    }

    public Runnable subscribe(Consumer<VmEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    public synchronized List<VmEvent> since(long afterSeq) {
        List<VmEvent> out = new ArrayList<>();
        for (VmEvent e : recent) if (e.seq() > afterSeq) out.add(e);
        return out;
    }
}
