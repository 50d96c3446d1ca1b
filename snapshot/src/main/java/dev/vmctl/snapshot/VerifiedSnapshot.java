package dev.vmctl.snapshot;

import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.VmFiles;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A snapshot whose files matched its manifest when {@link SnapshotStore#verify} returned it: the only way
 * to the paths a restore needs. Restores happen into a new QEMU with the same device layout, built by
 * {@link #cloneSpec} (or {@link #restoreSpec}) and started by the caller; then {@link #load}.
 */
public final class VerifiedSnapshot {
    private final SnapshotManifest manifest;
    private final Path dir;

    VerifiedSnapshot(SnapshotManifest manifest, Path dir) {
        this.manifest = manifest;
        this.dir = dir;
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
     * Like {@link #cloneSpec} with RAM in {@code ramFile} ({@code share=on}: a VM that can be snapshotted again;
     * fill it first with {@link #copyRamTo}); null when the snapshot has no RAM file.
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
        if (!ignoreShared() && ramFile != null) {
            throw VmctlException.invalid("ramFile", "snapshot " + name() + " has RAM in its state file", "no RAM file");
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
