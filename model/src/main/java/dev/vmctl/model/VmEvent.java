package dev.vmctl.model;

/** A server event as sent on the SSE stream. */
public record VmEvent(long seq, String type, String vmId, String name, VmState from, VmState state,
                      String message, String at) {
}
