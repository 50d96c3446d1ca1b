package dev.vmctl.engine;

import dev.vmctl.engine.BootSnapshots.Choice;
import dev.vmctl.image.CpioWriter;
import dev.vmctl.image.ImageCatalog;
import dev.vmctl.image.IdentityHelper;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmState;
import dev.vmctl.snapshot.SnapshotManifest;
import dev.vmctl.snapshot.SnapshotStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The shape key of boot snapshots and the decision of each start (restore, record, nothing), without QEMU. */
class BootSnapshotsTest {
    @TempDir
    Path tmp;

    private DataDir dir;
    private Store db;
    private ImageCatalog catalog;
    private BootSnapshots boots;
    private SnapshotStore store;

    @BeforeEach
    void setUp() throws IOException {
        dir = new DataDir(tmp.resolve("data")).create();
        db = new Store(dir.database());
        catalog = new ImageCatalog(dir.imagesDir());
        catalog.put(image("tiny", true, "2026-12-01T00:00:00Z"));
        catalog.put(image("old", false, "2026-12-01T00:00:00Z"));
        store = new SnapshotStore(dir.root().resolve(BootSnapshots.DIR));
        boots = new BootSnapshots(store, db, new ImageService(dir, new EventBus()), () -> "QEMU emulator version 7.2.0", new EventBus());
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    /** An image whose initrd carries vmctl-identity or not. */
    private ImageInfo image(String name, boolean helper, String builtAt) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root-" + name + "/usr/sbin"));
        if (helper) Files.write(root.resolve("vmctl-identity"), IdentityHelper.binary());
        Path initrd = dir.imagesDir().resolve(name + ".cpio");
        CpioWriter.writeTree(tmp.resolve("root-" + name), initrd);
        Path kernel = dir.imagesDir().resolve(name + ".vmlinux");
        Files.writeString(kernel, "kernel " + name);
        String sha = helper ? "11" : "22";
        return new ImageInfo(name, "test", "6.1", kernel.toString(), "aa", initrd.toString(), sha, null, null, 1, builtAt);
    }

    private static VmRow vm(String name, int cpus, int memoryMiB) {
        return new VmRow("id-" + name, name, VmState.PREPARING, "tiny", cpus, memoryMiB, "auto", null, "t", "t", null, null, null);
    }

    private ImageInfo tiny() {
        return catalog.find("tiny").orElseThrow();
    }

    /** Writes a boot snapshot as a recording would leave it (files checksummed, manifest last). */
    private void writeBootSnapshot(String name, int cpus, int memoryMiB, int nics) throws IOException {
        try (SnapshotStore.Draft d = store.begin(name)) {
            for (String f : List.of(SnapshotManifest.STATE_FILE, SnapshotManifest.RAM_FILE, SnapshotManifest.KERNEL_FILE,
                    SnapshotManifest.INITRD_FILE)) {
                Files.writeString(d.path(f), f + " of " + name);
            }
            List<SnapshotManifest.Nic> n = new java.util.ArrayList<>();
            for (int i = 0; i < nics; i++) n.add(new SnapshotManifest.Nic(i, "52:54:00:00:00:0" + i));
            d.commit(new SnapshotManifest(SnapshotManifest.FORMAT_VERSION, name, "2026-12-01T00:00:00Z", null,
                    new SnapshotManifest.Vm("first", "tiny", "/k", null, "/i", null, cpus, memoryMiB, "tcg", null, n),
                    new SnapshotManifest.State(SnapshotManifest.STATE_FILE, false, SnapshotManifest.RamMode.FILE, SnapshotManifest.RAM_FILE),
                    null, List.of()));
        }
    }

    // ---------------------------------------------------------------- the key

    @Test
    void equalShapesShareAKeyAndEveryPartChangesIt() {
        ImageInfo img = tiny();
        String qemu = "QEMU emulator version 7.2.0";
        BootShape s = BootShape.of(img, 1, 128, "tcg", 1, qemu);
        assertThat(BootShape.of(img, 1, 128, "tcg", 1, qemu)).isEqualTo(s);
        assertThat(BootShape.of(img, 1, 128, "tcg", 1, qemu).key()).isEqualTo(s.key());
        List<BootShape> others = List.of(
                BootShape.of(img, 2, 128, "tcg", 1, qemu),
                BootShape.of(img, 1, 256, "tcg", 1, qemu),
                BootShape.of(img, 1, 128, "kvm", 1, qemu),
                BootShape.of(img, 1, 128, "tcg", 0, qemu),
                BootShape.of(img, 1, 128, "tcg", 2, qemu),
                BootShape.of(img, 1, 128, "tcg", 1, "QEMU emulator version 8.2.2"),
                BootShape.of(new ImageInfo("tiny", "test", "6.1", img.kernel(), "ab", img.initrd(), img.initrdSha256(), null, null, 1,
                        img.builtAt()), 1, 128, "tcg", 1, qemu),
                // a rebuild is a new build even when its files came out the same
                BootShape.of(new ImageInfo("tiny", "test", "6.1", img.kernel(), img.kernelSha256(), img.initrd(), img.initrdSha256(),
                        null, null, 1, "2026-12-02T00:00:00Z"), 1, 128, "tcg", 1, qemu),
                BootShape.of(new ImageInfo("tiny2", "test", "6.1", img.kernel(), img.kernelSha256(), img.initrd(), img.initrdSha256(),
                        null, null, 1, img.builtAt()), 1, 128, "tcg", 1, qemu));
        for (BootShape o : others) assertThat(o.key()).as(o.toString()).isNotEqualTo(s.key());
        assertThat(others.stream().map(BootShape::key).distinct()).hasSize(others.size());
    }

