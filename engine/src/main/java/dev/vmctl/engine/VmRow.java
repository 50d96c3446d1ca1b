package dev.vmctl.engine;

import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;

/**
 * A VM as stored in the database. Immutable; changes go through the with-methods and {@link Store#update}.
 *
 * @param boot         how the last start began ({@link #COLD}, {@link #WARM}, {@link #SNAPSHOT}), null before the first
 * @param bootSnapshot the boot snapshot a warm VM's QEMU was restored from (it holds links to its files), else null
 */
public record VmRow(String id, String name, VmState state, String image, int cpus, int memoryMiB,
                    String accel, String runAccel, String createdAt, String updatedAt,
                    Long pid, Long pidStart, String error, String boot, String bootSnapshot) {
    public static final String COLD = "cold", WARM = "warm", SNAPSHOT = "snapshot";

    public VmRow(String id, String name, VmState state, String image, int cpus, int memoryMiB, String accel, String runAccel,
                 String createdAt, String updatedAt, Long pid, Long pidStart, String error) {
        this(id, name, state, image, cpus, memoryMiB, accel, runAccel, createdAt, updatedAt, pid, pidStart, error, null, null);
    }

    public VmRow withState(VmState s, String err, String now) {
        return new VmRow(id, name, s, image, cpus, memoryMiB, accel, runAccel, createdAt, now, pid, pidStart, err, boot, bootSnapshot);
    }

    public VmRow withProcess(Long p, Long start, String usedAccel) {
        return new VmRow(id, name, state, image, cpus, memoryMiB, accel, usedAccel, createdAt, updatedAt, p, start, error, boot, bootSnapshot);
    }

    /** How this start begins (and, for a warm boot, from which boot snapshot). */
    public VmRow withBoot(String how, String snapshot) {
        return new VmRow(id, name, state, image, cpus, memoryMiB, accel, runAccel, createdAt, updatedAt, pid, pidStart, error, how, snapshot);
    }

    public VmView view() {
        return view(java.util.List.of());
    }

    public VmView view(java.util.List<dev.vmctl.model.NicView> nics) {
        boolean live = state == VmState.RUNNING || state == VmState.PREPARING;
        return new VmView(id, name, state, image, cpus, memoryMiB,
                live && runAccel != null ? runAccel : accel, createdAt, updatedAt, live ? pid : null,
                state == VmState.ERROR ? error : null, nics, boot);
    }
}
