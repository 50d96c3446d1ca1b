package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Operation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancel an operation: a queued one at once, a running boot (start, reboot, restore, clone) by ending it.")
final class OpCancelCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "ID", description = "the operation's id")
    String id;

    @Mixin
    OutputOption output;

    OpCancelCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/operations/" + ApiClient.seg(id) + "/cancel", null, ApiClient.DEFAULT_TIMEOUT);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else OpShowCommand.print(ctx.out(), Json.as(json, Operation.class));
        return 0;
    }
}
