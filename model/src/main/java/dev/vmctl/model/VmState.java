package dev.vmctl.model;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * A VM's life: REQUESTED → PREPARING → RUNNING → STOPPED → DESTROYED, and ERROR from any of the
 * first four. This enum holds the single transition table; every state change goes through
 * {@link #checkTransition}.
 */
public enum VmState {
    REQUESTED, PREPARING, RUNNING, STOPPED, DESTROYED, ERROR;

    private static final Map<VmState, Set<VmState>> NEXT = Map.of(
            REQUESTED, EnumSet.of(PREPARING, STOPPED, ERROR, DESTROYED),
            // PREPARING → STOPPED: a stop during boot; → PREPARING again is not a transition
            PREPARING, EnumSet.of(RUNNING, STOPPED, ERROR, DESTROYED),
            // RUNNING → PREPARING: reboot (RUNNING again only when the agent answers)
            RUNNING, EnumSet.of(PREPARING, STOPPED, ERROR, DESTROYED),
            STOPPED, EnumSet.of(PREPARING, ERROR, DESTROYED),
            // ERROR → PREPARING: start again after a failure; ERROR → STOPPED: reconciled as cleanly stopped
            ERROR, EnumSet.of(PREPARING, STOPPED, DESTROYED),
            DESTROYED, EnumSet.noneOf(VmState.class));

    public boolean canGoTo(VmState to) {
        return NEXT.get(this).contains(to);
    }

    public Set<VmState> next() {
        return NEXT.get(this).isEmpty() ? EnumSet.noneOf(VmState.class) : EnumSet.copyOf(NEXT.get(this));
    }

    public static void checkTransition(String vm, VmState from, VmState to) {
        if (!from.canGoTo(to)) {
            throw new VmctlException(VmctlException.Kind.WRONG_STATE,
                    "vm " + vm + ": cannot go from " + from + " to " + to,
                    "allowed from " + from + ": " + from.next());
        }
    }
}
