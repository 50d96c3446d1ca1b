// Kernel benchmark: the vmctl guest kernel (A) vs Debian's cloud kernel (B) on vmctl's QEMU command line
// (microvm with pcie=on, 8 PCIe root ports, guest agent, entropy, one virtio-net-pci NIC on user
// networking). Interleaved A B A B with the same idle gap before every run (see shared/PLATFORM.md,
// "Measuring here"):
//   probe: both kernels with the SAME initramfs (the vmctl image's; probe mode powers off before any
//          module would load): QEMU start -> VMCTL_PROBE_OK on the serial log
//   full:  each kernel with its own image's initramfs: QEMU start -> the guest agent answers
//          guest-sync-delimited; then QEMU's VmRSS from /proc/PID/status
// QEMU processes are started (and killed) through vmctl's QemuVm (class path: app/target/vmctl.jar); the
// waits stay the bench's own (5 ms serial polls, a new agent connection per try). Run with bench/kernel/run.
//
//   java -cp app/target/vmctl.jar bench/kernel/KernelBench.java WORK_DIR RUNS A_KERNEL A_INITRD A_VERSION B_KERNEL B_INITRD B_VERSION
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.VmFiles;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

public class KernelBench {
    record Kernel(String label, String kernel, String initrd, String version) {}

    static Path work;
    static boolean kvm;
    static int seq;

