package dev.vmctl.scenario;

import java.util.List;
import java.util.Map;

/**
 * How to undo one applied fault: written to the fault ledger (SQLite) <em>before</em> the fault is applied, so
 * that a run that ends in any way — success, failure, abort, a crash of the server — can be healed.
 * Every revert is idempotent (reverting twice, or a fault that was never applied, is harmless).
 *
 * @param action   link.up, impair (restore {@code impair}; null clears), unpartition, start, node.start, none
 * @param impair   the NIC's impairment before the fault (API form), for action impair
 * @param partition the partition's id, for action unpartition
 * @param a        the addresses of the partition's first group (for a re-apply after a crash; informative)
 * @param describe what the fault did, for messages ("link.down svc/cache eth0")
 */
public record Revert(String action, String vmId, String nic, String topology, String node, String partition,
                     Map<String, String> impair, List<String> a, List<String> b, String describe) {
    public static final String LINK_UP = "link.up", IMPAIR = "impair", UNPARTITION = "unpartition",
            START = "start", NODE_START = "node.start", NONE = "none";

    public static Revert none(String describe) {
        return new Revert(NONE, null, null, null, null, null, null, null, null, describe);
    }

    /** Undoes the fault through the lab; returns the operation that did it (null when nothing was to do). */
    public String apply(Lab lab) {
        return switch (action) {
            case LINK_UP -> lab.setLink(vmId, nic, true);
            case IMPAIR -> lab.impair(vmId, nic, impair);
            case UNPARTITION -> lab.unpartition(partition);
            case START -> lab.start(vmId);
            case NODE_START -> lab.startNode(topology, node);
            default -> null;
        };
    }
}
