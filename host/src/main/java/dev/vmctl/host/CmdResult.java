package dev.vmctl.host;

import java.util.List;

/** The outcome of one OS command: argv in, exit code and output out. */
public record CmdResult(List<String> argv, int exitCode, String stdout, String stderr) {
    public boolean ok() { return exitCode == 0; }

    /** Throws a {@link CmdException} that names the command, its exit code and the tail of stderr. */
    public CmdResult orThrow() {
        if (exitCode != 0) throw new CmdException(this);
        return this;
    }

    public String stderrTail() {
        String s = stderr.strip();
        return s.length() > 600 ? "…" + s.substring(s.length() - 600) : s;
    }
}
