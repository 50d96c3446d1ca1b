package dev.vmctl.scenario;

import dev.vmctl.model.ExecResult;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What a scenario run needs from the platform (the consumer owns this interface; the engine implements it
 * with its operations). Every action is synchronous: it returns when its operation has finished, with the
 * operation's id, and throws {@link dev.vmctl.model.VmctlException} when it failed.
 */
public interface Lab {
    /** A VM of a deployed topology. {@code ref} is how scenarios name it: NODE/VM. */
    record LabVm(String id, String name, String ref, String node, boolean running, List<LabNic> nics) {
        public LabVm {
            nics = List.copyOf(nics);
        }
    }

    /** A NIC: its guest name (eth0…), its network's name and its IPv4 address (null if none). */
    record LabNic(String name, String network, String ip) {}

    boolean topologyDeployed(String topology);

    /** The topology's VMs. */
    List<LabVm> vms(String topology);

    /** The names of the topology's nodes. */
    List<String> nodes(String topology);

    /** The names of the snapshots of a node. */
    List<String> nodeSnapshots(String topology, String node);

    /** A command in a running VM (guest I/O, not an operation). */
    ExecResult exec(String vmId, List<String> argv, Duration timeout);

    String setLink(String vmId, String nic, boolean up);

    /** Impairs a NIC ({@code impair}: the API's impair object, with {@code direction}), or clears it (null). */
    String impair(String vmId, String nic, Map<String, String> impair);

    /** The NIC's impairment now, in the API's form (null when not impaired). */
    Map<String, String> impairment(String vmId, String nic);

    /** Whether the NIC's link is up now. */
    boolean linkUp(String vmId, String nic);

    /** IPv4 traffic between the addresses of a and those of b dropped both ways (idempotent per id). */
    String partition(String id, List<String> a, List<String> b);

    /** Removes the partition (no error when it does not exist). */
    String unpartition(String id);

    String reboot(String vmId);

    String stop(String vmId);

    /** Kills the VM's QEMU (SIGKILL), as a crash would; the VM ends in ERROR or STOPPED. */
    String kill(String vmId);

    /** Starts the VM unless it is running; null when there was nothing to do. */
    String start(String vmId);

    String stopNode(String topology, String node);

    String startNode(String topology, String node);

    String restoreNode(String topology, String node, String snapshot);

    String snapshotNode(String topology, String node, String snapshot);
}
