package dev.vmctl.snapshot;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.Procs;
import dev.vmctl.image.KernelFlavor;
import dev.vmctl.image.TinyImageBuilder;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.VmFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real QEMU under TCG: one source VM (RAM in a shared file, one NIC on a bridge in a scratch network
 * namespace when this host allows one) writes a file and runs a counter, is snapshotted and killed; the
 * tests restore and clone it. Every QEMU is this JVM's child and is killed by its handle in a finally
 * block; the namespace is deleted at the end. Figures go to stdout and target/snapshot-figures.txt.
 */
class SnapshotVmTest {
    static final int MEM_MIB = 256;
    static final String SUBNET = "198.18.7.";
    static final Duration BOOT = Duration.ofSeconds(60);
    static final Duration RESTORE = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    static ImageInfo image;
    static SnapshotStore store;
    static String netns;               // null: no namespace here, VMs without NICs
    static final List<String> taps = new ArrayList<>();
    static final Map<String, String> figures = new LinkedHashMap<>();
    static final List<TestVm> vms = new ArrayList<>();

    static long counterAtSave;         // read just before the save
    static long saveNanos;             // when the save started
    static SnapshotManifest warm;

    @BeforeAll
    static void snapshotASourceVm() throws Exception {
        assumeTrue(Cmd.available("qemu-system-x86_64"), "qemu-system-x86 is not installed");
        assumeTrue(Cmd.available("qemu-img") && Cmd.available("zstd") && Cmd.available("tar"), "qemu-utils, zstd, tar needed");
        assumeTrue(Files.isRegularFile(Path.of("/usr/sbin/qemu-ga")), "qemu-guest-agent is not installed");
        long tb = System.nanoTime();
        // the Debian cloud kernel: builds in a second (the vmctl kernel flavour compiles for minutes the first time)
        image = new TinyImageBuilder(dir.resolve("images")).build("tiny", KernelFlavor.DEBIAN, null);
        figure("image", image.os() + String.format(Locale.ROOT, " (built in %.1f s)", (System.nanoTime() - tb) / 1e9));
        store = new SnapshotStore(dir.resolve("snapshots"));
        netns = setUpNetwork();
        figure("network", netns == null ? "none (no network namespace here): clones without NICs" : "namespace " + netns + ", bridge br0, " + SUBNET + "0/24");

        VmFiles files = new VmFiles(dir.resolve("vms/src"));
        Path ram = files.dir().resolve("ram");
        List<QemuCommand.Nic> nics = netns == null ? List.of() : List.of(new QemuCommand.Nic(0, taps.get(0), "52:54:00:07:00:10"));
        QemuCommand.Spec spec = new QemuCommand.Spec("src", "src", 1, MEM_MIB, false, image.kernel(), image.initrd(),
                netns == null ? null : "vmctl.ip0=" + SUBNET + "10/24", files, nics, ram, true, false);
        try (TestVm src = start(spec, List.of())) {
            src.waitForAgent(BOOT);
            figure("cold boot → agent answers (source, RAM file share=on)", ms(System.nanoTime() - src.startNanos));
            src.sh("echo hello-from-before-the-snapshot > /tmp/hello.txt");
            src.sh("setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.2; done' </dev/null >/dev/null 2>&1 &");
            long waitUntil = System.nanoTime() + 20_000_000_000L;
            while (counterOrZero(src.agent) < 10) {
                assertThat(System.nanoTime()).as("counter reaches 10").isLessThan(waitUntil);
                TestVm.sleep(100);
            }
            figure("source VM PSS / RSS (cold boot)", src.pssKb() / 1024 + " MiB / " + src.rssKb() / 1024 + " MiB");
            counterAtSave = counter(src.agent);
            saveNanos = System.nanoTime();
            Snapshotter.Result r = Snapshotter.take(store, "warm", src.qmp, source(spec, ram, null),
                    new Snapshotter.Options(false, true, null, Duration.ofSeconds(60)));
            warm = r.manifest();
            assertThat(r.save().resumed()).isTrue();
            assertThat(QemuMigration.status(src.qmp)).isEqualTo("running");
            figure("save with x-ignore-shared: stop → state on disk", r.save().millis() + " ms");
            figure("save: VM paused (stop → RAM file copied → cont)", r.pausedMillis() + " ms (RAM copy " + r.ramCopyMillis() + " ms)");
            figure("save: whole snapshot incl. SHA-256 + commit", r.totalMillis() + " ms");
            figure("state file (x-ignore-shared)", r.save().fileBytes() + " bytes");
            long ramBlocks = Long.parseLong(Cmd.check("stat", "-c", "%b", store.dir("warm").resolve("ram").toString()).stdout().strip());
            figure("RAM file in snapshot (apparent / allocated)", (warm.file("ram").size() >> 20) + " MiB / " + (ramBlocks * 512 >> 20) + " MiB");
            figure("snapshot total (apparent, incl. kernel+initrd)", (warm.totalBytes() >> 20) + " MiB");
            // the VM runs on after the snapshot
            long after = counter(src.agent);
            TestVm.sleep(600);
            assertThat(counter(src.agent)).isGreaterThan(after);
        }
    }

