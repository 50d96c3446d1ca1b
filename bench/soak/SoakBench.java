// Crash soak (issue 15; run with bench/soak/run): N rounds of one action — a topology deploy, a snapshot, a clone of
// 2, a scenario run with a link fault, a topology removal — each interrupted by `kill -9` of the server at a random
// moment (0.2–2.5 s in), then the server restarted on the same data directory. After each restart: what the host has
// (QEMU processes of this data directory, taps and ifbs in the fabric namespace, VM folders, cgroup groups) must be
// what the database says, no VM may stay REQUESTED or PREPARING, and `up` of the file must complete what the crash
// left. At the end everything is removed and nothing of this data directory may be left on the host.
// JDK only; args: DATA_DIR PORT ROUNDS SEED
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

public class SoakBench {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static Path data;
    static int port;
    static String url;
    static Process server;

    static final String TOPO = """
            apiVersion: vmctl/v1
            kind: Topology
            name: soak
            networks:
              - {name: lan, subnet: 198.18.230.0/24}
            nodes:
              - name: n1
                vms:
                  - {name: a, image: tiny, memory: 96M, nics: [lan]}
              - name: n2
                vms:
                  - {name: b, image: tiny, memory: 96M, nics: [lan]}
            """;
    static final String SCENARIO = """
            apiVersion: vmctl/v1
            kind: Scenario
            name: soak-cut
            topology: soak
            steps:
              - {at: 0s, fault: {name: cut, duration: 3s, link.down: {vm: n2/b, nic: eth0}}}
              - {at: 1s, check: {name: ping, expect: fail, ping: {from: n1/a, to: n2/b, count: 1}}}
            """;

