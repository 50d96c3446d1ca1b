package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show one VM and its NICs.")
final class VmShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name or id")
    String name;

    @Mixin
    OutputOption output;

    VmShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/vms/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.vm(ctx.out(), Json.as(json, VmView.class));
        return 0;
    }
}
