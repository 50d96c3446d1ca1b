package dev.vmctl.cli;

import java.util.List;

/**
 * What the CLI reads of a snapshot ({@code GET /api/v1/snapshots/{name}}); {@code pausedMillis} and
 * {@code totalMillis} come only with the answer to {@code POST /api/v1/snapshots}. Read tolerantly like
 * {@link NetViews}: unknown fields are ignored, missing ones are null. {@code -o json} never goes
 * through it.
 */
record SnapshotView(String name, String createdAt, String parent, String vm, String image, Integer cpus,
                    Integer memoryMiB, String accel, String ramMode, Boolean compressed, List<Nic> nics,
                    Long sizeBytes, List<FileEntry> files, Integer formatVersion, List<String> clones,
                    Long pausedMillis, Long totalMillis) {
    SnapshotView {
        nics = nics == null ? List.of() : nics;
        files = files == null ? List.of() : files;
        clones = clones == null ? List.of() : clones;
    }

    /** A NIC of the snapshotted VM: its device number and MAC (clones get their own MACs). */
    record Nic(Integer index, String mac) {}

    /** One file of the snapshot, checked against its SHA-256 before every restore or clone. */
    record FileEntry(String path, Long size, String sha256) {}

    /** {@code file}, {@code stream}, with {@code +zstd} when the state file is compressed; "-" if unknown. */
    String ram() {
        String mode = ramMode == null || ramMode.isBlank() ? "-" : ramMode;
        return Boolean.TRUE.equals(compressed) ? mode + "+zstd" : mode;
    }

    String size() {
        return sizeBytes == null ? "-" : Render.bytes(sizeBytes);
    }

    String memory() {
        return memoryMiB == null ? "-" : Render.memory(memoryMiB);
    }
}
