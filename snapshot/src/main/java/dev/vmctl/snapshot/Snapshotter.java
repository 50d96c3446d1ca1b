package dev.vmctl.snapshot;

import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import dev.vmctl.vmm.QmpClient;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Takes a snapshot of a running VM into a {@link SnapshotStore}: pause, save the device state (RAM too
 * unless it lives in a shared file), copy the RAM file and the disk overlay while paused, resume, then
 * checksum everything and commit the snapshot (manifest last, atomic rename).
 */
public final class Snapshotter {
    /** The id QemuCommand gives the memory-backend-file ({@code memory-backend=mem0}). */
    static final String RAM_BACKEND_ID = "mem0";

    private Snapshotter() {}

    /**
     * The VM being snapshotted, as the engine knows it.
     *
     * @param kernelSha256 the image's recorded checksum, or null (then the snapshot's copy is hashed)
     * @param ramFile      the VM's RAM file ({@code share=on} memory-backend-file: saved with x-ignore-shared, the
     *                     file copied while paused), or null when its RAM is anonymous or a clone's {@code share=off}
     *                     mapping (then all RAM goes into the state stream)
     * @param disk         the VM's disk overlay, or null
     */
    public record Source(String vmName, String image, Path kernel, String kernelSha256, Path initrd, String initrdSha256,
                         int cpus, int memoryMiB, boolean kvm, String extraCmdline, List<SnapshotManifest.Nic> nics,
                         Path ramFile, Disk disk) {
        public Source {
            nics = nics == null ? List.of() : List.copyOf(nics);
        }
    }

    /** A VM's qcow2 overlay and the base it is backed by (which stays shared, outside the snapshot). */
    public record Disk(Path overlay, Path backing, String backingFormat) {}

    /**
     * @param compress zstd the state file (worth it when RAM is in the stream)
     * @param resume   resume the VM afterwards when it was running (false: it stays paused)
     * @param parent   the snapshot the VM was restored or cloned from, or null
     */
    public record Options(boolean compress, boolean resume, String parent, Duration timeout) {
        public static Options defaults() {
            return new Options(false, true, null, Duration.ofMinutes(2));
        }
    }

    /**
     * @param pausedMillis  how long the VM was paused (stop → state saved, RAM and disk copied → cont)
     * @param totalMillis   the whole call, including checksums and commit (the VM already runs again then)
     */
    public record Result(SnapshotManifest manifest, QemuMigration.SaveStats save, long ramCopyMillis, long pausedMillis,
                         long totalMillis) {}

    /**
     * x-ignore-shared skips only RAM that QEMU maps shared: a clone's RAM ({@code share=off}, private
     * copy-on-write of its snapshot's file) must go into the stream (Source.ramFile null), or the snapshot
     * would get the parent's RAM file plus a stream of all RAM. Asks QEMU ({@code qom-get /objects/mem0 share}).
     */
    static void requireSharedRam(QmpClient qmp, Path ramFile) {
        boolean shared;
        try {
            shared = qmp.execute("qom-get", java.util.Map.of("path", "/objects/" + RAM_BACKEND_ID, "property", "share"),
                    Duration.ofSeconds(10)).asBoolean(false);
        } catch (dev.vmctl.vmm.QmpException e) {
            throw VmctlException.invalid("ramFile", "the VM's RAM is not in a memory-backend-file (" + e.getMessage() + ")",
                    "null for a VM with anonymous RAM");
        }
        if (!shared) {
            throw VmctlException.invalid("ramFile", ramFile + " is mapped share=off (a clone's copy-on-write RAM): its RAM goes into the state stream",
                    "null for a VM whose RAM file is mapped share=off");
        }
    }

    /**
     * Snapshots the VM behind {@code qmp} as {@code name}: {@link #capture} then {@link Capture#commit}.
     *
     * @throws VmctlException INVALID (name), CONFLICT (name taken), INTERNAL (migration or copy failed: no
     *                        snapshot is left behind and the VM runs again if it ran before)
     */
    public static Result take(SnapshotStore store, String name, QmpClient qmp, Source src, Options opt) {
        try (Capture c = capture(store, name, qmp, src, opt)) {
            return c.commit();
        }
    }