    @Test
    void theNameIsAValidSnapshotNameThatStartsWithTheImage() {
        BootShape s = BootShape.of(tiny(), 1, 128, "tcg", 0, "q");
        assertThat(s.snapshotName()).startsWith("tiny-").hasSize(5 + 16);
        Names.check("name", s.snapshotName());
        ImageInfo longName = new ImageInfo("a".repeat(39) + "-b".repeat(10), "t", "6.1", "/k", "aa", "/i", "11", null, null, 1, "x");
        Names.check("name", BootShape.of(longName, 1, 128, "tcg", 0, "q").snapshotName());
        assertThat(s.describe()).isEqualTo("1 vCPU, 128 MiB, 0 NICs, tcg");
    }

    /**
     * An image with a root disk: its layout has the disk device (not tiny's), and the disk's size is part of the shape
     * (the guest's kernel and file system know it); VMs without a disk keep the keys they had before disks existed.
     */
    @Test
    void aRootDiskIsInTheLayoutAndItsSizeInTheKey() {
        String qemu = "QEMU emulator version 7.2.0";
        ImageInfo t = tiny();
        ImageInfo deb = new ImageInfo("debian-12", "Debian 12", "6.1", t.kernel(), t.kernelSha256(), t.initrd(), t.initrdSha256(),
                "/cache/rootfs.ext4", "cc", 1, t.builtAt());
        BootShape d1 = BootShape.of(deb, 1, 256, "tcg", 1, qemu, 1536);
        assertThat(d1.layout()).isNotEqualTo(BootShape.of(t, 1, 256, "tcg", 1, qemu).layout());
        assertThat(d1.key()).isNotEqualTo(BootShape.of(deb, 1, 256, "tcg", 1, qemu, 4096).key());
        assertThat(d1.describe()).isEqualTo("1 vCPU, 256 MiB, 1 NIC, tcg, disk 1536 MiB");
        assertThat(BootShape.of(t, 1, 128, "tcg", 0, qemu, 0)).isEqualTo(BootShape.of(t, 1, 128, "tcg", 0, qemu));
        assertThat(BootShape.layoutOf(1, 128, false, 1, dev.vmctl.vmm.QemuCommand.SHARE_CMDLINE)).isEqualTo(BootShape.layoutOf(1, 128, false, 1));
    }

    /** The layout is the device side of QEMU's command line: the kernel command line (host name, TSC rate) is not in it. */
    @Test
    void theLayoutFollowsTheDevicesNotTheKernelCommandLine() {
        assertThat(BootShape.layoutOf(1, 128, false, 1)).isEqualTo(BootShape.layoutOf(1, 128, false, 1)).hasSize(16);
        assertThat(BootShape.layoutOf(1, 128, false, 1)).isNotEqualTo(BootShape.layoutOf(1, 128, false, 2))
                .isNotEqualTo(BootShape.layoutOf(1, 128, true, 1));
    }

    // ---------------------------------------------------------------- the decision

    @Test
    void theChoiceOfAStart() {
        assertThat(BootSnapshots.choose(true, null, true, false)).isEqualTo(Choice.RESTORE);
        assertThat(BootSnapshots.choose(false, null, true, false)).as("vm start, --cold").isEqualTo(Choice.NONE);
        assertThat(BootSnapshots.choose(true, null, false, false)).as("first boot of a shape").isEqualTo(Choice.RECORD);
        assertThat(BootSnapshots.choose(false, null, false, false)).as("--cold records a missing one too").isEqualTo(Choice.RECORD);
        assertThat(BootSnapshots.choose(true, null, false, true)).as("another boot records it now").isEqualTo(Choice.NONE);
        assertThat(BootSnapshots.choose(true, "no tool", true, false)).isEqualTo(Choice.NONE);
        assertThat(BootSnapshots.choose(true, "no tool", false, false)).isEqualTo(Choice.NONE);
    }

