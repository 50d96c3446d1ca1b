// Fairness benchmark against a running vmctl server (JDK only; run with bench/load/run):
//  alone:  200 × GET /api/v1/vms, 20 at a time
//  loaded: the same while two other clients each POST a 1 MiB topology file (dry run) over and over, so that two
//          parses are in flight during the whole measurement (checked: both loops were busy at its start and end)
// Rounds interleave alone and loaded; the lines give p50/p99 over all rounds and the ratio of the p99s.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

public class LoadBench {
    static final HttpClient HTTP = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4)).build();
    static String url;

    public static void main(String[] a) throws Exception {
        url = a[0];
        int rounds = Integer.parseInt(a[1]);
        String file = topology(1 << 20);
        // the file must be one the server accepts (a full parse, validation and plan), not an early 4xx
        HttpResponse<String> check = post(file);
        if (check.statusCode() != 200) {
            throw new IllegalStateException("dry run: " + check.statusCode() + " " + check.body().substring(0, Math.min(400, check.body().length())));
        }
        gets(50); // warm-up
        List<Double> alone = new ArrayList<>(), loaded = new ArrayList<>(), parses = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            alone.addAll(gets(200));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger inFlight = new AtomicInteger();
            List<Thread> heavy = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                heavy.add(Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        inFlight.incrementAndGet();
                        long t0 = System.nanoTime();
                        HttpResponse<String> res = post(file);
                        synchronized (parses) {
                            parses.add((System.nanoTime() - t0) / 1e6);
                        }
                        inFlight.decrementAndGet();
                        if (res.statusCode() != 200) throw new IllegalStateException("dry run: " + res.statusCode());
                    }
                }));
            }
            Thread.sleep(300); // both files are being read by the server
            int before = inFlight.get();
            loaded.addAll(gets(200));
            int after = inFlight.get();
            stop.set(true);
            for (Thread t : heavy) t.join();
            if (before != 2 || after != 2) {
                System.out.printf("note: round %d had %d/%d parses in flight at the start/end of its GETs%n", r + 1, before, after);
            }
        }
        double a50 = pct(alone, 50), a99 = pct(alone, 99), l50 = pct(loaded, 50), l99 = pct(loaded, 99);
        System.out.printf(Locale.ROOT, "GET /api/v1/vms alone: p50 %.1f ms, p99 %.1f ms (%d requests, 20 at a time, %d rounds)%n",
                a50, a99, alone.size(), rounds);
        System.out.printf(Locale.ROOT, "GET /api/v1/vms while two 1 MiB topology files are parsed: p50 %.1f ms, p99 %.1f ms"
                + " (%d requests; %d dry runs of the file meanwhile, p50 %.0f ms each)%n", l50, l99, loaded.size(), parses.size(), pct(parses, 50));
        System.out.printf(Locale.ROOT, "p99 under load / p99 alone: %.2f (goal: at most 2)%n", l99 / a99);
        System.exit(0); // the HTTP client's threads
    }

    /** The admin's token from bench/server.sh (every request carries one). */
    static final String AUTH = "Bearer " + java.util.Objects.requireNonNull(System.getenv("VMCTL_TOKEN"), "VMCTL_TOKEN (bench/server.sh sets it)");

    /** n GETs, 20 at a time; milliseconds each. */
    static List<Double> gets(int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<Double>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(pool.submit(() -> {
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/vms")).header("Authorization", AUTH).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) throw new IllegalStateException("GET /api/v1/vms: " + r.statusCode());
                    return (System.nanoTime() - t0) / 1e6;
                }));
            }
            List<Double> out = new ArrayList<>();
            for (Future<Double> f : fs) out.add(f.get());
            return out;
        } finally {
            pool.shutdown();
        }
    }

    static HttpResponse<String> post(String text) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/topologies?dryRun=true"))
                    .header("Content-Type", "application/yaml").header("Authorization", AUTH).POST(HttpRequest.BodyPublishers.ofString(text)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A valid topology file of just under {@code bytes}: one network, as many one-VM nodes as fit. */
    static String topology(int bytes) {
        StringBuilder s = new StringBuilder("apiVersion: vmctl/v1\nkind: Topology\nname: load\nnetworks:\n"
                + "  - {name: lan, subnet: 198.18.0.0/16}\nnodes:\n");
        for (int i = 0; ; i++) {
            String node = "  - name: n" + i + "\n    vms:\n      - {name: v, image: tiny, memory: 128M, nics: [{network: lan}]}\n";
            if (s.length() + node.length() > bytes - 64) break;
            s.append(node);
        }
        return s.toString();
    }

    static double pct(List<Double> xs, int p) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
    }
}
