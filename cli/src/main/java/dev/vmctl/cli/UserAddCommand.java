package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "add", mixinStandardHelpOptions = true,
        description = "Add a user and print its token (shown this once: the server keeps only its hash).")
final class UserAddCommand implements Callable<Integer> {
    enum Role { admin, user }

    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "1 to 32 characters: a lower-case letter, then letters, digits, '_', '.', '-'")
    String name;

    @Option(names = "--role", defaultValue = "user", description = "admin or user (default: ${DEFAULT-VALUE})")
    Role role;

    @Option(names = "--max-vms", paramLabel = "N", description = "quota: at most N VMs at once (default: no limit)")
    Integer maxVms;

    @Option(names = "--max-memory", paramLabel = "SIZE", description = "quota: at most SIZE of memory over its VMs, e.g. 4G (default: no limit)")
    String maxMemory;

    @Mixin
    OutputOption output;

    UserAddCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("role", role.name());
        if (maxVms != null) body.put("maxVms", maxVms);
        if (maxMemory != null) body.put("maxMemory", maxMemory);
        JsonNode json = ctx.api().post("/api/v1/users", body, ApiClient.DEFAULT_TIMEOUT);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        ctx.out().println(json.path("token").asText());
        ctx.out().flush();
        ctx.err().println("added user " + json.path("name").asText() + " (role " + json.path("role").asText()
                + "); the line above is its token, shown once: give it to " + name + " (VMCTL_TOKEN, or ~/.config/vmctl/token)");
        ctx.err().flush();
        return 0;
    }
}
