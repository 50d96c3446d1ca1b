package dev.vmctl.cli;

import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Map;

@Command(name = "down", mixinStandardHelpOptions = true,
        description = "Take a NIC's link down: the guest sees carrier loss (QMP set_link) and the tap goes down.")
final class LinkDownCommand extends LinkPatchCommand {
    LinkDownCommand(CliContext ctx) { super(ctx); }

    @Override
    Map<String, Object> body() {
        return Map.of("link", "down");
    }

    @Override
    void print(PrintWriter out, NicView answer) {
        out.println(label(answer) + ": link " + (answer.link() == null ? "down" : answer.link()));
    }
}
