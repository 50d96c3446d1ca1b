package dev.vmctl.vmm;

/**
 * A QMP command failed. The message reads {@code "qmp COMMAND: CLASS: desc"} for an error reply from
 * QEMU, and {@code "qmp COMMAND: cause"} otherwise; {@link #reason()} says which kind of failure it was.
 */
public class QmpException extends RuntimeException {
    /** What went wrong. */
    public enum Reason {
        /** QEMU answered with {@code {"error": {...}}}; {@link #errorClass()} holds its class. */
        ERROR_REPLY,
        /** No reply within the caller's timeout; the connection is still usable. */
        TIMEOUT,
        /** The connection closed (QEMU exited or {@code close()} was called) before a reply. */
        CLOSED,
        /** Could not connect, or the greeting/capabilities handshake failed. */
        CONNECT
    }

    private final Reason reason;
    private final String command;
    private final String errorClass;

    public QmpException(Reason reason, String command, String errorClass, String desc, Throwable cause) {
        super("qmp " + command + ": " + (errorClass == null ? "" : errorClass + ": ") + desc, cause);
        this.reason = reason;
        this.command = command;
        this.errorClass = errorClass;
    }

    public QmpException(Reason reason, String command, String desc) {
        this(reason, command, null, desc, null);
    }

    public Reason reason() { return reason; }

    /** The QMP command (or "connect"/"greeting" for handshake failures). */
    public String command() { return command; }

    /** QEMU's error class ("GenericError", "CommandNotFound", "DeviceNotFound", ...), or null. */
    public String errorClass() { return errorClass; }
}