    /**
     * The part of a snapshot the VM has to wait for: pause, save the device state, copy the RAM file and the disk
     * overlay, resume (when {@code opt.resume()}). The files are in a draft of the store; {@link Capture#commit} (any
     * thread, any time later: the VM runs meanwhile) checksums them and makes them snapshot {@code name};
     * {@link Capture#close} without a commit throws them away.
     *
     * @throws VmctlException INVALID (name), CONFLICT (name taken), INTERNAL (migration or copy failed: nothing is
     *                        left behind and the VM runs again if it ran before)
     */
    public static Capture capture(SnapshotStore store, String name, QmpClient qmp, Source src, Options opt) {
        long t0 = System.nanoTime();
        SnapshotStore.Draft d = store.begin(name);
        try {
            try {
                SnapshotFiles.linkOrCopy(src.kernel().toAbsolutePath(), d.path(SnapshotManifest.KERNEL_FILE));
                SnapshotFiles.linkOrCopy(src.initrd().toAbsolutePath(), d.path(SnapshotManifest.INITRD_FILE));
            } catch (IOException e) {
                throw new VmctlException(Kind.INTERNAL, "snapshot " + name + ": cannot copy kernel/initrd: " + e.getMessage(), null, e);
            }
            boolean ramInFile = src.ramFile() != null;
            if (ramInFile) requireSharedRam(qmp, src.ramFile());
            String stateName = opt.compress() ? SnapshotManifest.STATE_FILE_ZSTD : SnapshotManifest.STATE_FILE;
            long tPause = System.nanoTime();
            QemuMigration.SaveStats save = QemuMigration.save(qmp, d.path(stateName), opt.compress(), ramInFile, false, opt.timeout());
            long ramCopy = 0;
            boolean resumed = false;
            try {
                long tc = System.nanoTime();
                if (ramInFile) SnapshotFiles.copySparse(src.ramFile(), d.path(SnapshotManifest.RAM_FILE));
                ramCopy = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - tc);
                if (src.disk() != null) SnapshotFiles.copySparse(src.disk().overlay(), d.path(SnapshotManifest.DISK_FILE));
            } finally {
                if (save.wasRunning() && opt.resume()) {
                    QemuMigration.resume(qmp, Duration.ofSeconds(10));
                    resumed = true;
                }
            }
            long paused = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - tPause);
            SnapshotManifest.Vm vm = new SnapshotManifest.Vm(src.vmName(), src.image(), src.kernel().toString(), src.kernelSha256(),
                    src.initrd().toString(), src.initrdSha256(), src.cpus(), src.memoryMiB(), src.kvm() ? "kvm" : "tcg",
                    src.extraCmdline(), src.nics());
            SnapshotManifest.State state = new SnapshotManifest.State(stateName, opt.compress(),
                    ramInFile ? SnapshotManifest.RamMode.FILE : SnapshotManifest.RamMode.STREAM,
                    ramInFile ? SnapshotManifest.RAM_FILE : null);
            SnapshotManifest.Disk disk = src.disk() == null ? null : new SnapshotManifest.Disk(SnapshotManifest.DISK_FILE,
                    src.disk().backing() == null ? null : src.disk().backing().toAbsolutePath().toString(), src.disk().backingFormat());
            SnapshotManifest m = new SnapshotManifest(SnapshotManifest.FORMAT_VERSION, name, SnapshotStore.now(),
                    opt.parent(), vm, state, disk, List.of());
            QemuMigration.SaveStats s = new QemuMigration.SaveStats(save.streamBytes(), save.fileBytes(), save.millis(),
                    save.compressed(), save.ignoreShared(), save.wasRunning(), resumed);
            return new Capture(d, m, s, ramCopy, save.wasRunning() ? paused : 0, t0);
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** A snapshot saved while the VM waited, not committed yet (see {@link #capture}). */
    public static final class Capture implements AutoCloseable {
        private final SnapshotStore.Draft draft;
        private final SnapshotManifest manifest;
        private final QemuMigration.SaveStats save;
        private final long ramCopyMillis;
        private final long pausedMillis;
        private final long t0;

        private Capture(SnapshotStore.Draft draft, SnapshotManifest manifest, QemuMigration.SaveStats save, long ramCopyMillis,
                        long pausedMillis, long t0) {
            this.draft = draft;
            this.manifest = manifest;
            this.save = save;
            this.ramCopyMillis = ramCopyMillis;
            this.pausedMillis = pausedMillis;
            this.t0 = t0;
        }

        /** How long the VM was paused (stop → state saved, RAM and disk copied → cont). */
        public long pausedMillis() {
            return pausedMillis;
        }

        /** Checksums the files and commits the snapshot (manifest last, atomic rename). */
        public Result commit() {
            SnapshotManifest m = draft.commit(manifest);
            return result(m);
        }

        /**
         * {@link #commit}, and the committed snapshot as verified: its files were checksummed by the commit itself,
         * so it is ready to restore from without hashing them again.
         */
        public VerifiedSnapshot commitVerified() {
            return draft.commitVerified(manifest);
        }

        private Result result(SnapshotManifest m) {
            return new Result(m, save, ramCopyMillis, pausedMillis, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }

        /** Throws the files away unless committed (idempotent). */
        @Override
        public void close() {
            draft.close();
        }
    }
}
