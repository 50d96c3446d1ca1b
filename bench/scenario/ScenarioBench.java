// Scenario benchmark against a running vmctl server and a deployed 3-VM topology (nodes n, VMs a, b, c on
// one network); run with bench/scenario/run. Every scenario goes through `vmctl scenario run -f FILE
// --topology T -o json`, and every figure comes from the run's JSON journal:
//
//   timing: 20 faults (link.down and link.impair, rotating over the three VMs) at 0s, 500ms, 1s, … 9.5s (a VM every 1.5s),
//           1s each → |startedMs − scheduledMs| and |revertedMs − (startedMs + duration)|, p50/p95/max;
//   delay:  ping b → a (20 requests) without and with link.impair delay D (a's egress: the replies) →
//           added RTT (avg with − avg without; and min with − min without) against D;
//   loss:   ping b → a (1000 requests every 10ms) without and with link.impair loss 10% (a's egress) →
//           measured loss against the set one.
//
//   java -cp app/target/vmctl.jar bench/scenario/ScenarioBench.java VMCTL TOPOLOGY WORK_DIR
//
// The class path is only for Jackson (the journal is JSON).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

public class ScenarioBench {
    static final ObjectMapper JSON = new ObjectMapper();
    static String vmctl, topology;
    static Path work;

    static final int FAULTS = 20;
    static final int SPACING_MS = 500, DURATION_MS = 1000;

    public static void main(String[] a) throws Exception {
        vmctl = a[0];
        topology = a[1];
        work = Path.of(a[2]);
        timing();
        delay(50);
        delay(100);
        loss(10);
    }

    static final String[] VMS = {"n/a", "n/b", "n/c"};

    static String head(String name) {
        return "apiVersion: vmctl/v1\nkind: Scenario\nname: " + name + "\ntopology: " + topology + "\n"
                + "steadyState:\n  - {name: reach, ping: {from: n/b, to: n/a, count: 2}}\nsteps:\n";
    }

    // ---- timing

    static void timing() throws Exception {
        StringBuilder y = new StringBuilder(head("bench-timing"));
        for (int i = 0; i < FAULTS; i++) {
            String vm = VMS[i % VMS.length];
            String action = i % 2 == 0 ? "link.down: {vm: " + vm + ", nic: eth0}"
                    : "link.impair: {vm: " + vm + ", nic: eth0, delay: 20ms, loss: 1%}";
            y.append("  - {at: ").append(i * SPACING_MS).append("ms, fault: {name: f").append(i)
                    .append(", duration: ").append(DURATION_MS).append("ms, ").append(action).append("}}\n");
        }
        JsonNode run = run("timing", y.toString());
        List<Long> start = new ArrayList<>(), revert = new ArrayList<>();
        for (JsonNode s : steps(run)) {
            if (!"fault".equals(s.path("kind").asText())) continue;
            if (s.path("startedMs").isNull() || s.path("revertedMs").isNull() || s.path("startedMs").isMissingNode()) {
                throw new IllegalStateException("fault " + s.path("name").asText() + " did not run: " + s.path("outcome").asText()
                        + " " + s.path("message").asText());
            }
            long started = s.get("startedMs").asLong();
            start.add(Math.abs(started - s.get("scheduledMs").asLong()));
            revert.add(Math.abs(s.get("revertedMs").asLong() - (started + DURATION_MS)));
        }
        if (start.size() != FAULTS) throw new IllegalStateException(start.size() + " faults in the journal, expected " + FAULTS);
        // per action (stderr): how long the apply took (finishedMs − startedMs) and the revert drift — which holds
        // the revert's own operation, as revertedMs is taken when it has finished
        for (String type : List.of("link.down", "link.impair")) {
            List<Long> apply = new ArrayList<>(), rev = new ArrayList<>();
            for (JsonNode s : steps(run)) {
                if (!type.equals(s.path("type").asText())) continue;
                apply.add(s.get("finishedMs").asLong() - s.get("startedMs").asLong());
                rev.add(Math.abs(s.get("revertedMs").asLong() - (s.get("startedMs").asLong() + DURATION_MS)));
            }
            System.err.printf(Locale.ROOT, "detail: %s ×%d apply_ms p50=%d max=%d revert_drift_ms p50=%d max=%d%n", type, apply.size(),
                    pct(apply, 50), pct(apply, 100), pct(rev, 50), pct(rev, 100));
        }
        System.out.printf(Locale.ROOT, "scenario-timing faults=%d start_drift_ms p50=%d p95=%d max=%d revert_drift_ms p50=%d p95=%d max=%d%n",
                FAULTS, pct(start, 50), pct(start, 95), pct(start, 100), pct(revert, 50), pct(revert, 95), pct(revert, 100));
        System.out.flush();
    }

    // ---- delay

