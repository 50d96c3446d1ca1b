package dev.vmctl.model;

import java.util.EnumSet;
import java.util.Set;

import static dev.vmctl.model.VmState.*;

/** Each user-visible operation and the states it is allowed in (Firecracker's habit). */
public enum VmOperation {
    START(EnumSet.of(REQUESTED, STOPPED, ERROR)),
    STOP(EnumSet.of(PREPARING, RUNNING)),
    REBOOT(EnumSet.of(RUNNING)),
    /** SIGKILL of the VM's QEMU, as a crash would (a scenario fault); the VM ends in ERROR. */
    KILL(EnumSet.of(PREPARING, RUNNING)),
    EXEC(EnumSet.of(RUNNING)),
    DESTROY(EnumSet.of(REQUESTED, STOPPED, ERROR)),
    DESTROY_FORCE(EnumSet.of(REQUESTED, PREPARING, RUNNING, STOPPED, ERROR)),
    RESTORE(EnumSet.of(RUNNING, STOPPED, ERROR)),
    SNAPSHOT(EnumSet.of(RUNNING)),
    /** Add a NIC: hot-plugged when RUNNING, recorded for the next boot otherwise. */
    NIC_ADD(EnumSet.of(REQUESTED, RUNNING, STOPPED, ERROR)),
    /** Change (link, move, impair) or remove a NIC. */
    NIC_CHANGE(EnumSet.of(REQUESTED, RUNNING, STOPPED, ERROR));

    private final Set<VmState> allowedIn;

    VmOperation(Set<VmState> allowedIn) { this.allowedIn = allowedIn; }

    public Set<VmState> allowedIn() { return allowedIn; }

    public String verb() {
        return switch (this) {
            case DESTROY_FORCE -> "destroy --force";
            case NIC_ADD -> "add nic";
            case NIC_CHANGE -> "change nic";
            default -> name().toLowerCase();
        };
    }

    /** Throws a WRONG_STATE error naming the current state and the allowed ones. */
    public void check(String vm, VmState current) {
        if (!allowedIn.contains(current)) {
            String hint = this == DESTROY && (current == RUNNING || current == PREPARING)
                    ? "; use force to destroy a running VM" : "";
            throw new VmctlException(VmctlException.Kind.WRONG_STATE,
                    verb() + ": vm " + vm + " is " + current,
                    "current state: " + current + "; " + verb() + " is allowed in: " + allowedIn + hint);
        }
    }
}
