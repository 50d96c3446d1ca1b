package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "doctor", mixinStandardHelpOptions = true, description = "Show what the server's host can do: accelerator, QEMU, kernel, capabilities.")
final class DoctorCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    DoctorCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode host = ctx.api().get("/api/v1/host");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), host);
        } else {
            Render.host(ctx.out(), ctx.api().baseUrl(), host);
        }
        return 0;
    }
}