    static void delay(int ms) throws Exception {
        String y = head("bench-delay-" + ms)
                + "  - check: {name: baseline, timeout: 30s, ping: {from: n/b, to: n/a, count: 20}}\n"
                + "  - fault: {name: slow, link.impair: {vm: n/a, nic: eth0, delay: " + ms + "ms}}\n"
                + "  - check: {name: delayed, timeout: 30s, ping: {from: n/b, to: n/a, count: 20}}\n";
        JsonNode run = run("delay-" + ms, y);
        double base = measured(run, "baseline", "rttAvgMs"), with = measured(run, "delayed", "rttAvgMs");
        double added = with - base;
        // netem's delay is a floor: the minimum RTTs show it without the guests' scheduling noise (TCG)
        double minAdded = measured(run, "delayed", "rttMinMs") - measured(run, "baseline", "rttMinMs");
        System.out.printf(Locale.ROOT, "scenario-delay set_ms=%d baseline_ms=%.2f measured_ms=%.2f added_ms=%.2f error_pct=%.1f"
                        + " min_added_ms=%.2f min_error_pct=%.1f%n",
                ms, base, with, added, Math.abs(added - ms) * 100 / ms, minAdded, Math.abs(minAdded - ms) * 100 / ms);
        System.out.flush();
    }

    // ---- loss

    static void loss(int pct) throws Exception {
        // maxLossPct 100: the checks pass whatever the loss; the bench reads sent and received
        String probe = "ping: {from: n/b, to: n/a, count: 1000, interval: 10ms, maxLossPct: 100}";
        String y = head("bench-loss-" + pct)
                + "  - check: {name: baseline, timeout: 60s, " + probe + "}\n"
                + "  - fault: {name: lossy, link.impair: {vm: n/a, nic: eth0, loss: " + pct + "%}}\n"
                + "  - check: {name: lossy-ping, timeout: 60s, " + probe + "}\n";
        JsonNode run = run("loss-" + pct, y);
        double baseLoss = lossPct(run, "baseline");
        JsonNode m = step(run, "lossy-ping").path("measured");
        int sent = m.path("sent").asInt(), received = m.path("received").asInt();
        if (sent == 0) throw new IllegalStateException("lossy-ping sent nothing: " + step(run, "lossy-ping"));
        double measured = (sent - received) * 100.0 / sent;
        System.out.printf(Locale.ROOT, "scenario-loss set_pct=%d probes=%d baseline_pct=%.1f measured_pct=%.1f error_points=%.1f%n",
                pct, sent, baseLoss, measured, Math.abs(measured - pct));
        System.out.flush();
    }

    static double lossPct(JsonNode run, String name) {
        JsonNode m = step(run, name).path("measured");
        int sent = m.path("sent").asInt();
        if (sent == 0) throw new IllegalStateException(name + " sent nothing: " + step(run, name));
        return (sent - m.path("received").asInt()) * 100.0 / sent;
    }

    // ---- running and reading

    /** Runs the scenario through the CLI; its JSON journal (a run that fails is still a journal). */
    static JsonNode run(String what, String yaml) throws Exception {
        Path file = work.resolve(what + ".yaml"), out = work.resolve(what + ".json"), err = work.resolve(what + ".log");
        Files.writeString(file, yaml);
        Process p = new ProcessBuilder(vmctl, "scenario", "run", "-f", file.toString(), "--topology", topology, "-o", "json",
                "--timeout", "5m").redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(6, TimeUnit.MINUTES)) {
            p.destroy();
            throw new IllegalStateException("vmctl scenario run " + what + " did not end");
        }
        if (p.exitValue() > 1 || Files.size(out) == 0) {
            throw new IllegalStateException("vmctl scenario run " + what + ": exit " + p.exitValue() + "\n" + tail(err));
        }
        JsonNode run = JSON.readTree(out.toFile());
        if (!"pass".equals(run.path("verdict").asText())) {
            System.err.println("note: run " + what + " verdict " + run.path("verdict").asText() + " " + run.path("error").asText());
            for (JsonNode s : run.path("steps")) {
                if (!List.of("pass", "reverted", "applied").contains(s.path("outcome").asText())) {
                    System.err.println("  " + s.path("phase").asText() + " " + s.path("name").asText() + ": " + s.path("outcome").asText()
                            + " " + s.path("message").asText());
                }
            }
        }
        return run;
    }

    static List<JsonNode> steps(JsonNode run) {
        List<JsonNode> out = new ArrayList<>();
        run.path("steps").forEach(s -> {
            if ("steps".equals(s.path("phase").asText())) out.add(s);
        });
        return out;
    }

    static JsonNode step(JsonNode run, String name) {
        for (JsonNode s : steps(run)) if (name.equals(s.path("name").asText())) return s;
        throw new IllegalStateException("no step " + name + " in the journal");
    }

    static double measured(JsonNode run, String name, String field) {
        JsonNode s = step(run, name);
        JsonNode v = s.path("measured").path(field);
        if (!v.isNumber()) throw new IllegalStateException(name + ": no " + field + ": " + s.path("outcome").asText() + " " + s.path("message").asText());
        return v.asDouble();
    }

    /** Nearest-rank percentile. */
    static long pct(List<Long> xs, int p) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    static String tail(Path f) throws IOException {
        List<String> lines = Files.readAllLines(f);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }
}
