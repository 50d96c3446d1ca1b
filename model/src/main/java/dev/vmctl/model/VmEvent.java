package dev.vmctl.model;

/**
 * A server event as sent on the SSE stream (schema Event in openapi.json). {@code operation} is the id of the
 * operation the event belongs to, null when none.
 */
public record VmEvent(long seq, String type, String vmId, String name, VmState from, VmState state,
                      String message, String operation, String at) {

    /** An event that belongs to no operation. */
    public VmEvent(long seq, String type, String vmId, String name, VmState from, VmState state, String message, String at) {
        this(seq, type, vmId, name, from, state, message, null, at);
    }
}
