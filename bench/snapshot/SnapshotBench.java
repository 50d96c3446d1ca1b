// Snapshot benchmark, machine level (the snapshot module's API, no server): snapshot save time and size;
// restore → agent answers vs cold boot → agent answers (interleaved, same idle gap before every run);
// clone ×N at once: wall time and memory (PSS) per clone. Prints medians and the ratio restore ÷ cold boot.
// Every QEMU is started, waited for and killed through vmctl's QemuVm. Run with bench/snapshot/run.
//
//   java -cp app/target/vmctl.jar bench/snapshot/SnapshotBench.java RUNS CLONES KERNEL(vmctl|debian)
import dev.vmctl.image.KernelFlavor;
import dev.vmctl.image.TinyImageBuilder;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.snapshot.CloneIdentity;
import dev.vmctl.snapshot.QemuMigration;
import dev.vmctl.snapshot.SnapshotManifest;
import dev.vmctl.snapshot.SnapshotStore;
import dev.vmctl.snapshot.Snapshotter;
import dev.vmctl.snapshot.VerifiedSnapshot;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.VmFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public class SnapshotBench {
    static final int MEM = 256;
    static final long GAP_MS = 1500;
    static final List<QemuVm> all = Collections.synchronizedList(new ArrayList<>());
    static Path dir;
    static ImageInfo image;

    public static void main(String[] a) throws Exception {
        int runs = Integer.parseInt(a[0]);
        int clones = Integer.parseInt(a[1]);
        KernelFlavor flavor = KernelFlavor.valueOf(a[2].toUpperCase(Locale.ROOT));
        dir = Files.createTempDirectory(Path.of("/tmp"), "vmctl-snapbench-");
        try {
            run(runs, clones, flavor);
        } finally {
            for (QemuVm v : all) v.close();
            new ProcessBuilder("rm", "-rf", "--one-file-system", dir.toString()).inheritIO().start().waitFor();
        }
    }

    static void run(int runs, int clones, KernelFlavor flavor) throws Exception {
        image = new TinyImageBuilder(dir.resolve("images")).build("tiny", flavor, line -> { });
        System.out.println("image: " + image.os() + ", guest RAM " + MEM + " MiB, 1 vCPU, TCG");
        SnapshotStore store = new SnapshotStore(dir.resolve("snapshots"));

        // ---- source VM (RAM in a shared file) and its snapshot saves
        VmFiles sf = new VmFiles(dir.resolve("vms/src"));
        Path ram = sf.dir().resolve("ram");
        QemuCommand.Spec src = new QemuCommand.Spec("src", "src", 1, MEM, false, image.kernel(), image.initrd(), null, sf,
                List.of(), ram, true, false);
        List<Double> save = new ArrayList<>(), paused = new ArrayList<>(), total = new ArrayList<>();
        long stateBytes = 0, ramAllocated = 0;
        try (Vm vm = Vm.start(src)) {
            vm.waitForAgent().exec(List.of("/bin/sh", "-c", "echo bench > /tmp/hello.txt"), null, Duration.ofSeconds(10));
            Thread.sleep(1000);
            for (int i = 0; i < runs; i++) {
                Thread.sleep(300);
                Snapshotter.Result r = Snapshotter.take(store, i == 0 ? "bench" : "bench-" + i, vm.qmp(), source(src, ram),
                        new Snapshotter.Options(false, true, null, Duration.ofSeconds(60)));
                save.add((double) r.save().millis());
                paused.add((double) r.pausedMillis());
                total.add((double) r.totalMillis());
                stateBytes = r.save().fileBytes();
                if (i > 0) store.delete("bench-" + i, null);
            }
            ramAllocated = Long.parseLong(new String(new ProcessBuilder("stat", "-c", "%b", store.dir("bench").resolve("ram").toString())
                    .start().getInputStream().readAllBytes()).strip()) * 512;
            // one save without x-ignore-shared (RAM streamed) for comparison: a clone-like source is not needed,
            // the same VM saved with ramFile null streams its whole RAM
            Snapshotter.Result s = Snapshotter.take(store, "bench-stream", vm.qmp(), source(src, null),
                    new Snapshotter.Options(true, true, null, Duration.ofSeconds(60)));
            System.out.printf(Locale.ROOT, "save, RAM streamed + zstd (for comparison): %d ms, stream %d MiB, file %d MiB%n",
                    s.save().millis(), s.save().streamBytes() >> 20, s.save().fileBytes() >> 20);
            store.delete("bench-stream", null);
        }
        System.out.printf(Locale.ROOT, "save (x-ignore-shared), median of %d: stop → state on disk %.0f ms; VM paused (incl. RAM file copy) %.0f ms;"
                + " whole snapshot incl. SHA-256 + commit %.0f ms%n", runs, median(save), median(paused), median(total));
        SnapshotManifest m = store.get("bench");
        System.out.printf(Locale.ROOT, "snapshot size: state %d KiB, RAM file %d MiB apparent / %d MiB allocated, total apparent %d MiB%n",
                stateBytes >> 10, m.file("ram").size() >> 20, ramAllocated >> 20, m.totalBytes() >> 20);

        long tv = System.nanoTime();
        VerifiedSnapshot v = store.verify("bench");
        System.out.printf(Locale.ROOT, "verify (SHA-256 of every file): %d ms%n", (System.nanoTime() - tv) / 1_000_000);

        // ---- restore vs cold boot, interleaved
        List<Double> cold = new ArrayList<>(), restore = new ArrayList<>(), running = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            Thread.sleep(GAP_MS);
            QemuCommand.Spec cs = new QemuCommand.Spec("cold" + i, "cold" + i, 1, MEM, false, image.kernel(), image.initrd(), null,
                    new VmFiles(dir.resolve("vms/cold" + i)));
            try (Vm vm = Vm.start(cs)) {
                vm.waitForAgent();
                cold.add(ms(System.nanoTime() - vm.t0));
            }
            Thread.sleep(GAP_MS);
            try (Vm vm = Vm.start(v.cloneSpec("r" + i, "r" + i, new VmFiles(dir.resolve("vms/r" + i)), List.of()))) {
                v.load(vm.qmp(), true, Duration.ofSeconds(30));
                running.add(ms(System.nanoTime() - vm.t0));
                vm.waitForAgent();
                restore.add(ms(System.nanoTime() - vm.t0));
            }
            System.out.printf(Locale.ROOT, "run %d: cold boot → agent %.0f ms   restore → running %.0f ms, → agent %.0f ms%n",
                    i + 1, cold.getLast(), running.getLast(), restore.getLast());
        }

        // ---- clone ×N at once
        Thread.sleep(GAP_MS);
        long t0 = System.nanoTime();
        List<Vm> cl = new ArrayList<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Vm>> fs = new ArrayList<>();
            for (int i = 1; i <= clones; i++) {
                int k = i;
                fs.add(ex.submit(() -> {
                    Vm vm = Vm.start(v.cloneSpec("c" + k, "clone-" + k, new VmFiles(dir.resolve("vms/c" + k)), List.of()));
                    v.load(vm.qmp(), true, Duration.ofSeconds(60));
                    vm.waitForAgent();
                    CloneIdentity.applyThroughHelper(vm.qemu(), CloneIdentity.Spec.of("clone-" + k, List.of()), Duration.ofSeconds(30));
                    return vm;
                }));
            }
            for (Future<Vm> f : fs) cl.add(f.get());
        }
        double wall = ms(System.nanoTime() - t0);
        // what bounds N at once: the CPU the N QEMU processes used until then (user + system, all their threads)
        double cpuSec = 0;
        for (Vm vm : cl) cpuSec += cpuSeconds(vm.qemu().pid());
        Thread.sleep(2000);
        List<Double> pss = new ArrayList<>(), rss = new ArrayList<>();
        for (Vm vm : cl) {
            pss.add(vm.rollupKb("Pss:") / 1024.0);
            rss.add(vm.rollupKb("Rss:") / 1024.0);
        }
        double pssSum = pss.stream().mapToDouble(Double::doubleValue).sum();
        for (Vm vm : cl) vm.close();
        Thread.sleep(GAP_MS);
        // one clone alone, the same way, for comparison (the goal: N at once within ~2 × one)
        long t1 = System.nanoTime();
        double oneCpu;
        try (Vm vm = Vm.start(v.cloneSpec("c0", "clone-0", new VmFiles(dir.resolve("vms/c0")), List.of()))) {
            v.load(vm.qmp(), true, Duration.ofSeconds(60));
            vm.waitForAgent();
            CloneIdentity.applyThroughHelper(vm.qemu(), CloneIdentity.Spec.of("clone-0", List.of()), Duration.ofSeconds(30));
            oneCpu = cpuSeconds(vm.qemu().pid());
        }
        double one = ms(System.nanoTime() - t1);
        Thread.sleep(GAP_MS);
        // memory of one cold-booted VM for comparison
        double coldPss;
        QemuCommand.Spec cs = new QemuCommand.Spec("coldmem", "coldmem", 1, MEM, false, image.kernel(), image.initrd(), null,
                new VmFiles(dir.resolve("vms/coldmem")));
        try (Vm vm = Vm.start(cs)) {
            vm.waitForAgent();
            Thread.sleep(2000);
            coldPss = vm.rollupKb("Pss:") / 1024.0;
        }

        double mc = median(cold), mr = median(restore);
        System.out.printf(Locale.ROOT, "%nmedians of %d: cold boot → agent answers %.0f ms; restore → running %.0f ms, → agent answers %.0f ms;"
                + " ratio restore ÷ cold boot %.3f%n", runs, mc, median(running), mr, mr / mc);
        System.out.printf(Locale.ROOT, "clone ×%d at once (start → all agents answer, identity through vmctl-identity): %.0f ms; PSS per clone median %.0f MiB"
                + " (min %.0f, max %.0f; sum %.0f MiB), RSS median %.0f MiB; one cold-booted VM: PSS %.0f MiB%n",
                clones, wall, median(pss), Collections.min(pss), Collections.max(pss), pssSum, median(rss), coldPss);
        int cores = Runtime.getRuntime().availableProcessors();
        double floor = cpuSec / cores * 1000;
        System.out.printf(Locale.ROOT, "clone ×%d vs one alone: %.0f ms vs %.0f ms (×%.1f); CPU the %d QEMU processes used until then %.2f core-s"
                + " (one alone %.2f): on %d cores that takes ≥ %.0f ms (×%.1f of one alone); the other %.0f ms they waited for cores"
                + " other processes held or for I/O (%.2f of the %d cores theirs on average)%n",
                clones, wall, one, wall / one, clones, cpuSec, oneCpu, cores, floor, floor / one, Math.max(0, wall - floor),
                cpuSec / (wall / 1000), cores);
    }

    /** utime + stime of a process (all its threads), from /proc/PID/stat, in seconds. */
    static double cpuSeconds(long pid) {
        try {
            String st = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // fields 14 and 15, clock ticks (USER_HZ 100)
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    static Snapshotter.Source source(QemuCommand.Spec s, Path ram) {
        return new Snapshotter.Source(s.name(), image.name(), Path.of(image.kernel()), image.kernelSha256(), Path.of(image.initrd()),
                image.initrdSha256(), s.cpus(), s.memoryMiB(), s.kvm(), s.extraCmdline(), List.<SnapshotManifest.Nic>of(), ram, null);
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** One QEMU (this JVM's child, through QemuVm) and when it was started. */
    record Vm(QemuVm qemu, long t0) implements AutoCloseable {
        /** Starts QEMU for {@code spec} and connects QMP. */
        static Vm start(QemuCommand.Spec spec) throws IOException {
            Files.createDirectories(spec.files().dir());
            long t0 = System.nanoTime();
            QemuVm q = QemuVm.launch(List.of(), spec);
            all.add(q);
            q.connectQmp(Duration.ofSeconds(15));
            return new Vm(q, t0);
        }

        QmpClient qmp() { return qemu.qmp(); }

        GuestAgentClient waitForAgent() {
            return qemu.awaitAgent(java.time.Duration.ofSeconds(120), () -> false);
        }

        long rollupKb(String key) throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(qemu.pid()), "smaps_rollup"))) {
                if (l.startsWith(key)) return Long.parseLong(l.substring(key.length()).strip().split("\\s+")[0]);
            }
            return -1;
        }

        @Override
        public void close() {
            qemu.close();
        }
    }
}