    @AfterAll
    static void tearDown() throws IOException {
        for (TestVm v : vms) v.close();
        if (netns != null) Cmd.run("ip", "netns", "del", netns);
        StringBuilder sb = new StringBuilder();
        figures.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/snapshot-figures.txt"), sb);
        System.out.print("\n==== snapshot figures ====\n" + sb);
    }

    /** (a) The restored VM has the file, and its counter continues from where it was. */
    @Test
    void restoreContinuesTheFileAndTheCounter() throws Exception {
        while (System.nanoTime() - saveNanos < 3_000_000_000L) TestVm.sleep(50); // at least 3 s "dead" after the save
        long t0 = System.nanoTime();
        VerifiedSnapshot v = store.verify("warm");
        long tVerified = System.nanoTime();
        try (TestVm vm = start(v.cloneSpec("r1", "r1", new VmFiles(dir.resolve("vms/r1")), nics(1, "52:54:00:07:00:10")), List.of())) {
            QemuMigration.RestoreStats rs = v.load(vm.qmp, true, RESTORE);
            long tRunning = System.nanoTime();
            assertThat(rs.finalStatus()).isEqualTo("running");
            vm.waitForAgent(Duration.ofSeconds(20));
            long tAgent = System.nanoTime();
            figure("verify (SHA-256 of all files)", ms(tVerified - t0));
            figure("restore: qemu start → running (state loaded, cont)", ms(tRunning - vm.startNanos) + " (load " + rs.loadMillis() + " ms)");
            figure("restore: qemu start → agent answers", ms(tAgent - vm.startNanos));
            assertThat(vm.sh("cat /tmp/hello.txt")).isEqualTo("hello-from-before-the-snapshot\n");
            long c1 = counter(vm.agent);
            TestVm.sleep(1000);
            long c2 = counter(vm.agent);
            double sinceSave = (System.nanoTime() - saveNanos) / 1e9;
            figure("counter: before save / after restore / 1 s later / if it had kept running (upper bound)",
                    counterAtSave + " / " + c1 + " / " + c2 + " / " + (counterAtSave + (long) (sinceSave / 0.2)));
            assertThat(c1).as("continued from the snapshot, not restarted").isGreaterThanOrEqualTo(counterAtSave);
            assertThat(c2).as("still counting").isGreaterThan(c1);
            assertThat(c2).as("it paused while the snapshot was on disk").isLessThan(counterAtSave + (long) (sinceSave / 0.2) - 10);
            // the restored VM's clock stood still: CloneIdentity sets it
            List<CloneIdentity.Nic> id = netns == null ? List.of()
                    : List.of(new CloneIdentity.Nic("eth0", "52:54:00:07:00:21", SUBNET + "21/24", SUBNET + "1"));
            CloneIdentity.Applied a = CloneIdentity.apply(vm.agent, CloneIdentity.Spec.of("r1", id), Duration.ofSeconds(20));
            figure("identity on one restored VM (script / clock / total)", a.scriptMillis() + " / " + a.clockMillis() + " / " + a.totalMillis() + " ms");
            long guestNow = Long.parseLong(vm.sh("date +%s").strip());
            assertThat(Math.abs(guestNow - System.currentTimeMillis() / 1000)).isLessThanOrEqualTo(2);
        }
    }

