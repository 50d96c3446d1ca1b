package dev.vmctl.model;

import java.util.List;

/**
 * What the API shows of a VM (GET /api/v1/vms/{id}).
 *
 * @param boot how the VM's last start began: {@code cold} (the kernel booted from the image), {@code warm} (restored
 *             from its image's boot snapshot, with an identity of its own), {@code snapshot} (cloned from or rolled
 *             back to a snapshot); null before its first start. A reboot keeps it (the same QEMU process).
 */
public record VmView(
        String id,
        String name,
        VmState state,
        String image,
        int cpus,
        int memoryMiB,
        String accel,
        String createdAt,
        String updatedAt,
        Long pid,
        String error,
        List<NicView> nics,
        String boot,
        Double cpuLimit) {
    public VmView {
        nics = nics == null ? List.of() : nics;
    }

    public VmView(String id, String name, VmState state, String image, int cpus, int memoryMiB, String accel, String createdAt,
                  String updatedAt, Long pid, String error, List<NicView> nics, String boot) {
        this(id, name, state, image, cpus, memoryMiB, accel, createdAt, updatedAt, pid, error, nics, boot, null);
    }

    /** The same VM with its own cpuLimit (cores; null: none, or its topology's). */
    public VmView withCpuLimit(Double limit) {
        return new VmView(id, name, state, image, cpus, memoryMiB, accel, createdAt, updatedAt, pid, error, nics, boot, limit);
    }
}
