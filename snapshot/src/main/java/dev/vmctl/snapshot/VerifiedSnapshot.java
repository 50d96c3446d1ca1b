package dev.vmctl.snapshot;

import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.VmFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A snapshot whose files matched its manifest when {@link SnapshotStore#verify} returned it: the only way
 * to the paths a restore needs. Restores happen into a new QEMU with the same device layout, built by
 * {@link #cloneSpec} (or {@link #restoreSpec}) and started by the caller; then {@link #load}.
 */
public final class VerifiedSnapshot {
    private final SnapshotManifest manifest;
    private final Path dir;
    private final Map<String, Stamp> stamps;
    private final long verifiedAtNanos = System.nanoTime();

    /** When its files were hashed (System.nanoTime). */
    long verifiedAtNanos() { return verifiedAtNanos; }

    /** The files' size, mtime and inode when they were hashed. */
    Map<String, Stamp> stamps() { return stamps; }

    VerifiedSnapshot(SnapshotManifest manifest, Path dir, Map<String, Stamp> stamps) {
        this.manifest = manifest;
        this.dir = dir;
        this.stamps = Map.copyOf(stamps);
    }

    /** What a file was when it was checksummed: size, modification time and inode (file key). */
    record Stamp(long size, long modifiedNanos, Object fileKey) {}

    /** The stamps of the manifest's files in {@code dir} (a file that cannot be read has none). */
    static Map<String, Stamp> stamps(Path dir, SnapshotManifest m) {
        Map<String, Stamp> out = new LinkedHashMap<>();
        for (SnapshotManifest.FileEntry f : m.files()) {
            Stamp s = stamp(dir.resolve(f.path()));
            if (s != null) out.put(f.path(), s);
        }
        return out;
    }

    private static Stamp stamp(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return new Stamp(a.size(), a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS), a.fileKey());
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Whether every file is still the one that was checksummed (same size, modification time and inode) — a few
     * {@code stat} calls instead of hashing again. A caller that keeps a verified snapshot for many restores (boot
     * snapshots) checks this before each and verifies again when it says no.
     */
    public boolean unchanged() {
        if (stamps.size() != manifest.files().size()) return false;
        for (var e : stamps.entrySet()) {
            if (!Objects.equals(e.getValue(), stamp(dir.resolve(e.getKey())))) return false;
        }
        return true;
    }

    public SnapshotManifest manifest() {
        return manifest;
    }

    public String name() {
        return manifest.name();
    }

    public Path dir() {
        return dir;
    }

    public Path stateFile() {
        return dir.resolve(manifest.state().file());
    }

    public boolean compressed() {
        return manifest.state().compressed();
    }

    /** True when the state was saved with x-ignore-shared: RAM is {@link #ramFile()}. */
    public boolean ignoreShared() {
        return manifest.state().ignoreShared();
    }

    /** The snapshot's copy of guest RAM (map it {@code share=off}: copy-on-write), or null when RAM is in the state file. */
    public Path ramFile() {
        return ignoreShared() ? dir.resolve(manifest.state().ramFile()) : null;
    }

    /** The snapshot's copies of the kernel and initrd the VM was booted with. */
    public Path kernel() {
        return dir.resolve(SnapshotManifest.KERNEL_FILE);
    }

    public Path initrd() {
        return dir.resolve(SnapshotManifest.INITRD_FILE);
    }

    /** The disk overlay as of the snapshot (base of every restored VM's own overlay), or null. */
    public Path diskFile() {
        return manifest.disk() == null ? null : dir.resolve(manifest.disk().file());
    }

    /**
     * The QEMU spec of a clone: the snapshot's CPUs, memory, accelerator, kernel/initrd and kernel command-line
     * extras, the given NICs (the same NIC numbers as the snapshot's: the device layout must match; taps
     * and MACs are the clone's own), RAM mapped
     * copy-on-write from the snapshot's RAM file ({@code share=off}) when it has one, {@code -incoming defer}.
     * The kernel command line names {@code name} as host name, but a restored guest never reads it again:
     * set the identity with {@link CloneIdentity}.
     */
    public QemuCommand.Spec cloneSpec(String id, String name, VmFiles files, List<QemuCommand.Nic> nics) {
        return restoreSpec(id, name, files, nics, ramFile(), false);
    }

    /**
     * Like {@link #cloneSpec}, but QEMU gets the kernel, initrd and RAM file through hard links in {@code dir} (the
     * VM's own folder): a VM restored this way keeps working when the snapshot is deleted meanwhile — a later
     * snapshot of it still finds its kernel and initrd, and the RAM file's blocks stay until the last VM that links
     * them is gone (the file system counts the links). Where a hard link is not possible (another file system) the
     * kernel and initrd are copied and the RAM file is mapped from the snapshot (an open mapping survives a delete).
     * Links left in {@code dir} by an earlier boot are replaced.
     */
    public QemuCommand.Spec linkedCloneSpec(String id, String name, VmFiles files, List<QemuCommand.Nic> nics, Path dir) {
        QemuCommand.Spec base = cloneSpec(id, name, files, nics);
        Path k = dir.resolve(SnapshotManifest.KERNEL_FILE);
        Path i = dir.resolve(SnapshotManifest.INITRD_FILE);
        Path ram = base.ramFile() == null ? null : dir.resolve(SnapshotManifest.RAM_FILE);
        try {
            Files.createDirectories(dir);
            linkOrCopy(kernel(), k);
            linkOrCopy(initrd(), i);
            if (ram != null) {
                Files.deleteIfExists(ram);
                try {
                    Files.createLink(ram, ramFile());
                } catch (IOException | UnsupportedOperationException e) {
                    ram = ramFile();
                }
            }
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "restore from snapshot " + name() + ": link its files into " + dir
                    + ": " + e.getMessage(), null, e);
        }
        return new QemuCommand.Spec(base.id(), base.name(), base.cpus(), base.memoryMiB(), base.kvm(),
                SnapshotFiles.safePath("kernel", k).toString(), SnapshotFiles.safePath("initrd", i).toString(), base.extraCmdline(),
                base.files(), base.nics(), ram == null ? null : SnapshotFiles.safePath("ram", ram), false, true);
    }

    private static void linkOrCopy(Path src, Path dst) throws IOException {
        Files.deleteIfExists(dst);
        SnapshotFiles.linkOrCopy(src, dst);
    }

    /**
     * The QEMU spec of a restore from this snapshot. A snapshot with a RAM file needs {@code ramFile}: the snapshot's
     * own ({@code ramShared} false: copy-on-write, {@link #cloneSpec}) or a copy of it ({@link #copyRamTo}, shared: a
     * VM that can be snapshotted again). A snapshot whose RAM is in its state stream takes either no RAM file (the VM
     * it was taken of had anonymous RAM) or a new, empty one ({@code ramShared}: the stream fills it) when the VM had a
     * memory-backend-file that was not shared — a clone or a warm VM, whose RAM the stream names after that backend.
     */
    public QemuCommand.Spec restoreSpec(String id, String name, VmFiles files, List<QemuCommand.Nic> nics, Path ramFile,
                                        boolean ramShared) {
        List<QemuCommand.Nic> n = nics == null ? List.of() : nics;
        List<Integer> want = manifest.vm().nics().stream().map(SnapshotManifest.Nic::index).sorted().toList();
        List<Integer> got = n.stream().map(QemuCommand.Nic::index).sorted().toList();
        if (!want.equals(got)) {
            throw VmctlException.invalid("nics", "snapshot " + name() + " was taken with NIC(s) " + want
                    + "; a restore needs the same NIC numbers (device layout), got " + got, "NICs numbered " + want);
        }
        if (ignoreShared() && ramFile == null) {
            throw VmctlException.invalid("ramFile", "snapshot " + name() + " keeps RAM in a file; a restore must map it", "a RAM file");
        }
        if (!ignoreShared() && ramFile != null && !ramShared) {
            throw VmctlException.invalid("ramFile", "snapshot " + name() + " has RAM in its state file: a RAM file for it is the VM's own, "
                    + "shared", "no RAM file, or a new one mapped shared");
        }
        SnapshotManifest.Vm vm = manifest.vm();
        return new QemuCommand.Spec(id, name, vm.cpus(), vm.memoryMiB(), vm.kvm(), kernel().toString(), initrd().toString(),
                vm.extraCmdline(), files, n, ramFile, ramShared, true);
    }

    /** Copies the snapshot's RAM file to {@code target} (holes kept), for {@link #restoreSpec} with {@code share=on}. */
    public void copyRamTo(Path target) {
        if (!ignoreShared()) throw VmctlException.invalid("ram", "snapshot " + name() + " has no RAM file", "a snapshot taken with RAM in a file");
        SnapshotFiles.copySparse(ramFile(), target);
    }

    /** A new qcow2 overlay for a restored VM on top of the snapshot's disk. */
    public DiskOverlay.Info createDiskOverlay(Path overlay) {
        if (diskFile() == null) throw VmctlException.invalid("disk", "snapshot " + name() + " has no disk", "a snapshot with a disk");
        return DiskOverlay.create(diskFile(), "qcow2", overlay);
    }

    /**
     * Loads the state into a QEMU started from {@link #cloneSpec}/{@link #restoreSpec} (waiting in
     * {@code inmigrate}); resumes it when {@code resume}.
     */
    public QemuMigration.RestoreStats load(QmpClient qmp, boolean resume, Duration timeout) {
        return QemuMigration.restore(qmp, stateFile(), compressed(), ignoreShared(), resume, timeout);
    }
}
