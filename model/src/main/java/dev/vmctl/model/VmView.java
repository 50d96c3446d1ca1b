package dev.vmctl.model;

import java.util.List;

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
        List<NicView> nics) {
    public VmView {
        nics = nics == null ? List.of() : nics;
    }
}
