package dev.vmctl.vmm;

import java.nio.file.Path;

/**
 * Where one VM's run-time files live: DATA/vms/ID/, except its RAM file, which the engine keeps on
 * tmpfs when there is room (see the engine's {@code RamFiles}). Everything else vmctl creates for a VM
 * is inside this folder. The folder path also tags the QEMU process as vmctl's own (it appears in the
 * process's argv).
 *
 * @param ramFile guest RAM (memory-backend-file, share=on) so that the VM can be snapshotted with
 *                x-ignore-shared
 */
public record VmFiles(Path dir, Path ramFile) {
    /** All files in {@code dir}, the RAM file too ({@code dir/ram}). */
    public VmFiles(Path dir) {
        this(dir, dir.resolve("ram"));
    }

    public Path qmpSocket() { return dir.resolve("qmp.sock"); }
    public Path agentSocket() { return dir.resolve("qga.sock"); }
    public Path console() { return dir.resolve("console.log"); }
    public Path qemuLog() { return dir.resolve("qemu.log"); }
    public Path pidFile() { return dir.resolve("qemu.pid"); }
    /** What the guest sees read-only over 9p (a VM booted with the share): files staged for delivery into it. */
    public Path shareDir() { return dir.resolve("xfer"); }
    /** The VM's own disk: a qcow2 overlay on its image's root file system (images with a root disk only). */
    public Path disk() { return dir.resolve("disk.qcow2"); }
}
