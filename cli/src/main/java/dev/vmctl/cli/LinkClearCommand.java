package dev.vmctl.cli;

import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Map;

@Command(name = "clear", mixinStandardHelpOptions = true, description = "Remove every impairment from a NIC.")
final class LinkClearCommand extends LinkPatchCommand {
    LinkClearCommand(CliContext ctx) { super(ctx); }

    /** {@code {"impair": null}}: the explicit null is what clears (Map.of cannot hold it). */
    @Override
    Map<String, Object> body() {
        Map<String, Object> body = new HashMap<>();
        body.put("impair", null);
        return body;
    }

    @Override
    void print(PrintWriter out, NicView answer) {
        String left = Render.impair(answer.impair());
        out.println(label(answer) + ": impairments cleared" + ("-".equals(left) ? "" : " (still in force: " + left + ")"));
    }
}
