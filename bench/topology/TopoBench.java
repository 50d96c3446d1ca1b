// Topology benchmark against a running vmctl server (JDK only; run with bench/topology/run):
// deploy and destroy a 10-VM topology; wall times and parallel efficiency =
// (sum of single-VM boot times) ÷ cores ÷ deploy wall time, the single-VM boot time being the median of
// lone boots (request → RUNNING) measured first.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

public class TopoBench {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Every route wants a token: the admin\'s, exported by bench/server.sh from DATA/admin.token. */
    static final String AUTH = "Bearer " + System.getenv("VMCTL_TOKEN");
    static String url;

    public static void main(String[] a) throws Exception {
        url = a[0];
        int vms = Integer.parseInt(a[1]);
        int cores = Runtime.getRuntime().availableProcessors();
        List<Double> lone = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            String r = call("POST", "/api/v1/vms?wait=true", "{\"name\":\"lone-" + i + "\",\"image\":\"tiny\",\"memory\":\"96M\",\"start\":true}");
            lone.add((System.nanoTime() - t0) / 1e9);
            if (!r.contains("\"RUNNING\"")) throw new IllegalStateException(r);
            call("DELETE", "/api/v1/vms/lone-" + i + "?force=true", null);
            Thread.sleep(1500);
        }
        double single = median(lone);
        StringBuilder y = new StringBuilder("apiVersion: vmctl/v1\nkind: Topology\nname: bench\nnetworks:\n"
                + "  - {name: a, subnet: 198.18.210.0/24}\n  - {name: b, subnet: 198.18.211.0/24}\n"
                + "routers:\n  - {name: r, networks: [a, b]}\nnodes:\n");
        int perNode = 2;
        for (int n = 0; n < vms / perNode; n++) {
            y.append("  - name: n").append(n).append("\n    vms:\n");
            for (int v = 0; v < perNode; v++) {
                y.append("      - {name: v").append(v).append(", role: r").append(v).append(", image: tiny, memory: 96M, nics: [")
                        .append(n % 2 == 0 ? "a" : "b").append("]}\n");
            }
        }
        long t0 = System.nanoTime();
        String report = post("/api/v1/topologies?file=bench.yaml", y.toString());
        double deploy = (System.nanoTime() - t0) / 1e9;
        if (!report.contains("\"ok\":true")) throw new IllegalStateException(report);
        t0 = System.nanoTime();
        call("DELETE", "/api/v1/topologies/bench", null);
        double destroy = (System.nanoTime() - t0) / 1e9;
        System.out.printf("single VM boot (median of 3, request → RUNNING): %.2f s%n", single);
        System.out.printf("deploy %d VMs (2 networks, 1 router, %d nodes): %.2f s wall; destroy: %.2f s%n", vms, vms / perNode, deploy, destroy);
        System.out.printf("parallel efficiency = %d × %.2f s ÷ %d cores ÷ %.2f s = %.2f%n", vms, single, cores, deploy, vms * single / cores / deploy);
    }

    static String post(String path, String yaml) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", AUTH).timeout(Duration.ofMinutes(20))
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(yaml)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) throw new IllegalStateException(r.statusCode() + " " + r.body());
        return r.body();
    }

    static String call(String method, String path, String body) throws Exception {
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", AUTH).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(rb.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
