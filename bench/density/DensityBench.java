// Density benchmark against a running vmctl server (JDK only; run with bench/density/run): warm tiny VMs until a PSS budget.
//  - the first create records the shape's boot snapshot (not counted); then create --start --wait one after the other
//  - after each: PSS of every VM's QEMU process (/proc/PID/smaps_rollup), until the sum reaches the budget
//  - the server's heap (jcmd GC.heap_info after GC.run) before the VMs and at the end: heap per VM
// Prints PSS per VM (median, and the sum ÷ count), heap per VM, and the projected count per 24 GiB host
// (24 GiB minus 2 GiB for the host and the server, ÷ PSS per VM).
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class DensityBench {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Every route wants a token: the admin\'s, exported by bench/server.sh from DATA/admin.token. */
    static final String AUTH = "Bearer " + System.getenv("VMCTL_TOKEN");
    static String url;

    public static void main(String[] a) throws Exception {
        url = a[0];
        long budgetKiB = Long.parseLong(a[1]) * 1024;
        String memory = a[2];
        long jvm = Long.parseLong(a[3]);
        String jcmd = a[4];
        String first = create("dens-0", memory);
        Thread.sleep(3000); // the first create's boot snapshot is committed in the background
        long heap0 = heapUsedKiB(jcmd, jvm);
        List<Long> pids = new ArrayList<>();
        List<Double> createMs = new ArrayList<>();
        long sum = 0;
        int n = 0;
        pids.add(pid(first));
        while (true) {
            n++;
            long t0 = System.nanoTime();
            String v = create("dens-" + n, memory);
            createMs.add((System.nanoTime() - t0) / 1e6);
            if (!v.contains("\"boot\":\"warm\"")) System.out.println("note: dens-" + n + " was not a warm start: " + field(v, "boot"));
            pids.add(pid(v));
            sum = 0;
            for (long p : pids) sum += pssKiB(p);
            if (sum >= budgetKiB || n >= 400) break;
        }
        Thread.sleep(3000); // idle: let the guests settle
        List<Double> pss = new ArrayList<>();
        sum = 0;
        for (long p : pids) {
            long k = pssKiB(p);
            pss.add(k / 1024.0);
            sum += k;
        }
        long heap1 = heapUsedKiB(jcmd, jvm);
        int count = pids.size();
        double perVm = sum / 1024.0 / count;
        double heapPerVm = (heap1 - heap0) / 1024.0 / count;
        double projected = (24 * 1024 - 2 * 1024) / perVm;
        System.out.printf(Locale.ROOT, "%d idle warm tiny VMs (%s each), create → RUNNING p50 %.0f ms: PSS %.1f MiB per VM (median %.1f), sum %.0f MiB%n",
                count, memory, pct(createMs, 50), perVm, pct(pss, 50), sum / 1024.0);
        System.out.printf(Locale.ROOT, "server heap: %.1f MiB before, %.1f MiB after (after a full GC): %.2f MiB per VM%n", heap0 / 1024.0, heap1 / 1024.0, heapPerVm);
        System.out.printf(Locale.ROOT, "projected: %.0f idle tiny VMs per 24 GiB host (22 GiB for VMs ÷ PSS per VM; goal ≥ 300)%n", projected);
    }

    static String create(String name, String memory) throws Exception {
        String r = call("POST", "/api/v1/vms?wait=true", "{\"name\":\"" + name + "\",\"image\":\"tiny\",\"memory\":\"" + memory + "\",\"start\":true}");
        if (!r.contains("\"RUNNING\"")) throw new IllegalStateException(name + ": " + r);
        return r;
    }

    static long pid(String vm) {
        Matcher m = Pattern.compile("\"pid\":(\\d+)").matcher(vm);
        if (!m.find()) throw new IllegalStateException("no pid in " + vm);
        return Long.parseLong(m.group(1));
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"?([^\",}]*)").matcher(json);
        return m.find() ? m.group(1) : "?";
    }

    static long pssKiB(long pid) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            if (l.startsWith("Pss:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no Pss for " + pid);
    }

    static long heapUsedKiB(String jcmd, long pid) throws Exception {
        run(jcmd, String.valueOf(pid), "GC.run");
        String out = run(jcmd, String.valueOf(pid), "GC.heap_info");
        long used = 0;
        Matcher m = Pattern.compile("used (\\d+)K").matcher(out);
        while (m.find()) used += Long.parseLong(m.group(1));
        if (used == 0) throw new IllegalStateException("jcmd GC.heap_info: " + out);
        return used;
    }

    static String run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    static double pct(List<Double> v, int p) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.get(Math.max(0, Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1)));
    }

    static String call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", AUTH).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }
}
