// Network benchmark against a running vmctl server (JDK only; run with bench/net/run):
//  1. p50 time to create and to delete an isolated segment (POST/DELETE /api/v1/segments), and a network (/api/v1/networks)
//  2. link up → first successful ping: the guest waits for carrier, then pings until answered
//  3. throughput VM↔VM on one segment (HTTP download of 20 MB between two guests)
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class NetBench {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Every route wants a token: the admin\'s, exported by bench/server.sh from DATA/admin.token. */
    static final String AUTH = "Bearer " + System.getenv("VMCTL_TOKEN");
    static final long GAP_MS = 200;
    static String url;

    public static void main(String[] a) throws Exception {
        url = a[0];
        int runs = Integer.parseInt(a[1]);
        // isolated segments (a namespace of their own each; created from the pool of prepared namespaces), then a network
        // in the fabric for comparison; the same idle gap before every call (the pool refills meanwhile, as between requests)
        List<Double> segCreate = new ArrayList<>(), segDelete = new ArrayList<>(), create = new ArrayList<>(), delete = new ArrayList<>();
        call("POST", "/api/v1/segments", "{\"name\":\"bench-warm\"}");   // the first create starts the pool
        call("DELETE", "/api/v1/segments/bench-warm", null);
        for (int i = 0; i < runs; i++) {
            Thread.sleep(GAP_MS);
            long t0 = System.nanoTime();
            call("POST", "/api/v1/segments", "{\"name\":\"bench-seg\",\"subnet\":\"198.18.200.0/24\"}");
            long t1 = System.nanoTime();
            Thread.sleep(GAP_MS);
            long t2 = System.nanoTime();
            call("DELETE", "/api/v1/segments/bench-seg", null);
            long t3 = System.nanoTime();
            segCreate.add((t1 - t0) / 1e6);
            segDelete.add((t3 - t2) / 1e6);
        }
        System.out.printf("segment create: p50 %.1f ms (p90 %.1f), delete: p50 %.1f ms (p90 %.1f) (%d runs, REST round trip, %d ms idle before each)%n",
                median(segCreate), pct(segCreate, 90), median(segDelete), pct(segDelete, 90), runs, GAP_MS);
        for (int i = 0; i < runs; i++) {
            Thread.sleep(GAP_MS);
            long t0 = System.nanoTime();
            call("POST", "/api/v1/networks", "{\"name\":\"bench-net\",\"subnet\":\"198.18.200.0/24\"}");
            long t1 = System.nanoTime();
            Thread.sleep(GAP_MS);
            long t2 = System.nanoTime();
            call("DELETE", "/api/v1/networks/bench-net", null);
            long t3 = System.nanoTime();
            create.add((t1 - t0) / 1e6);
            delete.add((t3 - t2) / 1e6);
        }
        System.out.printf("network (bridge in the fabric) create: p50 %.1f ms, delete: p50 %.1f ms (%d runs)%n", median(create), median(delete), runs);
        if (a.length > 2 && a[2].equals("segments")) return;

        call("POST", "/api/v1/networks", "{\"name\":\"bench-l2\",\"subnet\":\"198.18.201.0/24\"}");
        try {
            for (String vm : List.of("bench-a", "bench-b")) {
                String r = call("POST", "/api/v1/vms?wait=true", "{\"name\":\"" + vm + "\",\"image\":\"tiny\",\"memory\":\"256M\",\"start\":true,"
                        + "\"nics\":[{\"network\":\"bench-l2\"}]}");
                if (!r.contains("\"RUNNING\"")) throw new IllegalStateException(r);
            }
            String ipB = "198.18.201.3";
            List<Double> upToPing = new ArrayList<>(), patch = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                call("PATCH", "/api/v1/vms/bench-a/nics/eth0", "{\"link\":\"down\"}");
                // the guest waits for carrier, then pings until the first answer; it reports both times (its uptime)
                exec("bench-a", "sh", "-c", "rm -f /tmp/res; (while [ \"$(cat /sys/class/net/eth0/carrier)\" != 1 ]; do usleep 500; done;"
                        + " t0=$(cut -d' ' -f1 /proc/uptime); until ping -c1 -W1 " + ipB + " >/dev/null 2>&1; do :; done;"
                        + " t1=$(cut -d' ' -f1 /proc/uptime); echo $t0 $t1 > /tmp/res) </dev/null >/dev/null 2>&1 &");
                Thread.sleep(300);
                long t0 = System.nanoTime();
                call("PATCH", "/api/v1/vms/bench-a/nics/eth0", "{\"link\":\"up\"}");
                patch.add((System.nanoTime() - t0) / 1e6);
                String res = "";
                for (int k = 0; k < 100 && res.isBlank(); k++) {
                    Thread.sleep(50);
                    res = field(exec("bench-a", "sh", "-c", "cat /tmp/res 2>/dev/null"), "stdout").replace("\\n", "").trim();
                }
                String[] p = res.split(" ");
                upToPing.add((Double.parseDouble(p[1]) - Double.parseDouble(p[0])) * 1000);
            }
            System.out.printf("link up: PATCH answered in median %.1f ms; carrier up → first ping answered: median %.0f ms"
                    + " (guest clock, 10 ms resolution; %d runs)%n", median(patch), median(upToPing), runs);

            exec("bench-b", "sh", "-c", "mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/f bs=1M count=20 2>/dev/null;"
                    + " httpd -p 8080 -h /tmp/www </dev/null >/dev/null 2>&1");
            List<Double> mbit = new ArrayList<>();
            for (int i = 0; i < Math.max(3, runs / 2); i++) {
                String out = field(exec("bench-a", "sh", "-c", "t0=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://" + ipB
                        + ":8080/f; t1=$(cut -d' ' -f1 /proc/uptime); echo $t0 $t1"), "stdout").replace("\\n", "").trim();
                String[] p = out.split(" ");
                mbit.add(20 * 1024 * 1024 * 8 / (Double.parseDouble(p[1]) - Double.parseDouble(p[0])) / 1e6);
            }
            System.out.printf("throughput VM→VM on one segment (HTTP, 20 MB): median %.0f Mbit/s%n", median(mbit));
        } finally {
            call("DELETE", "/api/v1/vms/bench-a?force=true", null);
            call("DELETE", "/api/v1/vms/bench-b?force=true", null);
            call("DELETE", "/api/v1/networks/bench-l2", null);
        }
    }

    static String exec(String vm, String... argv) throws Exception {
        StringBuilder b = new StringBuilder("{\"timeoutSec\":120,\"argv\":[");
        for (int i = 0; i < argv.length; i++) {
            if (i > 0) b.append(',');
            b.append('"').append(argv[i].replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return call("POST", "/api/v1/vms/" + vm + "/exec", b.append("]}").toString());
    }

    static String call(String method, String path, String body) throws Exception {
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", AUTH).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(rb.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        return m.find() ? m.group(1) : "";
    }

    static double pct(List<Double> xs, int p) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
