// Request-driven nodes benchmark against a running vmctl server with template bench-echo (JDK only; run with bench/invoke/run):
//  1. bare restore: a clone of the template's VM snapshot (POST /api/v1/snapshots/SNAP/clone, start, wait) → RUNNING
//     (QEMU start, state load, agent, identity), the same VM every request restores
//  2. cold pool: N sequential requests, then N requests 10 at a time; each gets a segment and a restored node
//  3. warm pool: the same with paused copies prepared ahead (the bench waits for the pool to be full before each
//     request or round of 10 — refills done — so what is measured is a request served from an idle pool)
// Per phase: request → first byte (response head) p50/p99 and the p50 of each Server-Timing part; last line: ratios.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class InvokeBench {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Every route wants a token: the admin\'s, exported by bench/server.sh from DATA/admin.token. */
    static final String AUTH = "Bearer " + System.getenv("VMCTL_TOKEN");
    static String url;

    record Sample(double firstByteMs, Map<String, Double> timing, int status) {}

    public static void main(String[] a) throws Exception {
        url = a[0];
        int n = Integer.parseInt(a[1]);
        String tpl = call("GET", "/api/v1/templates/bench-echo", null);
        String snap = field(tpl, "snapshot", tpl.indexOf("\"members\""));
        // 1. bare restore of the same VM, as a clone on a network of the fabric
        call("POST", "/api/v1/networks", "{\"name\":\"bench-bare\",\"subnet\":\"198.18.63.0/24\"}");
        List<Double> bare = new ArrayList<>(), rest = new ArrayList<>();
        java.nio.file.Path log = java.nio.file.Path.of(a[2]);
        for (int i = 0; i < Math.max(5, Math.min(15, n / 5)); i++) {
            long t0 = System.nanoTime();
            String r = call("POST", "/api/v1/snapshots/" + snap + "/clone?wait=true", "{\"name\":\"bench-bare-" + i + "\",\"network\":\"bench-bare\",\"start\":true}");
            double ms = (System.nanoTime() - t0) / 1e6;
            if (!r.contains("RUNNING")) throw new IllegalStateException("bare clone: " + r);
            rest.add(ms);
            // the restore itself, as the server logs it: qemu up + state loaded + agent and identity (no REST, no
            // SHA-256 check of the snapshot's files, which a clone through the API does every time and a template once)
            Matcher m = Pattern.compile("vm bench-bare-" + i + ": clone of \\S+: qemu up (\\d+) ms, state loaded (\\d+) ms, agent and identity (\\d+) ms")
                    .matcher(java.nio.file.Files.readString(log));
            if (!m.find()) throw new IllegalStateException("no restore line for bench-bare-" + i + " in " + log);
            bare.add((double) (Long.parseLong(m.group(1)) + Long.parseLong(m.group(2)) + Long.parseLong(m.group(3))));
            call("DELETE", "/api/v1/vms/bench-bare-" + i + "?force=true", null);
        }
        call("DELETE", "/api/v1/networks/bench-bare", null);
        double bareP50 = pct(bare, 50);
        System.out.printf(Locale.ROOT, "bare restore of the template's VM (qemu start → state loaded → agent and identity, from the server's log): p50 %.1f ms, p90 %.1f ms"
                + " (%d runs; the REST clone call around it, with its SHA-256 check of the snapshot: p50 %.1f ms)%n", bareP50, pct(bare, 90), bare.size(), pct(rest, 50));

        // 2. cold pool
        setPool(0);
        run("POST", "warmup", 3); // the first requests translate the guest's code paths once per QEMU; not counted
        List<Sample> coldSeq = sequential(n, false);
        report("cold pool, sequential", coldSeq);
        List<Sample> coldPar = concurrent(n, 10, false);
        report("cold pool, 10 concurrent", coldPar);

        // 3. warm pool
        setPool(10);
        List<Sample> warmSeq = sequential(n, true);
        report("warm pool, sequential", warmSeq);
        List<Sample> warmPar = concurrent(n, 10, true);
        report("warm pool, 10 concurrent", warmPar);
        setPool(0);

        double cold = pct(firstBytes(coldSeq), 50), warm = pct(firstBytes(warmSeq), 50);
        System.out.printf(Locale.ROOT, "ratios: cold pool p50 ÷ bare restore %.2f (goal ≤ 1.5), warm pool p50 ÷ bare restore %.2f (goal ≤ 1.0)%n",
                cold / bareP50, warm / bareP50);
    }

    static void setPool(int warm) throws Exception {
        call("PUT", "/api/v1/templates/bench-echo/pool", "{\"warm\":" + warm + "}");
    }

    /** Waits until the pool holds {@code want} ready copies. */
    static void awaitPool(int want) throws Exception {
        for (int i = 0; i < 1200; i++) {
            String t = call("GET", "/api/v1/templates/bench-echo", null);
            Matcher m = Pattern.compile("\"poolReady\":(\\d+)").matcher(t);
            if (m.find() && Integer.parseInt(m.group(1)) >= want) return;
            Thread.sleep(100);
        }
        throw new IllegalStateException("the pool did not fill to " + want);
    }

    static List<Sample> sequential(int n, boolean warm) throws Exception {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (warm) awaitPool(10); // the pool full again: no refill competes with the request measured
            out.add(one("seq " + i));
        }
        return out;
    }

    static List<Sample> concurrent(int n, int width, boolean warm) throws Exception {
        List<Sample> out = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService ex = Executors.newFixedThreadPool(width)) {
            for (int done = 0; done < n; done += width) {
                if (warm) awaitPool(width);
                List<Future<Sample>> round = new ArrayList<>();
                for (int k = 0; k < width && done + k < n; k++) {
                    String body = "par " + (done + k);
                    round.add(ex.submit((Callable<Sample>) () -> one(body)));
                }
                for (Future<Sample> f : round) out.add(f.get());
            }
        }
        return out;
    }

    static void run(String method, String body, int times) throws Exception {
        for (int i = 0; i < times; i++) one(body);
    }

    static Sample one(String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/run/bench-echo/cgi-bin/echo")).header("Authorization", AUTH)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
        double head = (System.nanoTime() - t0) / 1e6; // the head is in: the first byte of the answer
        String got;
        try (InputStream in = r.body()) {
            got = new String(in.readAllBytes());
        }
        if (r.statusCode() != 200 || !got.equals(body)) throw new IllegalStateException("request '" + body + "': " + r.statusCode() + " " + got);
        Map<String, Double> t = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(\\w+);dur=([0-9.]+)").matcher(r.headers().firstValue("Server-Timing").orElse(""));
        while (m.find()) t.put(m.group(1), Double.parseDouble(m.group(2)));
        return new Sample(head, t, r.statusCode());
    }

    static List<Double> firstBytes(List<Sample> s) {
        return s.stream().map(Sample::firstByteMs).toList();
    }

    static void report(String what, List<Sample> s) {
        StringBuilder split = new StringBuilder();
        for (String part : List.of("queue", "segment", "restore", "resume", "ready", "upstream", "total")) {
            List<Double> v = s.stream().filter(x -> x.timing().containsKey(part)).map(x -> x.timing().get(part)).toList();
            if (v.isEmpty()) continue;
            split.append(String.format(Locale.ROOT, " %s %.1f", part, pct(v, 50)));
        }
        System.out.printf(Locale.ROOT, "%s: first byte p50 %.1f ms, p99 %.1f ms (%d requests); Server-Timing p50 (ms):%s%n",
                what, pct(firstBytes(s), 50), pct(firstBytes(s), 99), s.size(), split);
    }

    static double pct(List<Double> v, int p) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i)));
    }

    static String call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", AUTH).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** The string value of {@code "name":"…"} at or after {@code from}. */
    static String field(String json, String name, int from) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        if (!m.find(Math.max(0, from))) throw new IllegalStateException("no " + name + " in " + json);
        return m.group(1);
    }
}