    public static void main(String[] a) throws Exception {
        data = Path.of(a[0]);
        port = Integer.parseInt(a[1]);
        int rounds = Integer.parseInt(a[2]);
        Random rnd = new Random(Long.parseLong(a[3]));
        url = "http://127.0.0.1:" + port;
        start();
        call("POST", "/api/v1/images/tiny/build", null, null, Duration.ofMinutes(30));
        List<String> problems = new ArrayList<>();
        int upsCompleted = 0, ups = 0, snapshots = 0;
        String[] actions = {"deploy", "snapshot", "clone", "scenario", "down"};
        for (int i = 1; i <= rounds; i++) {
            String action = actions[rnd.nextInt(actions.length)];
            boolean deployed = status("/api/v1/topologies/soak") == 200;
            if (!deployed && !action.equals("deploy")) action = "deploy";
            String snap = "soak-s" + i;
            String act = action;
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    switch (act) {
                        case "deploy" -> call("POST", "/api/v1/topologies?file=soak.yaml", "application/yaml", TOPO, Duration.ofMinutes(5));
                        case "snapshot" -> call("POST", "/api/v1/snapshots", "application/json",
                                "{\"vm\":\"soak-n1-a\",\"name\":\"" + snap + "\"}", Duration.ofMinutes(5));
                        case "clone" -> {
                            String s = latestSnapshot();
                            if (s == null) s = snap;
                            if (status("/api/v1/snapshots/" + s) != 200) {
                                call("POST", "/api/v1/snapshots", "application/json", "{\"vm\":\"soak-n1-a\",\"name\":\"" + s + "\"}", Duration.ofMinutes(5));
                            }
                            call("POST", "/api/v1/snapshots/" + s + "/clone?wait=true", "application/json",
                                    "{\"count\":2,\"name\":\"soak-c" + System.nanoTime() % 100000 + "\",\"start\":true}", Duration.ofMinutes(5));
                        }
                        case "scenario" -> call("POST", "/api/v1/scenario-runs?wait=true", "application/json",
                                "{\"text\":" + quote(SCENARIO) + "}", Duration.ofMinutes(5));
                        case "down" -> call("DELETE", "/api/v1/topologies/soak", null, null, Duration.ofMinutes(5));
                        default -> throw new IllegalStateException(act);
                    }
                } catch (Exception killed) {
                    // the server died under it: expected
                }
            });
            long delay = 200 + rnd.nextInt(2300);
            Thread.sleep(delay);
            long pid = serverPid();
            new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
            server.waitFor();
            t.join(Duration.ofSeconds(30));
            start();
            // what a crash left: the host must match the database once the server is up again
            List<String> leaks = leaks(false);
            String stuck = stuckVms();
            String line = "round " + i + ": " + action + ", kill -9 after " + delay + " ms";
            if (action.equals("snapshot")) snapshots++;
            // up completes what the crash left (unless the round removed the topology)
            if (!action.equals("down")) {
                ups++;
                String report = call("POST", "/api/v1/topologies?file=soak.yaml", "application/yaml", TOPO, Duration.ofMinutes(5));
                boolean ok = report.contains("\"ok\":true") && allRunning();
                if (ok) upsCompleted++; else problems.add(line + ": up did not complete: " + abbrev(report));
                line += ok ? "; up completed" : "; up FAILED";
            }
            if (!leaks.isEmpty()) problems.add(line + ": " + leaks);
            if (stuck != null) problems.add(line + ": " + stuck);
            System.out.println(line + (leaks.isEmpty() ? "; nothing leaked" : "; LEAKED " + leaks) + (stuck == null ? "" : "; " + stuck));
        }
        // remove everything vmctl made, then nothing of this data directory may be left on the host
        call("DELETE", "/api/v1/topologies/soak", null, null, Duration.ofMinutes(5));
        for (String id : ids(call("GET", "/api/v1/vms", null, null, Duration.ofSeconds(30)), "id")) {
            call("DELETE", "/api/v1/vms/" + id + "?force=true&wait=true", null, null, Duration.ofMinutes(2));
        }
        for (String s : ids(call("GET", "/api/v1/snapshots", null, null, Duration.ofSeconds(30)), "name")) {
            call("DELETE", "/api/v1/snapshots/" + s, null, null, Duration.ofMinutes(2));
        }
        List<String> end = leaks(true);
        server.destroy();
        server.waitFor();
        for (String p : problems) System.out.println("PROBLEM " + p);
        System.out.printf("soak: %d kill -9 rounds (%d snapshots), up completed %d of %d, rounds with leaks or stuck VMs %d, left after cleanup: %s%n",
                rounds, snapshots, upsCompleted, ups, problems.size(), end.isEmpty() ? "nothing" : end);
        System.exit(problems.isEmpty() && end.isEmpty() ? 0 : 1);
    }

    static void start() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("./vmctl", "serve", "--data-dir", data.toString(), "--port", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolveSibling(data.getFileName() + ".log").toFile()));
        server = pb.start();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) throw new IllegalStateException("the server exited: see " + data + ".log");
            if (Files.exists(data.resolve("admin.token")) && status("/api/v1/vms") == 200) return;
            Thread.sleep(200);
        }
        throw new IllegalStateException("the server did not answer");
    }

    static long serverPid() throws IOException {
        return Long.parseLong(Files.readString(data.resolve("server.lock")).strip());
    }

    /** QEMU processes, taps and VM folders vmctl does not know; {@code all}: anything of this data directory at all. */
    static List<String> leaks(boolean all) throws Exception {
        List<String> out = new ArrayList<>();
        String vms = call("GET", "/api/v1/vms", null, null, Duration.ofSeconds(30));
        Set<String> ids = new TreeSet<>(ids(vms, "id"));
        Set<String> pids = new TreeSet<>();
        Matcher pm = Pattern.compile("\"pid\":(\\d+)").matcher(vms);
        while (pm.find()) pids.add(pm.group(1));
        Set<String> taps = new TreeSet<>();
        Matcher tm = Pattern.compile("\"tap\":\"(vt[0-9a-f]+)\"").matcher(vms);
        while (tm.find()) taps.add(tm.group(1));
        // QEMU processes naming this data directory
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String cmd;
                try {
                    cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                } catch (IOException gone) {
                    continue;
                }
                if (cmd.contains("qemu-system") && cmd.contains(data.toString()) && (all || !pids.contains(p.getFileName().toString()))) {
                    out.add("qemu " + p.getFileName());
                }
            }
        }
        String fabric = call("GET", "/api/v1/host", null, null, Duration.ofSeconds(30)).replaceAll(".*\"fabricNamespace\":\"([^\"]+)\".*", "$1");
        String links = run("ip", "-n", fabric, "-o", "link", "show");
        Matcher lm = Pattern.compile("^\\d+: (v[tiq][0-9a-f]+)[@:]", Pattern.MULTILINE).matcher(links);
        while (lm.find()) {
            String l = lm.group(1);
            boolean known = l.startsWith("vt") ? taps.contains(l) : l.startsWith("vi") ? taps.contains("vt" + l.substring(2)) : !all;
            if (all || !known) out.add("link " + l);
        }
        if (all && !run("ip", "netns", "list").isBlank()) {
            for (String ns : run("ip", "netns", "list").split("\n")) if (ns.startsWith(fabric)) out.add("netns " + ns.split(" ")[0]);
        }
        Path vmDirs = data.resolve("vms");
        if (Files.isDirectory(vmDirs)) {
            try (Stream<Path> s = Files.list(vmDirs)) {
                for (Path d : s.toList()) if (all || !ids.contains(d.getFileName().toString())) out.add("folder vms/" + d.getFileName());
            }
        }
        // cgroups: vmctl's folder below the server's cgroup holds only groups of live VMs (vm-ID)
        String cg = call("GET", "/api/v1/host", null, null, Duration.ofSeconds(30));
        Matcher cm = Pattern.compile("\"cpu\":\"(/sys/fs/cgroup/[^\"]+)\"").matcher(cg);
        if (cm.find() && Files.isDirectory(Path.of(cm.group(1)))) {
            try (Stream<Path> s = Files.walk(Path.of(cm.group(1)))) {
                for (Path g : s.filter(p -> p.getFileName().toString().startsWith("vm-")).toList()) {
                    if (all || !ids.contains(g.getFileName().toString().substring(3))) out.add("cgroup " + g.getFileName());
                }
            }
        }
        return out;
    }

    /** A VM left REQUESTED or PREPARING after the restart (the reconciler settles every VM). */
    static String stuckVms() throws Exception {
        String vms = call("GET", "/api/v1/vms", null, null, Duration.ofSeconds(30));
        Matcher m = Pattern.compile("\"name\":\"([^\"]+)\",\"state\":\"(REQUESTED|PREPARING)\"").matcher(vms);
        List<String> stuck = new ArrayList<>();
        while (m.find()) stuck.add(m.group(1) + " " + m.group(2));
        return stuck.isEmpty() ? null : "stuck: " + stuck;
    }

    static boolean allRunning() throws Exception {
        String t = call("GET", "/api/v1/topologies/soak", null, null, Duration.ofSeconds(30));
        return t.contains("\"state\":\"RUNNING\"") && !t.matches("(?s).*\"state\":\"(STOPPED|ERROR|REQUESTED|PREPARING|MIXED)\".*");
    }

    static String latestSnapshot() throws Exception {
        List<String> s = ids(call("GET", "/api/v1/snapshots", null, null, Duration.ofSeconds(30)), "name");
        return s.isEmpty() ? null : s.getLast();
    }

    static List<String> ids(String json, String field) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\\{\"" + field + "\":\"([^\"]+)\"").matcher(json);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    static String token() throws IOException {
        return Files.readString(data.resolve("admin.token")).strip();
    }

    static int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + token())
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static String call(String method, String path, String type, String body, Duration timeout) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(timeout).header("Authorization", "Bearer " + token())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (type != null) b.header("Content-Type", type);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static String run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    static String abbrev(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
