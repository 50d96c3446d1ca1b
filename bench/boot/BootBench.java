// Boot benchmark: `vmctl vm create --start --wait` (request → RUNNING) against a bare qemu-system-x86_64
// command line booting the same kernel and initrd (process start → guest agent answers), interleaved,
// with the same idle gap before every run. JDK only: run with bench/boot/run.
//
//   java bench/boot/BootBench.java URL DATA_DIR RUNS
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class BootBench {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static String url;

    public static void main(String[] a) throws Exception {
        url = a[0];
        Path dataDir = Path.of(a[1]);
        int runs = Integer.parseInt(a[2]);
        long gapMs = 1500;
        String images = get("/api/v1/images");
        String kernel = field(images, "kernel"), initrd = field(images, "initrd");
        String host = get("/api/v1/host");
        System.out.println("kernel " + kernel + "\ninitrd " + initrd);
        System.out.println("accel: " + field(host, "chosen") + " (" + field(host, "reason") + ")");
        boolean kvm = "kvm".equals(field(host, "chosen"));
        List<Double> vmctl = new ArrayList<>(), bare = new ArrayList<>();
        Path scratch = Files.createTempDirectory("vmctl-bench-");
        for (int i = 0; i < runs; i++) {
            Thread.sleep(gapMs);
            vmctl.add(vmctlBoot("bench-" + i));
            Thread.sleep(gapMs);
            bare.add(bareBoot(scratch, kernel, initrd, kvm, i));
            System.out.printf("run %d: vmctl %.3f s   bare qemu %.3f s%n", i + 1, vmctl.getLast(), bare.getLast());
        }
        double mv = median(vmctl), mb = median(bare);
        System.out.printf("%nmedian of %d: vmctl create --start --wait → RUNNING %.3f s; bare qemu → agent answers %.3f s; ratio %.2f%n",
                runs, mv, mb, mv / mb);
    }

    static double vmctlBoot(String name) throws Exception {
        long t0 = System.nanoTime();
        String body = "{\"name\":\"" + name + "\",\"image\":\"tiny\",\"start\":true}";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/vms?wait=true"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        double s = (System.nanoTime() - t0) / 1e9;
        if (!r.body().contains("\"state\":\"RUNNING\"")) throw new IllegalStateException("vmctl boot failed: " + r.body());
        HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/vms/" + name + "?force=true")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        return s;
    }

    static double bareBoot(Path dir, String kernel, String initrd, boolean kvm, int i) throws Exception {
        Path qga = dir.resolve("qga" + i + ".sock");
        long khz = tscKhz();
        List<String> argv = new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "microvm,x-option-roms=off,rtc=on",
                "-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max", "-m", "128M", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-kernel", kernel, "-initrd", initrd,
                "-append", "console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1 tsc=reliable no_timer_check"
                        + " cryptomgr.notests" + (kvm ? "" : " tsc_early_khz=" + khz) + " vmctl.hostname=bare",
                "-chardev", "file,id=con0,path=" + dir.resolve("console" + i + ".log"), "-serial", "chardev:con0",
                "-device", "virtio-serial-device,id=vser0",
                "-chardev", "socket,id=qga0,path=" + qga + ",server=on,wait=off",
                "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
                "-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0"));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            while (true) {
                if (!p.isAlive()) throw new IllegalStateException("bare qemu exited " + p.exitValue());
                if ((System.nanoTime() - t0) / 1e9 > 120) throw new IllegalStateException("bare boot timed out");
                if (agentAnswers(qga)) return (System.nanoTime() - t0) / 1e9;
                Thread.sleep(20);
            }
        } finally {
            p.destroyForcibly();
            p.waitFor();
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
        return HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).build(), HttpResponse.BodyHandlers.ofString()).body();
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
