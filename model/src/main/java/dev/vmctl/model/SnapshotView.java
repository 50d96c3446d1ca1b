package dev.vmctl.model;

import java.util.List;

/**
 * A snapshot as the API shows it ({@code GET /api/v1/snapshots/{name}}). {@code pausedMillis} and
 * {@code totalMillis} (how long the VM was paused, how long the snapshot took) are set only in the answer
 * to {@code POST /api/v1/snapshots}, null otherwise.
 *
 * @param ramMode   {@code file} (guest RAM in its own file) or {@code stream} (inside the state file)
 * @param sizeBytes the sum of the files' sizes
 * @param clones    the VMs cloned from it
 */
public record SnapshotView(String name, String createdAt, String parent, String vm, String image, int cpus,
                           int memoryMiB, String accel, String ramMode, boolean compressed, List<Nic> nics,
                           long sizeBytes, List<FileEntry> files, int formatVersion, List<String> clones,
                           Long pausedMillis, Long totalMillis) {
    public SnapshotView {
        nics = nics == null ? List.of() : List.copyOf(nics);
        files = files == null ? List.of() : List.copyOf(files);
        clones = clones == null ? List.of() : List.copyOf(clones);
    }

    /** A NIC of the snapshotted VM: its device number and MAC (clones get their own MACs). */
    public record Nic(int index, String mac) {}

    /** One file of the snapshot: its name in the snapshot, size in bytes, SHA-256 (hex). */
    public record FileEntry(String path, long size, String sha256) {}

    /** The same snapshot with how long taking it paused the VM and took in all. */
    public SnapshotView withTimes(long pausedMillis, long totalMillis) {
        return new SnapshotView(name, createdAt, parent, vm, image, cpus, memoryMiB, accel, ramMode, compressed, nics,
                sizeBytes, files, formatVersion, clones, pausedMillis, totalMillis);
    }
}
