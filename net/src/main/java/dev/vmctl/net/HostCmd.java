package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.util.List;

/**
 * This package's use of {@link Cmd}: runs an argv and turns a failure into a {@link VmctlException}
 * whose message reads "operation: subject: command: exit N: stderr tail".
 */
final class HostCmd {
    static final ObjectMapper JSON = new ObjectMapper();

    private HostCmd() {}

    static CmdResult run(List<String> argv) {
        return Cmd.run(argv);
    }

    /** Runs argv; on a non-zero exit throws INTERNAL "operation: subject: cause". */
    static CmdResult check(String operation, String subject, List<String> argv) {
        CmdResult r = Cmd.run(argv);
        if (!r.ok()) throw failed(operation, subject, r);
        return r;
    }

    static VmctlException failed(String operation, String subject, CmdResult r) {
        return failed(VmctlException.Kind.INTERNAL, operation, subject, r);
    }

    static VmctlException failed(VmctlException.Kind kind, String operation, String subject, CmdResult r) {
        String tail = r.stderrTail().replace('\n', ' ');
        String cause = String.join(" ", r.argv()) + ": exit " + r.exitCode() + (tail.isEmpty() ? "" : ": " + tail);
        return new VmctlException(kind, operation + ": " + subject + ": " + cause, tail.isEmpty() ? null : tail);
    }

    /** Parses the JSON printed by {@code ip -json} / {@code tc -json}; empty output is an empty array. */
    static JsonNode json(String operation, String subject, CmdResult r) {
        String out = r.stdout().strip();
        if (out.isEmpty()) return JSON.createArrayNode();
        try {
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.INTERNAL,
                    operation + ": " + subject + ": cannot parse the JSON of " + String.join(" ", r.argv()) + ": " + e.getMessage(),
                    out.length() > 300 ? out.substring(0, 300) + "…" : out, e);
        }
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
