package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NicView;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "clone", mixinStandardHelpOptions = true,
        description = {"Create new VMs from a snapshot; they start unless --no-start.",
                "Each clone maps the snapshot's memory copy-on-write and gets its own name, MAC, IP, hostname and"
                        + " machine-id. What the guest's applications hold in memory (caches, sessions, anything"
                        + " read before the snapshot) stays identical in every clone.",
                "  vmctl vm clone web1-warm",
                "  vmctl vm clone web1-warm --count 3 --name web-{n} --net front --start --wait"})
final class VmCloneCommand implements Callable<Integer> {
    /** The server checks the snapshot's files (SHA-256) before it answers. */
    static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "the snapshot to clone")
    String snapshot;

    @Option(names = "--count", paramLabel = "N", description = "how many clones (server default: 1)")
    Integer count;

    @Option(names = "--name", paramLabel = "PATTERN",
            description = "the clones' names; {n} becomes 1, 2, … (server default: SNAPSHOT-{n}; needs {n} when N > 1)")
    String name;

    @Option(names = "--net", paramLabel = "NETWORK",
            description = "the network the clones' NICs join (needed when the snapshot's VM had NICs)")
    String network;

    @Option(names = "--start", negatable = true,
            description = "boot the clones right away (the server's default); --no-start only creates them")
    Boolean start;

    @Option(names = "--wait", description = "wait until every clone is RUNNING, printing each state change")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s", converter = Durations.Converter.class,
            description = "how long --wait waits (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    VmCloneCommand(CliContext ctx) { this.ctx = ctx; }

    /** Only what the user gave: the server owns the defaults. */
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        if (count != null) body.put("count", count);
        if (name != null) body.put("name", name);
        if (network != null) body.put("network", network);
        if (start != null) body.put("start", start);
        return body;
    }

    @Override
    public Integer call() {
        if (wait && Boolean.FALSE.equals(start)) {
            throw CliException.usage("--wait waits for the clones to run: it cannot go with --no-start");
        }
        long startNanos = System.nanoTime();
        JsonNode json = ctx.api().post("/api/v1/snapshots/" + ApiClient.seg(snapshot) + "/clone", body(),
                REQUEST_TIMEOUT);
        if (!json.isArray()) {
            throw CliException.failed("unexpected answer from the server: expected a list of VMs",
                    Json.abbreviate(json.toString()));
        }
        List<JsonNode> clones = new ArrayList<>();
        json.forEach(clones::add);
        if (wait) {
            PrintWriter progress = output.json() ? ctx.err() : ctx.out();
            clones = new VmWaiter(ctx.api(), progress, CliContext.POLL_INTERVAL)
                    .awaitAll(clones, timeout, startNanos, "cloning");
            json = Json.MAPPER.createArrayNode().addAll(clones);
        }
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else table(clones).print(ctx.out());
        if (wait) checkAllRunning(clones);
        return 0;
    }

    /** NAME STATE IPS, and ERROR once some clone has one. */
    static Table table(List<JsonNode> clones) {
        List<VmView> vms = clones.stream().map(j -> Json.as(j, VmView.class)).toList();
        boolean errors = vms.stream().anyMatch(v -> v.error() != null && !v.error().isBlank());
        List<String> headers = new ArrayList<>(List.of("NAME", "STATE", "IPS"));
        if (errors) headers.add("ERROR");
        Table t = new Table(headers);
        for (int i = 0; i < vms.size(); i++) {
            VmView v = vms.get(i);
            List<Object> row = new ArrayList<>(List.of(v.name() == null ? "-" : v.name(), Render.state(v),
                    Render.joined(v.nics().stream().map(NicView::ip).toList())));
            if (errors) row.add(v.error() == null || v.error().isBlank() ? "" : v.error());
            t.row(row);
        }
        return t;
    }

    /** After the table: exit 1 naming the clones that failed or did not get to RUNNING in time. */
    private void checkAllRunning(List<JsonNode> clones) {
        List<VmView> failed = new ArrayList<>();
        List<VmView> late = new ArrayList<>();
        for (JsonNode j : clones) {
            VmView v = Json.as(j, VmView.class);
            if (v.state() == VmState.RUNNING) continue;
            if (VmWaiter.settled(v)) failed.add(v);
            else late.add(v);
        }
        if (!failed.isEmpty()) {
            if (failed.size() == 1 && late.isEmpty()) {
                VmView v = failed.getFirst();
                throw CliException.failed("clone " + v.name() + (v.state() == VmState.ERROR ? " failed"
                        : " is " + Render.state(v) + ", not RUNNING"), blankToNull(v.error()));
            }
            List<String> details = new ArrayList<>();
            for (VmView v : failed) {
                details.add(v.name() + ": " + Render.state(v) + (blankToNull(v.error()) == null ? "" : " (" + v.error() + ")"));
            }
            for (VmView v : late) details.add(v.name() + ": still " + Render.state(v));
            throw CliException.failed((failed.size() + late.size()) + " of " + clones.size()
                    + " clones are not RUNNING", String.join("; ", details));
        }
        if (!late.isEmpty()) {
            throw CliException.failed("timed out after " + Durations.format(timeout) + " waiting for "
                    + (late.size() == 1 ? "clone " : "clones ")
                    + String.join(", ", late.stream().map(VmView::name).toList()) + " to be RUNNING",
                    String.join("; ", late.stream().map(v -> v.name() + " is " + Render.state(v)).toList()));
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
