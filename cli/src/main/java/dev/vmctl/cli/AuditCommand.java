package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Who did what, when, with which outcome: every state-changing request, newest first (admins see"
                + " everyone's, users their own).",
                "  vmctl audit --user alice --since 1h",
                "  vmctl audit --limit 20 -o json"})
final class AuditCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--user", paramLabel = "NAME", description = "only this user's requests")
    String user;

    @Option(names = "--since", paramLabel = "TIME", description = "only requests since TIME: an ISO-8601 instant"
            + " (2026-12-01T10:00:00Z) or a duration back from now (" + Durations.EXAMPLES + ")")
    String since;

    @Option(names = "--limit", defaultValue = "100", description = "at most this many entries (1..10000, default: ${DEFAULT-VALUE})")
    int limit;

    @Mixin
    OutputOption output;

    AuditCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        List<String> q = new ArrayList<>();
        if (user != null) q.add("user=" + enc(user));
        if (since != null) q.add("since=" + enc(instant(since).toString()));
        q.add("limit=" + limit);
        JsonNode json = ctx.api().get("/api/v1/audit?" + String.join("&", q));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("TIME", "USER", "METHOD", "PATH", "STATUS");
        for (JsonNode e : json) {
            t.row(e.path("at").asText(), e.path("user").isNull() ? "(no token)" : e.path("user").asText(), e.path("method").asText(),
                    e.path("path").asText(), e.path("status").asInt());
        }
        t.print(ctx.out());
        return 0;
    }

    static Instant instant(String s) {
        try {
            return Instant.parse(s.strip());
        } catch (DateTimeParseException notAnInstant) {
            try {
                return Instant.now().minus(Durations.parse(s));
            } catch (RuntimeException e) {
                throw CliException.usage("--since " + s + ": not a time; give an ISO-8601 instant (2026-12-01T10:00:00Z) or a duration ("
                        + Durations.EXAMPLES + ")");
            }
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
