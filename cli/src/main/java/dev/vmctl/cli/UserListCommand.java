package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the users (never their tokens).")
final class UserListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    UserListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/users");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("NAME", "ROLE", "MAX VMS", "MAX MEMORY", "CREATED", "TOKEN ROTATED");
        for (JsonNode u : json) {
            t.row(u.path("name").asText(), u.path("role").asText(),
                    u.path("maxVms").isNumber() ? u.path("maxVms").asText() : "-",
                    u.path("maxMemoryMiB").isNumber() ? Render.memory(u.path("maxMemoryMiB").asInt()) : "-", Render.time(u.path("createdAt").asText(null)),
                    Render.time(u.path("rotatedAt").asText(null)));
        }
        t.print(ctx.out());
        return 0;
    }
}
