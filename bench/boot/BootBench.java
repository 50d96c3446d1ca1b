// Boot benchmark: `vmctl vm create --start --wait` (request → RUNNING), cold (`"cold": true`: the image's kernel
// boots) and warm (restored from the image's boot snapshot of the shape), against a bare qemu-system-x86_64
// command line booting the same kernel and initrd (process start → guest agent answers), interleaved (cold, warm,
// bare, …), with the same idle gap before every run. A first create records the boot snapshot (its time is shown,
// not counted). The last line is "ratios: cold C, warm W" (each median ÷ the bare median). Run with bench/boot/run.
//
//   java -cp app/target/vmctl.jar bench/boot/BootBench.java URL DATA_DIR RUNS [--breakdown]
//
// --breakdown adds, per boot and as medians, the time from QEMU start to each stage, all on the host's
// clock: "qemu" (QEMU has opened its serial log: its chardevs exist), "kernel" (the guest kernel's clock
// starts: the host time of the init marker minus the guest uptime it prints), "init" (the VMCTL_INIT
// line of the initramfs init), "ready" (VMCTL_READY: qemu-ga listens in the guest), then "agent" (bare:
// the bench's agent ping answered) or "running" (vmctl: the RUNNING event, i.e. the server's agent ping
// answered and the NICs are configured). For vmctl, QEMU start is the server's "launching qemu" event
// (before `ip netns exec` + `setsid`), and "request" is how long the REST call took until that event.
// The bare QEMU process is started (and killed) through vmctl's QemuVm (class path: app/target/vmctl.jar).
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.VmFiles;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class BootBench {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Every route wants a token: the admin\'s, exported by bench/server.sh from DATA/admin.token. */
    static final String AUTH = "Bearer " + System.getenv("VMCTL_TOKEN");
    static String url;

    public static void main(String[] a) throws Exception {
        url = a[0];
        Path dataDir = Path.of(a[1]);
        int runs = Integer.parseInt(a[2]);
        boolean breakdown = a.length > 3 && "--breakdown".equals(a[3]);
        long gapMs = 1500;
        if (breakdown) events(dataDir);
        String images = get("/api/v1/images");
        String kernel = field(images, "kernel"), initrd = field(images, "initrd");
        String host = get("/api/v1/host");
        System.out.println("kernel " + kernel + "\ninitrd " + initrd);
        System.out.println("accel: " + field(host, "chosen") + " (" + field(host, "reason") + ")");
        boolean kvm = "kvm".equals(field(host, "chosen"));
        List<Double> cold = new ArrayList<>(), warm = new ArrayList<>(), bare = new ArrayList<>();
        List<Map<String, Double>> coldStages = new ArrayList<>(), warmStages = new ArrayList<>(), bareStages = new ArrayList<>();
        // inside the data directory the run script removes afterwards
        Path scratch = Files.createDirectories(dataDir.resolve("bench-bare"));
        Thread.sleep(gapMs);
        double first = vmctlBoot("bench-first", false, null);
        String snapshot = awaitBootSnapshot();
        System.out.printf("first create %.3f s (cold; recorded boot snapshot %s)%n", first, snapshot);
        for (int i = 0; i < runs; i++) {
            Thread.sleep(gapMs);
            Watch cw = breakdown ? Watch.vmctl(dataDir.resolve("vms"), "cold-" + i) : null;
            cold.add(vmctlBoot("cold-" + i, true, cw));
            Thread.sleep(gapMs);
            Watch ww = breakdown ? Watch.vmctl(dataDir.resolve("vms"), "warm-" + i) : null;
            warm.add(vmctlBoot("warm-" + i, false, ww));
            Thread.sleep(gapMs);
            Watch bw = breakdown ? Watch.bare(new VmFiles(scratch.resolve("bare" + i)).console()) : null;
            bare.add(bareBoot(scratch, kernel, initrd, kvm, i, bw));
            System.out.printf("run %d: vmctl cold %.3f s   vmctl warm %.3f s   bare qemu %.3f s%n", i + 1, cold.getLast(), warm.getLast(),
                    bare.getLast());
            if (breakdown) {
                coldStages.add(cw.stages());
                warmStages.add(ww.stages());
                bareStages.add(bw.stages());
                System.out.println("  breakdown cold: " + format(coldStages.getLast()));
                System.out.println("  breakdown warm: " + format(warmStages.getLast()));
                System.out.println("  breakdown bare: " + format(bareStages.getLast()));
            }
        }
        double mc = median(cold), mw = median(warm), mb = median(bare);
        System.out.printf("%nmedian of %d: vmctl create --start --wait → RUNNING: cold %.3f s, warm %.3f s; bare qemu → agent answers %.3f s%n",
                runs, mc, mw, mb);
        if (breakdown) {
            System.out.println("breakdown median, s from qemu start: cold " + format(medians(coldStages)));
            System.out.println("breakdown median, s from qemu start: warm " + format(medians(warmStages)));
            System.out.println("breakdown median, s from qemu start: bare " + format(medians(bareStages)));
        }
        System.out.printf("ratios: cold %.2f, warm %.2f%n", mc / mb, mw / mb);
    }

    /** Waits until the image's boot snapshot is committed (in the background after the first create); its name. */
    static String awaitBootSnapshot() throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            String image = get("/api/v1/images/tiny");
            String name = field(image.substring(Math.max(0, image.indexOf("\"bootSnapshots\""))), "name");
            if (name != null) return name;
            Thread.sleep(100);
        }
        throw new IllegalStateException("no boot snapshot recorded within 60 s: " + get("/api/v1/images/tiny"));
    }

    // ---------------------------------------------------------------- --breakdown

    /** vm name → event message → host time (ms since the epoch) of the server's events. */
    static final Map<String, Map<String, Long>> EVENTS = new ConcurrentHashMap<>();
    static final Pattern INIT_LINE = Pattern.compile("VMCTL_INIT ([0-9.]+)");

    /** Follows the server's event stream (SSE) in the background. */
    static void events(Path dataDir) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/events")).header("Authorization", AUTH)
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines());
        Thread.ofPlatform().daemon().start(() -> r.body().forEach(line -> {
            if (!line.startsWith("data:")) return;
            String name = field(line, "name"), msg = field(line, "message"), at = field(line, "at");
            if (name == null || msg == null || at == null) return;
            EVENTS.computeIfAbsent(name, k -> new ConcurrentHashMap<>())
                    .putIfAbsent(msg.startsWith("launching qemu") ? "launch" : msg, java.time.Instant.parse(at).toEpochMilli());
        }));
    }

    /**
     * Watches one boot from the outside: when the serial log appears and when each marker line arrives
     * on it (polled every 2 ms), as wall-clock milliseconds.
     */
    static final class Watch {
        final String vmName;     // vmctl: the VM's name (its folder is found under vmsDir), bare: null
        final Path vmsDir;
        volatile Path console;
        final Map<String, Double> at = new ConcurrentHashMap<>(); // stage → ms since the epoch (fractional)
        volatile boolean stop;
        long t0Ms, requestMs, endMs;
        Thread thread;

        private Watch(String vmName, Path vmsDir, Path console) {
            this.vmName = vmName;
            this.vmsDir = vmsDir;
            this.console = console;
            thread = Thread.ofPlatform().daemon().start(this::loop);
        }

        static Watch vmctl(Path vmsDir, String name) { return new Watch(name, vmsDir, null); }

        static Watch bare(Path console) { return new Watch(null, null, console); }

        static double nowMs() { return System.currentTimeMillis() + (System.nanoTime() % 1_000_000) / 1e6; }

        private void loop() {
            java.util.Set<String> before = vmsDir == null ? java.util.Set.of() : list(vmsDir);
            StringBuilder text = new StringBuilder();
            long offset = 0;
            while (!stop) {
                try {
                    if (console == null) {
                        for (String d : list(vmsDir)) if (!before.contains(d)) console = vmsDir.resolve(d).resolve("console.log");
                    }
                    if (console != null && Files.exists(console)) {
                        at.putIfAbsent("qemu", nowMs());
                        try (var f = new java.io.RandomAccessFile(console.toFile(), "r")) {
                            if (f.length() > offset) {
                                byte[] b = new byte[(int) (f.length() - offset)];
                                f.seek(offset);
                                f.readFully(b);
                                offset += b.length;
                                double t = nowMs();
                                text.append(new String(b, StandardCharsets.ISO_8859_1));
                                Matcher m = INIT_LINE.matcher(text);
                                if (m.find() && text.indexOf("\n", m.end()) >= 0 && !at.containsKey("init")) {
                                    at.put("init", t);
                                    at.put("kernel", t - Double.parseDouble(m.group(1)) * 1000);
                                }
                                if (text.indexOf("VMCTL_READY") >= 0) at.putIfAbsent("ready", t);
                            }
                        }
                    }
                    Thread.sleep(2);
                } catch (Exception e) {
                    // the file went away (VM deleted): the next round ends the loop
                }
            }
        }

        private static java.util.Set<String> list(Path dir) {
            try (var s = Files.list(dir)) {
                return new java.util.HashSet<>(s.map(p -> p.getFileName().toString()).toList());
            } catch (IOException e) {
                return java.util.Set.of();
            }
        }

        void finish() throws InterruptedException {
            stop = true;
            thread.join();
        }

        /** Stage → seconds from QEMU start, in boot order. */
        Map<String, Double> stages() {
            Map<String, Double> out = new java.util.LinkedHashMap<>();
            double t0;
            if (vmName != null) {
                Map<String, Long> ev = EVENTS.getOrDefault(vmName, Map.of());
                t0 = ev.getOrDefault("launch", 0L);
                out.put("request", (t0 - requestMs) / 1000.0);
            } else {
                t0 = t0Ms;
            }
            for (String k : List.of("qemu", "kernel", "init", "ready")) {
                if (at.containsKey(k)) out.put(k, (at.get(k) - t0) / 1000.0);
            }
            if (vmName != null) {
                Long running = EVENTS.getOrDefault(vmName, Map.of()).get("guest agent answered");
                if (running != null) out.put("running", (running - t0) / 1000.0);
                out.put("response", (endMs - t0) / 1000.0);
            } else {
                out.put("agent", (endMs - t0) / 1000.0);
            }
            return out;
        }
    }

    static String format(Map<String, Double> stages) {
        StringBuilder sb = new StringBuilder();
        stages.forEach((k, v) -> sb.append(String.format("%s %.3f  ", k, v)));
        return sb.toString().strip();
    }

    static Map<String, Double> medians(List<Map<String, Double>> runs) {
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        for (String k : runs.getFirst().keySet()) {
            List<Double> xs = new ArrayList<>();
            for (Map<String, Double> r : runs) if (r.containsKey(k)) xs.add(r.get(k));
            out.put(k, median(xs));
        }
        return out;
    }

    static double vmctlBoot(String name, boolean cold, Watch w) throws Exception {
        long t0 = System.nanoTime();
        if (w != null) w.requestMs = System.currentTimeMillis();
        String body = "{\"name\":\"" + name + "\",\"image\":\"tiny\",\"start\":true" + (cold ? ",\"cold\":true" : "") + "}";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/vms?wait=true")).header("Authorization", AUTH)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        double s = (System.nanoTime() - t0) / 1e9;
        if (w != null) {
            w.endMs = System.currentTimeMillis();
            Thread.sleep(50); // the RUNNING event may arrive just after the response
            w.finish();
        }
        if (!r.body().contains("\"state\":\"RUNNING\"")) throw new IllegalStateException("vmctl boot failed: " + r.body());
        String boot = field(r.body(), "boot");
        if (!(cold ? "cold" : "warm").equals(boot) && !name.equals("bench-first")) {
            throw new IllegalStateException("vm " + name + " booted " + boot + ", expected " + (cold ? "cold" : "warm") + ": " + r.body());
        }
        HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/vms/" + name + "?force=true")).header("Authorization", AUTH).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        return s;
    }

    /**
     * Process start → the guest agent answers the bench's own guest-sync-delimited (polled every 20 ms, a new
     * connection each time). QemuVm.awaitAgent would add its guest-ping round trip (~30 ms later under TCG).
     */
    static double bareBoot(Path dir, String kernel, String initrd, boolean kvm, int i, Watch w) throws Exception {
        VmFiles files = new VmFiles(dir.resolve("bare" + i));
        Files.createDirectories(files.dir());
        long khz = tscKhz();
        List<String> argv = new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "microvm,x-option-roms=off,rtc=on",
                "-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max", "-m", "128M", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-kernel", kernel, "-initrd", initrd,
                "-append", "console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1 tsc=reliable no_timer_check"
                        + " cryptomgr.notests" + (kvm ? "" : " tsc_early_khz=" + khz) + " vmctl.hostname=bare",
                "-chardev", "file,id=con0,path=" + files.console(), "-serial", "chardev:con0",
                "-device", "virtio-serial-device,id=vser0",
                "-chardev", "socket,id=qga0,path=" + files.agentSocket() + ",server=on,wait=off",
                "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
                "-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0"));
        long t0 = System.nanoTime();
        if (w != null) w.t0Ms = System.currentTimeMillis();
        try (QemuVm vm = QemuVm.launchArgv(argv, files)) {
            while (true) {
                if (!vm.alive()) throw new IllegalStateException("bare qemu exited (" + vm.exitDescription() + ")" + vm.qemuLogTail(5));
                if ((System.nanoTime() - t0) / 1e9 > 120) throw new IllegalStateException("bare boot timed out" + vm.consoleTail(12));
                if (agentAnswers(files.agentSocket())) {
                    double took = (System.nanoTime() - t0) / 1e9;
                    if (w != null) {
                        w.endMs = w.t0Ms + Math.round(took * 1000);
                        w.finish();
                    }
                    return took;
                }
                Thread.sleep(20);
            }
        }
    }

    /** guest-sync-delimited then guest-ping, as a careful client does. */
    static boolean agentAnswers(Path sock) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sock));
            ch.configureBlocking(true);
            ch.write(ByteBuffer.wrap(new byte[]{(byte) 0xff}));
            ch.write(ByteBuffer.wrap("{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":4711}}\n".getBytes()));
            var sel = java.nio.channels.Selector.open();
            ch.configureBlocking(false);
            ch.register(sel, java.nio.channels.SelectionKey.OP_READ);
            StringBuilder got = new StringBuilder();
            long deadline = System.nanoTime() + 700_000_000L;
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (System.nanoTime() < deadline) {
                sel.select(50);
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) return false;
                got.append(new String(buf.array(), 0, Math.max(n, 0), StandardCharsets.ISO_8859_1));
                if (got.indexOf("4711") >= 0) return true;
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    static long tscKhz() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (l.startsWith("cpu MHz")) return (long) (Double.parseDouble(l.substring(l.indexOf(':') + 1).trim()) * 1000);
        }
        return 2_000_000;
    }

    static String get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", AUTH).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
