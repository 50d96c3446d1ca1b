package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.SnapshotView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Snapshot a running VM: memory, device state and disk. The VM is paused only while its"
                + " state is saved, then keeps running.",
                "  vmctl snapshot create web1 --name web1-warm"})
final class SnapshotCreateCommand implements Callable<Integer> {
    /** Saving a large guest's memory takes a while; the server answers when the snapshot is complete. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "VM", description = "the running VM's name or id")
    String vm;

    @Option(names = "--name", required = true, paramLabel = "NAME",
            description = "the snapshot's name: lower-case letters, digits and '-'")
    String name;

    @Mixin
    OutputOption output;

    SnapshotCreateCommand(CliContext ctx) { this.ctx = ctx; }

    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("vm", vm);
        body.put("name", name);
        return body;
    }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/snapshots", body(), TIMEOUT);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        SnapshotView s = Json.as(json, SnapshotView.class);
        StringBuilder b = new StringBuilder("snapshot ").append(s.name() == null ? name : s.name())
                .append(" of ").append(s.vm() == null ? vm : s.vm()).append(": ").append(Render.bytes(s.sizeBytes()));
        if (s.pausedMillis() != null) b.append(", VM paused ").append(s.pausedMillis()).append(" ms");
        if (s.totalMillis() != null) {
            b.append(" (took ").append(String.format(Locale.ROOT, "%.1f s", s.totalMillis() / 1000.0)).append(')');
        }
        ctx.out().println(b);
        ctx.out().flush();
        return 0;
    }
}
