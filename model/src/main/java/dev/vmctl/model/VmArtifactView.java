package dev.vmctl.model;

/**
 * An artifact a VM holds (GET /api/v1/vms/{id}/artifacts), in the order given: where it went ({@code path}: the
 * {@code dest}, or for a dest ending in '/' the dest and the artifact's {@code name}), its content ({@code sha256},
 * {@code type} file or directory, {@code size}, the git {@code commit}), the {@code mode} and {@code owner} applied
 * (null: the defaults), how it was sent on its last delivery ({@code via}: {@code agent} or {@code 9p}, null before
 * the first) and when ({@code deliveredAt}). Delivered on every boot from the image (the tiny image keeps its files
 * in RAM), not on a snapshot restore or clone, whose memory already holds them.
 */
public record VmArtifactView(int index, String source, String dest, String path, String name, String type, String sha256,
                             long size, String commit, String mode, String owner, String via, String deliveredAt) {}