    public static void main(String[] a) throws Exception {
        Locale.setDefault(Locale.ROOT);
        work = Path.of(a[0]);
        int runs = Integer.parseInt(a[1]);
        if (runs < 1) throw new IllegalArgumentException("RUNS must be at least 1");
        Kernel vm = new Kernel("vmctl", a[2], a[3], a[4]);
        Kernel deb = new Kernel("debian", a[5], a[6], a[7]);
        kvm = "kvm".equals(System.getenv("BENCH_ACCEL"));
        long gapMs = Long.parseLong(System.getenv().getOrDefault("BENCH_GAP_MS", "1500"));
        System.out.printf("A: vmctl kernel %s  (%s, %.1f MB)%n", vm.version(), vm.kernel(), Files.size(Path.of(vm.kernel())) / 1e6);
        System.out.printf("B: Debian kernel %s  (%s, %.1f MB)%n", deb.version(), deb.kernel(), Files.size(Path.of(deb.kernel())) / 1e6);
        System.out.printf("initramfs: A %.1f MB, B %.1f MB (probe runs use A's for both)%n",
                Files.size(Path.of(vm.initrd())) / 1e6, Files.size(Path.of(deb.initrd())) / 1e6);
        System.out.printf("accel %s, %d runs each, %d ms idle before every run%n%n", kvm ? "kvm" : "tcg", runs, gapMs);

        List<Double> probeA = new ArrayList<>(), probeB = new ArrayList<>(), fullA = new ArrayList<>(), fullB = new ArrayList<>();
        List<Double> rssA = new ArrayList<>(), rssB = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            Thread.sleep(gapMs);
            probeA.add(probe(vm.kernel(), vm.initrd()));
            Thread.sleep(gapMs);
            probeB.add(probe(deb.kernel(), vm.initrd()));
            Thread.sleep(gapMs);
            double[] fa = full(vm);
            fullA.add(fa[0]);
            rssA.add(fa[1]);
            Thread.sleep(gapMs);
            double[] fb = full(deb);
            fullB.add(fb[0]);
            rssB.add(fb[1]);
            System.out.printf("run %d: probe A %.3f s  B %.3f s | agent A %.3f s  B %.3f s | RSS A %.0f MiB  B %.0f MiB%n",
                    i + 1, probeA.getLast(), probeB.getLast(), fullA.getLast(), fullB.getLast(), rssA.getLast(), rssB.getLast());
        }
        System.out.printf("%nmedians of %d runs (A = vmctl kernel, B = Debian cloud kernel):%n", runs);
        row("probe boot (start -> VMCTL_PROBE_OK)", probeA, probeB, "s");
        row("full boot (start -> guest agent answers)", fullA, fullB, "s");
        row("QEMU RSS per VM once the agent answers", rssA, rssB, "MiB");
    }

    static void row(String what, List<Double> a, List<Double> b, String unit) {
        double ma = median(a), mb = median(b);
        String f = unit.equals("s") ? "%.3f" : "%.0f";
        System.out.printf("  %-42s A " + f + " %s   B " + f + " %s   A/B %.2f   B/A %.2f%n", what, ma, unit, mb, unit, ma / mb, mb / ma);
    }

    static List<String> qemu(String kernel, String initrd, String append, VmFiles files) {
        List<String> argv = new ArrayList<>(List.of("qemu-system-x86_64",
                "-machine", "microvm,x-option-roms=off,rtc=on,pcie=on",
                "-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max", "-m", "128M", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-kernel", kernel, "-initrd", initrd,
                "-append", "console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1 tsc=reliable no_timer_check"
                        + " cryptomgr.notests pcie_ports=native" + (kvm || tscKhz() == 0 ? "" : " tsc_early_khz=" + tscKhz())
                        + " vmctl.hostname=bench " + append,
                "-chardev", "file,id=con0,path=" + files.console(), "-serial", "chardev:con0",
                "-device", "virtio-serial-device,id=vser0",
                "-chardev", "socket,id=qga0,path=" + files.agentSocket() + ",server=on,wait=off",
                "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
                "-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0,id=vrng0"));
        for (int i = 0; i < 8; i++) argv.addAll(List.of("-device", "pcie-root-port,id=rp" + i + ",slot=" + i + ",chassis=" + (i + 1)));
        argv.addAll(List.of("-netdev", "user,id=net0,restrict=on", "-device", "virtio-net-pci,netdev=net0,id=nic0,bus=rp0,mac=52:54:00:c6:12:01"));
        return argv;
    }

    /** Seconds from QEMU start to VMCTL_PROBE_OK on the serial log (polled every 5 ms). */
    static double probe(String kernel, String initrd) throws Exception {
        VmFiles files = new VmFiles(work.resolve("probe" + seq++));
        List<String> argv = qemu(kernel, initrd, "vmctl.probe=1", files);
        Files.createDirectories(files.dir());
        long t0 = System.nanoTime();
        try (QemuVm vm = QemuVm.launchArgv(argv, files)) {
            while (true) {
                if (vm.console().contains("VMCTL_PROBE_OK")) return (System.nanoTime() - t0) / 1e9;
                if (!vm.alive()) throw new IllegalStateException("qemu exited (" + vm.exitDescription() + ") without VMCTL_PROBE_OK: "
                        + files.console() + vm.qemuLogTail(5));
                if ((System.nanoTime() - t0) / 1e9 > 120) throw new IllegalStateException("probe timed out: " + files.console());
                Thread.sleep(5);
            }
        }
    }

    /** {seconds from QEMU start to the agent answering, QEMU's VmRSS in MiB then}. */
    static double[] full(Kernel k) throws Exception {
        VmFiles files = new VmFiles(work.resolve("full" + seq++));
        List<String> argv = qemu(k.kernel(), k.initrd(), "vmctl.ip0=198.18.0.2/24", files);
        Files.createDirectories(files.dir());
        long t0 = System.nanoTime();
        try (QemuVm vm = QemuVm.launchArgv(argv, files)) {
            while (true) {
                if (!vm.alive()) throw new IllegalStateException("qemu exited (" + vm.exitDescription() + "): " + files.console()
                        + vm.qemuLogTail(5));
                if ((System.nanoTime() - t0) / 1e9 > 120) throw new IllegalStateException("full boot timed out: " + files.console());
                if (agentAnswers(files.agentSocket())) {
                    double s = (System.nanoTime() - t0) / 1e9;
                    return new double[] {s, rssMiB(vm.pid())};
                }
                Thread.sleep(20);
            }
        }
    }

    static double rssMiB(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
        }
        throw new IOException("no VmRSS for " + pid);
    }

    /** guest-sync-delimited, as a careful client does (the reply may follow a 0xFF byte). */
    static boolean agentAnswers(Path sock) {
        if (!Files.exists(sock)) return false;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sock));
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xff}));
            ch.write(ByteBuffer.wrap("{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":4711}}\n".getBytes(StandardCharsets.UTF_8)));
            ch.configureBlocking(false);
            try (Selector sel = Selector.open()) {
                ch.register(sel, SelectionKey.OP_READ);
                StringBuilder got = new StringBuilder();
                long deadline = System.nanoTime() + 700_000_000L;
                ByteBuffer buf = ByteBuffer.allocate(4096);
                while (System.nanoTime() < deadline) {
                    sel.select(50);
                    buf.clear();
                    int r = ch.read(buf);
                    if (r < 0) return false;
                    got.append(new String(buf.array(), 0, Math.max(r, 0), StandardCharsets.ISO_8859_1));
                    if (got.indexOf("4711") >= 0) return true;
                }
                return false;
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** The host TSC frequency in kHz from /proc/cpuinfo (avoids PIT calibration hangs under TCG). */
    static long tscKhz() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("cpu MHz")) return Math.round(Double.parseDouble(l.substring(l.indexOf(':') + 1).strip()) * 1000);
            }
        } catch (IOException | NumberFormatException ignored) {
            // fall through
        }
        return 0;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
