package dev.vmctl.cli;

/**
 * The CLI's one exception type. It carries what the user sees ({@code error: <message>} and an
 * optional indented detail line) and the process exit code; {@link VmctlCli} prints it in one place.
 */
final class CliException extends RuntimeException {
    /** The server refused or failed a request, or a wait ended in ERROR or a timeout. */
    static final int FAILED = 1;
    /** The server could not be reached at all. */
    static final int UNREACHABLE = 3;

    /** A file that is not valid, or a request the server refused as invalid or not runnable (scenario verbs). */
    static final int INVALID = 2;

    private final int exitCode;
    private final String detail;
    private final int httpStatus;

    private CliException(int exitCode, String message, String detail, Throwable cause) {
        this(exitCode, message, detail, cause, 0);
    }

    private CliException(int exitCode, String message, String detail, Throwable cause, int httpStatus) {
        super(message, cause);
        this.exitCode = exitCode;
        this.detail = detail;
        this.httpStatus = httpStatus;
    }

    /** The HTTP status of the server's answer (0 when there was none). */
    int httpStatus() { return httpStatus; }

    /** The same error with another exit code. */
    CliException withExitCode(int code) {
        return new CliException(code, getMessage(), detail, getCause(), httpStatus);
    }

    int exitCode() { return exitCode; }

    /** The second line printed under {@code error: ...}, or null. */
    String detail() { return detail; }

    /** A 4xx/5xx answer: {@code {"error": ..., "detail": ...}}. */
    static CliException server(String error, String detail) {
        return new CliException(FAILED, error, detail, null);
    }

    static CliException server(int status, String error, String detail) {
        return new CliException(FAILED, error, detail, null, status);
    }

    static CliException invalid(String message, String detail) {
        return new CliException(INVALID, message, detail, null);
    }

    static CliException unreachable(String url, Throwable cause) {
        return new CliException(UNREACHABLE,
                "cannot reach the vmctl server at " + url + " (start it with ./vmctl serve)", null, cause);
    }

    /** Wrong use of a command that picocli cannot catch itself (exit 2, like picocli's usage errors). */
    static CliException usage(String message) {
        return new CliException(2, message, null, null);
    }

    static CliException failed(String message, String detail) {
        return new CliException(FAILED, message, detail, null);
    }

    static CliException failed(String message, String detail, Throwable cause) {
        return new CliException(FAILED, message, detail, cause);
    }
}
