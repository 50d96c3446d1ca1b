package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = "Remove a user; its token stops working at once (the user admin of DATA/admin.token stays).")
final class UserRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the user's name")
    String name;

    @Mixin
    OutputOption output;

    UserRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().delete("/api/v1/users/" + ApiClient.seg(name));
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else ctx.out().println("removed user " + json.path("name").asText());
        ctx.out().flush();
        return 0;
    }
}
