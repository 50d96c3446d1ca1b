package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Operation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show one operation.")
final class OpShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "ID", description = "the operation's id")
    String id;

    @Mixin
    OutputOption output;

    OpShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/operations/" + ApiClient.seg(id));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        print(ctx.out(), Json.as(json, Operation.class));
        return 0;
    }

    static void print(PrintWriter out, Operation o) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("id", o.id());
        f.put("kind", o.kind());
        f.put("targets", String.join(", ", o.targets()));
        f.put("state", o.state());
        if (o.parent() != null) f.put("parent", o.parent());
        f.put("created", o.createdAt());
        if (o.startedAt() != null) f.put("started", o.startedAt());
        if (o.finishedAt() != null) f.put("finished", o.finishedAt() + "  (" + took(o) + ")");
        if (o.progress() != null) f.put("progress", o.progress());
        if (o.error() != null) f.put("error", o.error());
        Render.keyValues(out, f, "");
        out.flush();
    }

    /** How long it ran (start to finish), or "-" while it has not finished. */
    static String took(Operation o) {
        if (o.startedAt() == null || o.finishedAt() == null) return null;
        try {
            long ms = Duration.between(Instant.parse(o.startedAt()), Instant.parse(o.finishedAt())).toMillis();
            return Render.millis(ms);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
