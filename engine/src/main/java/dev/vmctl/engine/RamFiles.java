package dev.vmctl.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * Where VMs keep their RAM files ({@code memory-backend-file,share=on}, which snapshots need): on tmpfs,
 * {@code /dev/shm/vmctl-<8 hex of the data dir>/<vm id>.ram}, so that guest memory never goes through
 * the data disk's page cache and writeback (that cost ~0.19 s per cold boot here); on the data disk,
 * {@code DATA/vms/ID/ram}, when the tmpfs has less free space than the VM's memory or cannot be used.
 *
 * <p>A VM's RAM file is in at most one of the two places. {@link #locate} finds it where it is (for a
 * running or re-attached VM), {@link #placeFor} chooses the place for a new boot and removes a stale file
 * at the other place, {@link #remove} deletes it, and {@link #reconcile} removes the files on tmpfs that
 * belong to no known VM (the data disk's copies go with their VM folders).
 */
public final class RamFiles {
    private static final Logger log = LoggerFactory.getLogger(RamFiles.class);
    /** The host's tmpfs. */
    public static final Path SHM = Path.of("/dev/shm");
    static final String SUFFIX = ".ram";

    private final Path shmDir;
    private final Path vmsDir;
    private final ToLongFunction<Path> freeBytes;

    /**
     * @param shmDir    the folder on tmpfs for this data directory's RAM files (created on first use)
     * @param vmsDir    DATA/vms: the fallback place is {@code vmsDir/ID/ram}
     * @param freeBytes free bytes of the file system holding a path (an existing one)
     */
    RamFiles(Path shmDir, Path vmsDir, ToLongFunction<Path> freeBytes) {
        this.shmDir = shmDir;
        this.vmsDir = vmsDir;
        this.freeBytes = freeBytes;
    }

    /** RAM files of the data directory {@code root} with VM folders in {@code vmsDir}, on {@link #SHM}. */
    public static RamFiles of(Path root, Path vmsDir) {
        return new RamFiles(SHM.resolve(LinuxHostNet.fabricName(root)), vmsDir, RamFiles::usableSpace);
    }

    public Path shmDir() { return shmDir; }

    /** The tmpfs place of a VM's RAM file. */
    public Path onShm(String vmId) { return shmDir.resolve(vmId + SUFFIX); }

    /** The data-disk place of a VM's RAM file. */
    public Path onDisk(String vmId) { return vmsDir.resolve(vmId).resolve("ram"); }

    /** Where the VM's RAM file is: tmpfs if it is there, else the data disk (whether or not it exists there). */
    public Path locate(String vmId) {
        Path shm = onShm(vmId);
        return Files.exists(shm) ? shm : onDisk(vmId);
    }

    /**
     * Chooses the place of the RAM file for a new boot of a VM with {@code memoryMiB} of RAM: tmpfs when
     * its free space is at least the VM's memory, otherwise the data disk. Creates the tmpfs folder and
     * deletes a RAM file of this VM left at the other place. The file itself is created by QEMU.
     */
    public Path placeFor(String vmId, long memoryMiB) {
        Path shm = onShm(vmId);
        Path disk = onDisk(vmId);
        Path chosen = disk;
        try {
            Files.createDirectories(shmDir);
            Files.deleteIfExists(shm); // an old file would count against the free space and is replaced anyway
            long free = freeBytes.applyAsLong(shmDir);
            if (free >= memoryMiB << 20) {
                chosen = shm;
            } else {
                log.info("vm {}: RAM file on the data disk: {} has {} MiB free, the VM needs {} MiB",
                        vmId, shmDir, free >> 20, memoryMiB);
            }
        } catch (IOException | UncheckedIOException e) {
            log.info("vm {}: RAM file on the data disk: {} is not usable: {}", vmId, shmDir, e.getMessage());
        }
        try {
            if (chosen == shm) Files.deleteIfExists(disk);
        } catch (IOException e) {
            throw new UncheckedIOException("remove old RAM file " + disk + ": " + e.getMessage(), e);
        }
        return chosen;
    }

    /** Deletes the VM's RAM file wherever it is; fine when there is none. */
    public void remove(String vmId) {
        for (Path p : List.of(onShm(vmId), onDisk(vmId))) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                log.warn("vm {}: cannot delete RAM file {}: {}", vmId, p, e.getMessage());
            }
        }
    }

    /** Deletes the tmpfs folder when no RAM file is left in it (the last VM stopped or was removed). */
    public void removeFolderIfEmpty() {
        if (!Files.isDirectory(shmDir)) return;
        try (DirectoryStream<Path> left = Files.newDirectoryStream(shmDir)) {
            if (left.iterator().hasNext()) return;
        } catch (IOException e) {
            return;
        }
        try {
            Files.deleteIfExists(shmDir);
        } catch (IOException e) {
            // a boot has just placed a file in it: keep the folder
        }
    }

    /**
     * Start-up reconciliation: deletes every file in the tmpfs folder that is not the RAM file of a VM in
     * {@code knownVmIds}, and the folder itself when nothing is left in it.
     *
     * @return the files deleted
     */
    public List<Path> reconcile(Set<String> knownVmIds) {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(shmDir)) return removed;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(shmDir)) {
            for (Path p : files) {
                String n = p.getFileName().toString();
                boolean ours = n.endsWith(SUFFIX) && knownVmIds.contains(n.substring(0, n.length() - SUFFIX.length()));
                if (ours) continue;
                try {
                    Files.deleteIfExists(p);
                    removed.add(p);
                    log.info("removed orphan RAM file {}", p);
                } catch (IOException e) {
                    log.warn("cannot delete orphan RAM file {}: {}", p, e.getMessage());
                }
            }
        } catch (IOException e) {
            log.warn("scan {}: {}", shmDir, e.getMessage());
            return removed;
        }
        try (DirectoryStream<Path> left = Files.newDirectoryStream(shmDir)) {
            if (!left.iterator().hasNext()) Files.deleteIfExists(shmDir);
        } catch (IOException e) {
            // another boot may just have created a file in it: keep the folder
        }
        return removed;
    }

    private static long usableSpace(Path p) {
        try {
            return Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