    @Test
    void whoCannotHaveABootSnapshot() {
        assertThat(BootSnapshots.ineligible("web-1", List.of(0, 1), true)).isNull();
        assertThat(BootSnapshots.ineligible("web-1", List.of(), true)).isNull();
        assertThat(BootSnapshots.ineligible("web-1", List.of(), false)).contains("vmctl-identity");
        assertThat(BootSnapshots.ineligible("web-1", List.of(1), true)).contains("numbered [1]");
        assertThat(BootSnapshots.ineligible("web-", List.of(), true)).contains("host name");
    }

    @Test
    void aShapeWithoutBootSnapshotRecordsOneAndOneWithItRestores() throws IOException {
        BootSnapshots.Plan p = boots.plan(vm("a", 1, 128), tiny(), "tcg", List.of(0), true);
        assertThat(p.choice()).isEqualTo(Choice.RECORD);
        String name = p.shape().snapshotName();
        assertThat(p.shape()).isEqualTo(BootShape.of(tiny(), 1, 128, "tcg", 1, "QEMU emulator version 7.2.0"));

        writeBootSnapshot(name, 1, 128, 1);
        p = boots.plan(vm("b", 1, 128), tiny(), "tcg", List.of(0), true);
        assertThat(p.choice()).isEqualTo(Choice.RESTORE);
        assertThat(p.snapshot().name()).isEqualTo(name);
        assertThat(boots.plan(vm("b", 1, 128), tiny(), "tcg", List.of(0), true).snapshot()).as("kept verified").isSameAs(p.snapshot());
        assertThat(boots.plan(vm("b", 1, 128), tiny(), "tcg", List.of(0), false).choice()).as("a plain start").isEqualTo(Choice.NONE);
        // other shapes have none
        assertThat(boots.plan(vm("c", 1, 256), tiny(), "tcg", List.of(0), true).choice()).isEqualTo(Choice.RECORD);
        assertThat(boots.plan(vm("c", 1, 128), tiny(), "tcg", List.of(), true).choice()).isEqualTo(Choice.RECORD);
        assertThat(boots.plan(vm("c", 1, 128), tiny(), "kvm", List.of(0), true).choice()).isEqualTo(Choice.RECORD);
        // an image without vmctl-identity never gets one
        BootSnapshots.Plan old = boots.plan(vm("d", 1, 128), catalog.find("old").orElseThrow(), "tcg", List.of(0), true);
        assertThat(old.choice()).isEqualTo(Choice.NONE);
        assertThat(old.reason()).contains("vmctl-identity");
    }

    @Test
    void aDamagedBootSnapshotIsDeletedAndTheNextBootRecordsAgain() throws Exception {
        String name = BootShape.of(tiny(), 1, 128, "tcg", 0, "QEMU emulator version 7.2.0").snapshotName();
        writeBootSnapshot(name, 1, 128, 0);
        assertThat(boots.plan(vm("a", 1, 128), tiny(), "tcg", List.of(), true).choice()).isEqualTo(Choice.RESTORE);
        Thread.sleep(20);
        Files.writeString(store.dir(name).resolve(SnapshotManifest.RAM_FILE), "RAM of " + name); // same size, new content
        BootSnapshots.Plan p = boots.plan(vm("a", 1, 128), tiny(), "tcg", List.of(), true);
        assertThat(p.choice()).isEqualTo(Choice.RECORD);
        assertThat(store.exists(name)).isFalse();
    }

    @Test
    void anImageBuildDeletesItsBootSnapshotsAndStartUpDeletesStaleOnes() throws IOException {
        String current = BootShape.of(tiny(), 1, 128, "tcg", 0, "QEMU emulator version 7.2.0").snapshotName();
        writeBootSnapshot(current, 1, 128, 0);
        writeBootSnapshot("tiny-0123456789abcdef", 1, 128, 0); // recorded from an earlier build (its key differs)
        boots.reconcile();
        assertThat(store.list()).extracting(SnapshotManifest::name).containsExactly(current);

        VmRow warm = new VmRow("id-w", "w", VmState.RUNNING, "tiny", 1, 128, "auto", "tcg", "t", "t", 4242L, 1L, null,
                VmRow.WARM, current);
        db.insert(warm);
        db.insert(new VmRow("id-s", "s", VmState.STOPPED, "tiny", 1, 128, "auto", "tcg", "t", "t", null, null, null, VmRow.WARM, null));
        assertThat(boots.list("tiny")).singleElement().satisfies(b -> {
            assertThat(b.name()).isEqualTo(current);
            assertThat(b.vm()).isEqualTo("first");
            assertThat(b.warmVms()).containsExactly("w");
            assertThat(b.nics()).isZero();
        });
        assertThat(boots.list("old")).isEmpty();

        assertThat(boots.invalidate("tiny")).containsExactly(current);
        assertThat(store.list()).isEmpty();
        assertThat(boots.plan(vm("a", 1, 128), tiny(), "tcg", List.of(), true).choice()).isEqualTo(Choice.RECORD);
    }
}
