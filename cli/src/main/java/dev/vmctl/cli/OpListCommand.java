package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Operation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
        description = "List operations, newest first.")
final class OpListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--target", paramLabel = "TARGET", description = "a VM's name or id, or a target such as network:front, topology:shop")
    String target;

    @Option(names = "--state", paramLabel = "STATE", description = "queued, running, succeeded, failed or cancelled")
    String state;

    @Option(names = "--kind", paramLabel = "KIND", description = "e.g. vm.start, topology.apply")
    String kind;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "at most N (default ${DEFAULT-VALUE})")
    int limit;

    @Mixin
    OutputOption output;

    OpListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        if (limit < 1 || limit > 10_000) throw CliException.usage("--limit must be 1..10000, not " + limit);
        List<String> q = new ArrayList<>();
        if (target != null) q.add("target=" + ApiClient.seg(target));
        if (state != null) q.add("state=" + ApiClient.seg(state));
        if (kind != null) q.add("kind=" + ApiClient.seg(kind));
        q.add("limit=" + limit);
        JsonNode json = ctx.api().get("/api/v1/operations?" + String.join("&", q));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("ID", "KIND", "TARGETS", "STATE", "CREATED", "TOOK", "ERROR");
        for (Operation o : Json.listOf(json, Operation.class)) {
            t.row(o.id(), o.kind(), String.join(",", o.targets()), o.state(), Render.time(o.createdAt()), OpShowCommand.took(o),
                    o.error() == null ? null : firstLine(o.error()));
        }
        t.print(ctx.out());
        return 0;
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
