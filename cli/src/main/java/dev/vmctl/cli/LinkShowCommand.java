package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.vmctl.model.NicView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show a VM's NICs (or one NIC in full, with the mechanisms behind its impairments).")
final class LinkShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "VM", description = "the VM's name or id")
    String vm;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NIC", description = "one NIC: eth0, eth1, … (all if omitted)")
    String nic;

    @Mixin
    OutputOption output;

    LinkShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/vms/" + ApiClient.seg(vm));
        JsonNode nics = json.get("nics");
        if (nics == null || !nics.isArray()) nics = JsonNodeFactory.instance.arrayNode();
        String label = json.hasNonNull("name") ? json.get("name").asText() : vm;
        if (nic == null) {
            if (output.json()) OutputOption.printJson(ctx.out(), nics);
            else Render.nicTable(Json.listOf(nics, NicView.class)).print(ctx.out());
            return 0;
        }
        List<String> names = new ArrayList<>();
        for (JsonNode n : nics) {
            String name = n.path("name").asText();
            if (name.equals(nic)) {
                if (output.json()) OutputOption.printJson(ctx.out(), n);
                else Render.nic(ctx.out(), label, Json.as(n, NicView.class));
                return 0;
            }
            names.add(name);
        }
        throw CliException.failed("vm " + label + " has no NIC " + nic,
                names.isEmpty() ? "it has no NICs" : "its NICs: " + String.join(", ", names));
    }
}
