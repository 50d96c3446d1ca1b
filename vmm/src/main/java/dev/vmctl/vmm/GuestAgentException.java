package dev.vmctl.vmm;

/**
 * A guest-agent request failed. The message reads {@code "guest-agent COMMAND: desc"}; {@link #reason()}
 * says which kind of failure it was and {@link #errorClass()} holds the agent's error class, if any.
 */
public class GuestAgentException extends RuntimeException {
    /** What went wrong. */
    public enum Reason {
        /** The agent answered with {@code {"error": {...}}}. */
        ERROR_REPLY,
        /** No reply in time (agent not running yet, or stuck). The next call resynchronises first. */
        TIMEOUT,
        /** The socket closed (QEMU exited or {@code close()} was called). */
        CLOSED,
        /** Could not connect to the chardev socket. */
        CONNECT,
        /** The agent's reply did not have the expected shape. */
        PROTOCOL
    }

    private final Reason reason;
    private final String command;
    private final String errorClass;

    public GuestAgentException(Reason reason, String command, String errorClass, String desc, Throwable cause) {
        super("guest-agent " + command + ": " + desc, cause);
        this.reason = reason;
        this.command = command;
        this.errorClass = errorClass;
    }

    public GuestAgentException(Reason reason, String command, String desc) {
        this(reason, command, null, desc, null);
    }

    public Reason reason() { return reason; }

    public String command() { return command; }

    /** The agent's error class ("GenericError", "CommandNotFound", ...), or null. */
    public String errorClass() { return errorClass; }
}
