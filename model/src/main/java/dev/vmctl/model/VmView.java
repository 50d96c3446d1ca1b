package dev.vmctl.model;

/** What the API shows of a VM (GET /api/v1/vms/{id}). */
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
        java.util.List<NicView> nics) {
}
