package dev.vmctl.vmm;

import java.nio.file.Path;

/**
 * Where one VM's run-time files live: DATA/vms/ID/. Everything vmctl creates for a VM is inside this
 * folder, so "nothing left" after destroy means this folder is gone and its QEMU process is dead.
 * The folder path also tags the QEMU process as vmctl's own (it appears in the process's argv).
 */
public record VmFiles(Path dir) {
    public Path qmpSocket() { return dir.resolve("qmp.sock"); }
    public Path agentSocket() { return dir.resolve("qga.sock"); }
    public Path console() { return dir.resolve("console.log"); }
    public Path qemuLog() { return dir.resolve("qemu.log"); }
    public Path pidFile() { return dir.resolve("qemu.pid"); }
    /** Guest RAM (memory-backend-file, share=on) so that the VM can be snapshotted with x-ignore-shared. */
    public Path ramFile() { return dir.resolve("ram"); }
}
