package dev.vmctl.model;

/**
 * One entry of the image catalog. Paths are absolute; checksums are SHA-256 hex. {@code rootfs} is set for images
 * with a root disk (the Debian images): the read-only base of every VM's qcow2 overlay. {@code recipe} says what the
 * image was built from (null for images built before it was recorded).
 */
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
        String builtAt,
        String recipe) {

    public ImageInfo(String name, String os, String kernelVersion, String kernel, String kernelSha256, String initrd,
                     String initrdSha256, String rootfs, String rootfsSha256, long sizeBytes, String builtAt) {
        this(name, os, kernelVersion, kernel, kernelSha256, initrd, initrdSha256, rootfs, rootfsSha256, sizeBytes, builtAt, null);
    }

    /** True for images whose VMs boot from a disk (a qcow2 overlay on {@link #rootfs}). */
    public boolean hasRootDisk() {
        return rootfs != null;
    }
}
