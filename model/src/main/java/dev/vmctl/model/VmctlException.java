package dev.vmctl.model;

/**
 * The one exception type that crosses module boundaries. {@link Kind} says how the API layer maps it
 * (one place, see the server's error mapper); the message reads "operation: subject: cause".
 */
public class VmctlException extends RuntimeException {
    public enum Kind { INVALID, NOT_FOUND, CONFLICT, WRONG_STATE, UNAVAILABLE, INTERNAL, FORBIDDEN, UNAUTHORIZED }

    private final Kind kind;
    private final String detail;

    public VmctlException(Kind kind, String message, String detail) {
        super(message);
        this.kind = kind;
        this.detail = detail;
    }

    public VmctlException(Kind kind, String message, String detail, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.detail = detail;
    }

    public Kind kind() { return kind; }
    public String detail() { return detail; }

    public static VmctlException invalid(String field, String message, String allowed) {
        return new VmctlException(Kind.INVALID, "invalid " + field + ": " + message, "allowed: " + allowed);
    }
    public static VmctlException notFound(String what, String name) {
        return new VmctlException(Kind.NOT_FOUND, what + " not found: " + name, null);
    }
    public static VmctlException conflict(String message, String detail) {
        return new VmctlException(Kind.CONFLICT, message, detail);
    }
    public static VmctlException internal(String message, Throwable cause) {
        return new VmctlException(Kind.INTERNAL, message, cause == null ? null : String.valueOf(cause.getMessage()), cause);
    }
}
