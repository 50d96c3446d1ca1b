package dev.vmctl.cli;

import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "impair", mixinStandardHelpOptions = true,
        description = {"Impair a NIC's traffic: delay, jitter, loss, corruption, duplication (netem) and a rate limit (tbf).",
                "Replaces the NIC's impairments with the ones given; prints which mechanism applied each.",
                "--direction says which way the netem part acts, seen from the guest: egress (what it sends; the default),",
                "ingress (what it receives) or both. A rate limits both ways.",
                "  vmctl link impair a eth0 --delay 50ms --jitter 5ms --loss 2%% --rate 10mbit",
                "  vmctl link impair a eth0 --delay 100ms --direction ingress"})
final class LinkImpairCommand extends LinkPatchCommand {
    @Option(names = "--delay", paramLabel = "TIME", description = "added latency, e.g. 50ms")
    String delay;

    @Option(names = "--jitter", paramLabel = "TIME", description = "latency variation, e.g. 5ms (with --delay)")
    String jitter;

    @Option(names = "--loss", paramLabel = "PERCENT", description = "packet loss, e.g. 2%%")
    String loss;

    @Option(names = "--rate", paramLabel = "RATE", description = "bandwidth limit, e.g. 10mbit, 512kbit")
    String rate;

    @Option(names = "--corrupt", paramLabel = "PERCENT", description = "corrupted packets, e.g. 0.1%%")
    String corrupt;

    @Option(names = "--duplicate", paramLabel = "PERCENT", description = "duplicated packets, e.g. 1%%")
    String duplicate;

    @Option(names = "--direction", paramLabel = "DIR",
            description = "which way delay, jitter, loss, corruption and duplication act: egress (what the guest sends; default), ingress (what it receives), both")
    String direction;

    LinkImpairCommand(CliContext ctx) { super(ctx); }

    /** {@code {"impair":{...}}} with the values exactly as typed (the server parses them), only those given. */
    @Override
    Map<String, Object> body() {
        Map<String, Object> impair = new LinkedHashMap<>();
        if (delay != null) impair.put("delay", delay);
        if (jitter != null) impair.put("jitter", jitter);
        if (loss != null) impair.put("loss", loss);
        if (rate != null) impair.put("rate", rate);
        if (corrupt != null) impair.put("corrupt", corrupt);
        if (duplicate != null) impair.put("duplicate", duplicate);
        if (impair.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "link impair needs at least one of --delay, --jitter,"
                    + " --loss, --rate, --corrupt, --duplicate (to remove impairments: vmctl link clear "
                    + vm + " " + nic + ")");
        }
        if (direction != null) impair.put("direction", direction);   // the server checks it (egress, ingress, both)
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("impair", impair);
        return body;
    }

    @Override
    void print(PrintWriter out, NicView answer) {
        Render.nic(out, vm, answer);
    }
}
