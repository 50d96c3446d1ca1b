package dev.vmctl.model;

/** One entry of the image catalog. Paths are absolute; checksums are SHA-256 hex. */
public record ImageInfo(
        String name,
        String os,
        String kernelVersion,
        String kernel,
        String kernelSha256,
        String initrd,
        String initrdSha256,
        String rootfs,
        String rootfsSha256,
        long sizeBytes,
        String builtAt) {
}
