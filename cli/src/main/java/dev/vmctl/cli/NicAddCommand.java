package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "add", mixinStandardHelpOptions = true,
        description = {"Add a NIC to a VM (hot-plugged when it is running: a few seconds); it gets the next name, eth0, eth1, ….",
                "  vmctl nic add a --net back"})
final class NicAddCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "VM", description = "the VM's name or id")
    String vm;

    @Option(names = "--net", required = true, paramLabel = "NET", description = "the network to attach to")
    String network;

    @Option(names = "--ip", paramLabel = "IP", description = "a static IP in that network (from its subnet if omitted)")
    String ip;

    @Option(names = "--rate", paramLabel = "RATE", description = "the NIC's default rate both ways, e.g. 10mbit (link impair --rate overrides it; link clear returns to it)")
    String rate;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.Converter.class,
            description = "how long to wait for the server (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    NicAddCommand(CliContext ctx) { this.ctx = ctx; }

    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("network", network);
        if (ip != null) body.put("ip", ip);
        if (rate != null) body.put("rate", rate);
        return body;
    }

    @Override
    public Integer call() {
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println("adding a NIC on network " + network + " to " + vm + "…");
        progress.flush();
        long start = System.nanoTime();
        JsonNode json = ctx.api().post("/api/v1/vms/" + ApiClient.seg(vm) + "/nics", body(), timeout);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        NicView n = Json.as(json, NicView.class);
        String address = Render.address(n);
        ctx.out().println("added " + n.name() + " to " + vm + " in " + Durations.elapsed(System.nanoTime() - start)
                + ": network " + n.network() + ", " + (address == null ? "no address" : "address " + address)
                + (n.mac() == null ? "" : ", mac " + n.mac()));
        ctx.out().flush();
        return 0;
    }
}
