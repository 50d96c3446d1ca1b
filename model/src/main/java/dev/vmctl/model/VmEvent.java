package dev.vmctl.model;

/**
 * A server event as sent on the SSE stream. {@code operation} is the id of the operation whose work
 * caused it (null for what nobody asked for, such as a QEMU process that died). {@code data} is the typed
 * payload of the event types that have one (see {@link EventType}); null for the others.
 */
public record VmEvent(long seq, String type, String vmId, String name, VmState from, VmState state,
                      String message, String at, String operation, Object data) {
    public VmEvent(long seq, String type, String vmId, String name, VmState from, VmState state, String message, String at) {
        this(seq, type, vmId, name, from, state, message, at, null, null);
    }
}
