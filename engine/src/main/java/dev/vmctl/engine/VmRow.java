package dev.vmctl.engine;

import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;

/** A VM as stored in the database. Immutable; changes go through the with-methods and {@link Store#update}. */
public record VmRow(String id, String name, VmState state, String image, int cpus, int memoryMiB,
                    String accel, String runAccel, String createdAt, String updatedAt,
                    Long pid, Long pidStart, String error) {

    public VmRow withState(VmState s, String err, String now) {
        return new VmRow(id, name, s, image, cpus, memoryMiB, accel, runAccel, createdAt, now, pid, pidStart, err);
    }

    public VmRow withProcess(Long p, Long start, String usedAccel) {
        return new VmRow(id, name, state, image, cpus, memoryMiB, accel, usedAccel, createdAt, updatedAt, p, start, error);
    }

    public VmView view() {
        return view(java.util.List.of());
    }

    public VmView view(java.util.List<dev.vmctl.model.NicView> nics) {
        boolean live = state == VmState.RUNNING || state == VmState.PREPARING;
        return new VmView(id, name, state, image, cpus, memoryMiB,
                live && runAccel != null ? runAccel : accel, createdAt, updatedAt, live ? pid : null,
                state == VmState.ERROR ? error : null, nics);
    }
}
