package dev.vmctl.cli;

import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "move", mixinStandardHelpOptions = true,
        description = {"Reconnect a NIC to another network; the VM keeps running and gets an address there.",
                "  vmctl link move a eth0 --net back"})
final class LinkMoveCommand extends LinkPatchCommand {
    /** The guest's address is reconfigured through its agent: more than a plain link change. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Option(names = "--net", required = true, paramLabel = "NET", description = "the network to move to")
    String network;

    @Option(names = "--ip", paramLabel = "IP", description = "a static IP in that network (from its subnet if omitted)")
    String ip;

    LinkMoveCommand(CliContext ctx) { super(ctx); }

    @Override
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("network", network);
        if (ip != null) body.put("ip", ip);
        return body;
    }

    @Override
    Duration timeout() {
        return TIMEOUT;
    }

    @Override
    void print(PrintWriter out, NicView answer) {
        String address = Render.address(answer);
        out.println(label(answer) + ": moved to network " + (answer.network() == null ? network : answer.network())
                + ", " + (address == null ? "no address" : "address " + address));
    }
}
