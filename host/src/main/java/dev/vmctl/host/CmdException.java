package dev.vmctl.host;

public class CmdException extends RuntimeException {
    private final transient CmdResult result;

    public CmdException(CmdResult r) {
        super(String.join(" ", r.argv()) + ": exit " + r.exitCode()
                + (r.stderrTail().isEmpty() ? "" : ": " + r.stderrTail()));
        this.result = r;
    }

    public CmdException(String message, Throwable cause) {
        super(message, cause);
        this.result = null;
    }

    public CmdResult result() { return result; }
}
