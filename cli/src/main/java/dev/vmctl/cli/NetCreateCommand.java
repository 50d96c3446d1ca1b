package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NetworkView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create a network: an isolated L2 segment with its own subnet; the first address is the gateway.",
                "  vmctl net create front --subnet 198.18.10.0/24",
                "  vmctl net create back --subnet 198.18.20.0/24 --vlan 20"})
final class NetCreateCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "lower-case letters, digits and '-'")
    String name;

    @Option(names = "--subnet", required = true, paramLabel = "CIDR", description = "the segment's IPv4 subnet, e.g. 198.18.10.0/24")
    String subnet;

    @Option(names = "--vlan", paramLabel = "N", description = "a VLAN id (1-4094); none if omitted")
    Integer vlan;

    @Mixin
    OutputOption output;

    NetCreateCommand(CliContext ctx) { this.ctx = ctx; }

    /** Only what the user gave: no vlan key without --vlan. */
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("subnet", subnet);
        if (vlan != null) body.put("vlan", vlan);
        return body;
    }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/networks", body(), ApiClient.DEFAULT_TIMEOUT);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            NetworkView n = Json.as(json, NetworkView.class);
            ctx.out().println("created network " + n.name() + ": " + n.subnet() + ", gateway " + n.gateway()
                    + (n.vlan() == null ? "" : ", vlan " + n.vlan()
                    + (n.vlanMechanism() == null ? "" : " (" + n.vlanMechanism() + ")")));
            ctx.out().flush();
        }
        return 0;
    }
}
