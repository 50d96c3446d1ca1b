package dev.vmctl.cli;

import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Map;

@Command(name = "up", mixinStandardHelpOptions = true, description = "Bring a NIC's link back up: the guest sees carrier return.")
final class LinkUpCommand extends LinkPatchCommand {
    LinkUpCommand(CliContext ctx) { super(ctx); }

    @Override
    Map<String, Object> body() {
        return Map.of("link", "up");
    }

    @Override
    void print(PrintWriter out, NicView answer) {
        out.println(label(answer) + ": link " + (answer.link() == null ? "up" : answer.link()));
    }
}
