package dev.vmctl.model;

import java.util.List;
import java.util.Map;

/**
 * What the metrics sampler records per VM (the API's {@code /api/v1/vms/{id}/metrics} and
 * {@code /api/v1/nodes/{topology}/{node}/metrics}, {@code vmctl vm metrics}, {@code vmctl vm top}).
 */
public final class Metrics {
    private Metrics() {}

    /**
     * One sampling round of one VM (or the sum over a node's VMs).
     *
     * @param t          when, in milliseconds since the epoch (every VM of one round has the same t)
     * @param cpu        cores the QEMU process used since the previous sample (core-seconds per second)
     * @param cpuSeconds CPU time (user + system) of the QEMU process since it started
     * @param rss        resident set size of the QEMU process, bytes
     * @param pss        proportional set size (shared pages divided among their users), bytes
     * @param nics       per NIC (eth0 …), the guest's view of its tap's counters
     * @param guest      the latest reading through the guest agent (null before the first one)
     */
    public record Sample(long t, double cpu, double cpuSeconds, long rss, long pss, Map<String, Nic> nics, Guest guest) {}

    /**
     * A NIC's counters as the guest sees them: rx is what the guest received (the tap's transmit counters on the host),
     * tx what it sent; drops on both sides. The per-second rates are since the previous sample.
     */
    public record Nic(long rxBytes, long txBytes, long rxPackets, long txPackets, long rxDrops, long txDrops,
                      double rxBytesPerSec, double txBytesPerSec) {}

    /**
     * Read inside the guest through its agent (guest-file-read of /proc/meminfo, /proc/loadavg, /proc/uptime; no process
     * started in the guest), every few samples.
     *
     * @param t when it was read (ms since the epoch)
     */
    public record Guest(long t, Long memTotal, Long memAvailable, Double load1, Double uptime) {}

    /** A window of samples of one VM or one node (sums). */
    public record Window(String vm, String node, String topology, long intervalMs, long windowMs, List<Sample> samples) {
        public Window {
            samples = samples == null ? List.of() : List.copyOf(samples);
        }
    }

    /** The latest sample of one VM with its labels ({@code GET /api/v1/metrics/vms}, {@code vmctl vm top}). */
    public record Latest(String vm, String id, String node, String topology, VmState state, Sample sample) {}
}