    /** (b) Three clones at once, each with its own identity; on one segment they ping each other. */
    @Test
    void threeClonesAtOnceWithTheirOwnIdentity() throws Exception {
        VerifiedSnapshot v = store.verify("warm");
        int n = 3;
        long t0 = System.nanoTime();
        List<TestVm> clones = new ArrayList<>();
        List<Long> toAgent = new ArrayList<>();
        List<Long> identityMs = new ArrayList<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<TestVm>> fs = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                int k = i;
                fs.add(ex.submit(() -> {
                    String mac = String.format("52:54:00:07:01:%02x", k);
                    TestVm vm = start(v.cloneSpec("c" + k, "web-" + k, new VmFiles(dir.resolve("vms/c" + k)), nics(k, mac)), List.of());
                    v.load(vm.qmp, true, RESTORE);
                    vm.waitForAgent(Duration.ofSeconds(20));
                    synchronized (toAgent) {
                        toAgent.add((System.nanoTime() - vm.startNanos) / 1_000_000);
                    }
                    List<CloneIdentity.Nic> id = netns == null ? List.of()
                            : List.of(new CloneIdentity.Nic("eth0", mac, SUBNET + (10 + k) + "/24", null));
                    CloneIdentity.Applied a = CloneIdentity.apply(vm.agent, CloneIdentity.Spec.of("web-" + k, id), Duration.ofSeconds(20));
                    synchronized (identityMs) {
                        identityMs.add(a.totalMillis());
                    }
                    return vm;
                }));
            }
            for (Future<TestVm> f : fs) clones.add(f.get());
        }
        figure(n + " clones at once: start → all agents answer + identity applied", ms(System.nanoTime() - t0));
        figure("clone: qemu start → agent answers (each, concurrent)", toAgent.stream().sorted().map(x -> x + " ms").collect(Collectors.joining(", ")));
        figure("clone identity applied (hostname, MAC, IP, machine-id, entropy, clock; each)", identityMs.stream().sorted().map(x -> x + " ms").collect(Collectors.joining(", ")));

        List<String> hostnames = new ArrayList<>();
        Set<String> machineIds = new java.util.HashSet<>();
        for (int k = 1; k <= n; k++) {
            TestVm vm = clones.get(k - 1);
            hostnames.add(vm.sh("hostname; cat /etc/hostname").strip());
            machineIds.add(vm.sh("cat /etc/machine-id").strip());
            assertThat(vm.sh("cat /tmp/hello.txt")).isEqualTo("hello-from-before-the-snapshot\n");
            if (netns != null) {
                assertThat(vm.sh("cat /sys/class/net/eth0/address").strip()).isEqualTo(String.format("52:54:00:07:01:%02x", k));
                assertThat(vm.sh("ip -4 addr show dev eth0")).contains("inet " + SUBNET + (10 + k) + "/24").doesNotContain(SUBNET + "10/");
            }
        }
        assertThat(hostnames).containsExactly("web-1\nweb-1", "web-2\nweb-2", "web-3\nweb-3");
        assertThat(machineIds).hasSize(n);
        if (netns != null) {
            // each answers on its own address, from the host side and from each other
            for (int k = 1; k <= n; k++) {
                CmdResult r = Cmd.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-W", "2", "-i", "0.2", SUBNET + (10 + k));
                assertThat(r.exitCode()).as("host → clone %d: %s", k, r.stdout()).isZero();
            }
            String p12 = clones.get(0).sh("ping -c 2 -w 5 " + SUBNET + "12");
            String p23 = clones.get(1).sh("ping -c 2 -w 5 " + SUBNET + "13");
            String p31 = clones.get(2).sh("ping -c 2 -w 5 " + SUBNET + "11");
            figure("clone ping (web-1 → web-2)", p12.lines().filter(l -> l.contains("min/avg")).findFirst().orElse(p12.strip()));
            assertThat(p23 + p31).contains("0% packet loss");
            String fdb = Cmd.run("bridge", "-n", netns, "fdb", "show", "br", "br0").stdout();
            for (int k = 1; k <= n; k++) assertThat(fdb).contains(String.format("52:54:00:07:01:%02x", k));
        }
        TestVm.sleep(1000);
        List<String> pss = new ArrayList<>();
        for (TestVm vm : clones) pss.add(vm.pssKb() / 1024 + "/" + vm.rssKb() / 1024);
        figure("clone PSS/RSS MiB (" + n + " running from one RAM file)", String.join(", ", pss));
        for (TestVm vm : clones) vm.close();
    }

    /** (c) A flipped byte and a truncated file: verify refuses, naming both, and nothing boots. */
    @Test
    void aTamperedSnapshotIsRefusedAndNeverBooted() throws IOException {
        Path archive = store.exportTo("warm", dir.resolve("warm-for-tamper.tar.zst"));
        store.importFrom(archive, "tampered");
        Path d = store.dir("tampered");
        try (RandomAccessFile f = new RandomAccessFile(d.resolve("state").toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0x80);
        }
        try (RandomAccessFile f = new RandomAccessFile(d.resolve("ram").toFile(), "rw")) {
            f.setLength(f.length() - 4096);
        }
        assertThatThrownBy(() -> store.verify("tampered"))
                .isInstanceOf(SnapshotCorruptException.class)
                .hasMessageContaining("snapshot tampered is damaged and will not be restored")
                .hasMessageContaining("ram: truncated (" + (warm.file("ram").size() - 4096) + " of " + warm.file("ram").size() + " bytes)")
                .hasMessageContaining("state: corrupted (content does not match its SHA-256");
        figure("tampered snapshot refused with", catchMessage(() -> store.verify("tampered")));
        assertThat(Procs.findByArgs(QemuCommand.QEMU, d.toString())).as("no QEMU uses the tampered snapshot").isEmpty();
        assertThatThrownBy(() -> store.exportTo("tampered", dir.resolve("t.tar.zst"))).isInstanceOf(SnapshotCorruptException.class);
        store.delete("tampered", null);
        store.verify("warm");
    }

    /** (d) export → import elsewhere → restore works. */
    @Test
    void exportImportThenRestore() throws Exception {
        long t0 = System.nanoTime();
        Path archive = store.exportTo("warm", dir.resolve("warm.tar.zst"));
        figure("export (tar --zstd, holes kept)", ms(System.nanoTime() - t0) + ", " + (Files.size(archive) >> 20) + " MiB archive");
        SnapshotStore other = new SnapshotStore(dir.resolve("other-host/snapshots"));
        t0 = System.nanoTime();
        SnapshotManifest m = other.importFrom(archive);
        figure("import (list check, unpack, verify)", ms(System.nanoTime() - t0));
        assertThat(m.files()).isEqualTo(warm.files());
        VerifiedSnapshot v = other.verify("warm");
        try (TestVm vm = start(v.cloneSpec("i1", "i1", new VmFiles(dir.resolve("vms/i1")), nics(4, "52:54:00:07:02:01")), List.of())) {
            v.load(vm.qmp, true, RESTORE);
            vm.waitForAgent(Duration.ofSeconds(20));
            assertThat(vm.sh("cat /tmp/hello.txt")).isEqualTo("hello-from-before-the-snapshot\n");
            CloneIdentity.apply(vm.agent, CloneIdentity.Spec.of("imported", List.of()), Duration.ofSeconds(20));
            assertThat(vm.sh("hostname").strip()).isEqualTo("imported");
        }
    }

    /** (e) RAM not in a file (all of it in the zstd-compressed state), and a disk overlay. */
    @Test
    void streamModeCompressedWithADisk() throws Exception {
        Path base = dir.resolve("disk-base.img");
        Cmd.check("qemu-img", "create", "-q", "-f", "raw", base.toString(), "32M");
        VmFiles files = new VmFiles(dir.resolve("vms/plain"));
        Files.createDirectories(files.dir());
        Path overlay = files.dir().resolve("disk.qcow2");
        DiskOverlay.create(base, "raw", overlay);
        QemuCommand.Spec spec = new QemuCommand.Spec("plain", "plain", 1, MEM_MIB, false, image.kernel(), image.initrd(),
                null, files, List.of(), null, false, false);
        Snapshotter.Result r;
        try (TestVm src = start(spec, disk(overlay))) {
            src.waitForAgent(BOOT);
            src.sh("echo plain-hello > /tmp/hello.txt; printf disk-before-snapshot | dd of=/dev/vda conv=fsync 2>/dev/null");
            r = Snapshotter.take(store, "plain", src.qmp, source(spec, null, new Snapshotter.Disk(overlay, base, "raw")),
                    new Snapshotter.Options(true, true, null, Duration.ofSeconds(60)));
            src.sh("printf disk-after-snapshot_ | dd of=/dev/vda conv=fsync 2>/dev/null"); // the source's overlay, not the snapshot's
        }
        SnapshotManifest m = r.manifest();
        assertThat(m.state().ramMode()).isEqualTo(SnapshotManifest.RamMode.STREAM);
        assertThat(m.state().file()).isEqualTo("state.zst");
        assertThat(m.file("ram")).isNull();
        assertThat(m.disk()).isEqualTo(new SnapshotManifest.Disk("disk.qcow2", base.toString(), "raw"));
        figure("save without x-ignore-shared, zstd: stop → state on disk", r.save().millis() + " ms");
        figure("state stream / zstd file", (r.save().streamBytes() >> 20) + " MiB / " + (r.save().fileBytes() >> 20) + " MiB ("
                + r.save().fileBytes() + " bytes)");
        VerifiedSnapshot v = store.verify("plain");
        VmFiles cf = new VmFiles(dir.resolve("vms/plain-r"));
        Files.createDirectories(cf.dir());
        Path cloneDisk = cf.dir().resolve("disk.qcow2");
        assertThat(v.createDiskOverlay(cloneDisk).backingFile()).isEqualTo(v.diskFile().toString());
        try (TestVm vm = start(v.cloneSpec("plain-r", "plain-r", cf, List.of()), disk(cloneDisk))) {
            QemuMigration.RestoreStats rs = v.load(vm.qmp, true, RESTORE);
            vm.waitForAgent(Duration.ofSeconds(20));
            figure("restore from zstd stream: qemu start → agent answers", ms(System.nanoTime() - vm.startNanos) + " (load " + rs.loadMillis() + " ms)");
            assertThat(vm.sh("cat /tmp/hello.txt")).isEqualTo("plain-hello\n");
            assertThat(vm.sh("dd if=/dev/vda bs=20 count=1 iflag=direct 2>/dev/null || dd if=/dev/vda bs=512 count=1 2>/dev/null"))
                    .startsWith("disk-before-snapshot");
            vm.sh("printf clone-wrote-this | dd of=/dev/vda conv=fsync 2>/dev/null");
        }
        store.verify("plain"); // the clone wrote to its own overlay, not to the snapshot's disk

        // a QEMU whose devices do not match the state (no disk) exits while loading: a clear error, not a hang
        VmFiles bf = new VmFiles(dir.resolve("vms/plain-bad"));
        try (TestVm vm = start(v.cloneSpec("plain-bad", "plain-bad", bf, List.of()), List.of())) {
            assertThatThrownBy(() -> v.load(vm.qmp, true, RESTORE))
                    .isInstanceOf(dev.vmctl.model.VmctlException.class)
                    .hasMessageContaining("qemu exited while loading state.zst");
            assertThat(vm.waitExit(Duration.ofSeconds(10))).isTrue();
            figure("restore into a mismatched QEMU", catchMessage(() -> { throw new IllegalStateException(
                    java.util.Arrays.stream(TestVm.log(vm.spec).split("\n")).filter(l -> l.contains("qemu-system")).findFirst().orElse("?")); }));
        }
    }

    /**
     * (f) Roll back in place: the VM gets its own share=on copy of the snapshot's RAM and can be snapshotted
     * again (parent recorded, x-ignore-shared again); a clone's share=off RAM goes into the stream instead.
     */
    @Test
    void aRolledBackVmCanBeSnapshottedAgainAndAClonesRamGoesIntoTheStream() throws Exception {
        VerifiedSnapshot v = store.verify("warm");
        VmFiles f = new VmFiles(dir.resolve("vms/rb"));
        Files.createDirectories(f.dir());
        Path ram = f.dir().resolve("ram");
        v.copyRamTo(ram);
        QemuCommand.Spec spec = v.restoreSpec("rb", "src", f, nics(5, "52:54:00:07:00:10"), ram, true);
        try (TestVm vm = start(spec, List.of())) {
            v.load(vm.qmp, true, RESTORE);
            vm.waitForAgent(Duration.ofSeconds(20));
            vm.sh("echo second > /tmp/second.txt");
            Snapshotter.Result r = Snapshotter.take(store, "warm-2", vm.qmp, source(spec, ram, null),
                    new Snapshotter.Options(false, true, "warm", Duration.ofSeconds(60)));
            assertThat(r.manifest().parent()).isEqualTo("warm");
            assertThat(r.manifest().state().ramMode()).isEqualTo(SnapshotManifest.RamMode.FILE);
            assertThat(r.save().fileBytes()).isLessThan(4 << 20);
        }
        VerifiedSnapshot v2 = store.verify("warm-2");
        QemuCommand.Spec cspec = v2.cloneSpec("rb-c", "rb-c", new VmFiles(dir.resolve("vms/rb-c")), nics(5, "52:54:00:07:03:01"));
        try (TestVm c = start(cspec, List.of())) {
            v2.load(c.qmp, true, RESTORE);
            c.waitForAgent(Duration.ofSeconds(20));
            assertThat(c.sh("cat /tmp/hello.txt /tmp/second.txt")).isEqualTo("hello-from-before-the-snapshot\nsecond\n");
            // a clone maps its RAM share=off: refused as a RAM file, saved as a stream
            assertThatThrownBy(() -> Snapshotter.take(store, "of-a-clone", c.qmp, source(cspec, v2.ramFile(), null), Snapshotter.Options.defaults()))
                    .isInstanceOf(dev.vmctl.model.VmctlException.class).hasMessageContaining("share=off");
            assertThat(store.exists("of-a-clone")).isFalse();
            Snapshotter.Result r = Snapshotter.take(store, "of-a-clone", c.qmp, source(cspec, null, null),
                    new Snapshotter.Options(true, true, "warm-2", Duration.ofSeconds(60)));
            assertThat(r.manifest().state().ramMode()).isEqualTo(SnapshotManifest.RamMode.STREAM);
            assertThat(QemuMigration.status(c.qmp)).isEqualTo("running");
            figure("snapshot of a clone (share=off RAM → stream, zstd)", r.save().millis() + " ms, " + (r.save().fileBytes() >> 20) + " MiB");
        }
        // a snapshot of a clone restores into a new RAM file of its own (the stream names the clone's memory backend)
        VerifiedSnapshot v3 = store.verify("of-a-clone");
        VmFiles of = new VmFiles(dir.resolve("vms/rb-cc"));
        QemuCommand.Spec ospec = v3.restoreSpec("rb-cc", "rb-cc", of, nics(5, "52:54:00:07:03:02"), of.ramFile(), true);
        try (TestVm c = start(ospec, List.of())) {
            v3.load(c.qmp, true, RESTORE);
            c.waitForAgent(Duration.ofSeconds(20));
            assertThat(c.sh("cat /tmp/hello.txt /tmp/second.txt")).isEqualTo("hello-from-before-the-snapshot\nsecond\n");
        }
        store.verify("of-a-clone");
    }

    // ---- helpers ----

    static TestVm start(QemuCommand.Spec spec, List<String> extra) throws IOException {
        TestVm vm = TestVm.start(spec, netns, extra);
        synchronized (vms) {
            vms.add(vm);
        }
        return vm;
    }

    /** NIC 0 on tap {@code taps[k]} (none without a namespace). */
    static List<QemuCommand.Nic> nics(int k, String mac) {
        return netns == null ? List.of() : List.of(new QemuCommand.Nic(0, taps.get(k), mac));
    }

    static List<String> disk(Path overlay) {
        return List.of("-drive", "file=" + overlay + ",if=none,id=disk0,format=qcow2",
                "-device", "virtio-blk-device,drive=disk0,id=vblk0");
    }

    static Snapshotter.Source source(QemuCommand.Spec spec, Path ram, Snapshotter.Disk disk) {
        List<SnapshotManifest.Nic> nics = spec.nics().stream().map(n -> new SnapshotManifest.Nic(n.index(), n.mac())).toList();
        boolean fromImage = spec.kernel().equals(image.kernel());
        return new Snapshotter.Source(spec.name(), image.name(), Path.of(spec.kernel()), fromImage ? image.kernelSha256() : null,
                Path.of(spec.initrd()), fromImage ? image.initrdSha256() : null, spec.cpus(), spec.memoryMiB(), spec.kvm(),
                spec.extraCmdline(), nics, ram, disk);
    }

    static long counterOrZero(GuestAgentClient agent) {
        try {
            return counter(agent);
        } catch (dev.vmctl.vmm.GuestAgentException e) {
            return 0; // not written yet
        }
    }

    static long counter(GuestAgentClient agent) {
        for (int i = 0; i < 50; i++) {
            String s = new String(agent.readFile("/tmp/counter"), StandardCharsets.UTF_8).strip();
            if (!s.isEmpty()) return Long.parseLong(s);
            TestVm.sleep(20); // caught between truncate and write
        }
        throw new AssertionError("/tmp/counter stays empty");
    }

    /** A namespace with a bridge (198.18.7.1/24) and taps vsnT0..vsnT5; null when this host cannot. */
    static String setUpNetwork() {
        if (!Cmd.available("ip")) return null;
        String ns = "vmctl-snapt-" + ProcessHandle.current().pid();
        if (!Cmd.run("ip", "netns", "add", ns).ok()) return null;
        try {
            Cmd.check("ip", "-n", ns, "link", "set", "lo", "up");
            Cmd.check("ip", "-n", ns, "link", "add", "br0", "type", "bridge");
            Cmd.check("ip", "-n", ns, "addr", "add", SUBNET + "1/24", "dev", "br0");
            Cmd.check("ip", "-n", ns, "link", "set", "br0", "up");
            for (int i = 0; i < 6; i++) {
                String t = "vsnt" + i;
                Cmd.check("ip", "-n", ns, "tuntap", "add", "dev", t, "mode", "tap");
                Cmd.check("ip", "-n", ns, "link", "set", t, "master", "br0");
                Cmd.check("ip", "-n", ns, "link", "set", t, "up");
                taps.add(t);
            }
            return ns;
        } catch (RuntimeException e) {
            Cmd.run("ip", "netns", "del", ns);
            taps.clear();
            return null;
        }
    }

    static void figure(String key, String value) {
        synchronized (figures) {
            figures.put(key, value);
        }
        System.out.println("FIGURE " + key + ": " + value);
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%d ms", nanos / 1_000_000);
    }

    static String catchMessage(Runnable r) {
        try {
            r.run();
            return "(no error)";
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }
}
