package dev.vmctl.server;

import dev.vmctl.host.HostCapabilities;

import java.util.List;
import java.util.Map;

/**
 * The answer of {@code GET /api/v1/host} ({@code vmctl doctor}): the accelerator in use and why, versions, the data
 * directory, images, the fabric namespace and the network capabilities with the mechanisms they select (VLANs,
 * impairments, partitions, segment VPNs: the WireGuard kernel module or wireguard-go). Components
 * are in the order of the JSON, which {@code vmctl doctor} prints as it comes.
 */
record HostView(Accel accel, String qemu, String hostKernel, int cpus, String dataDir, List<String> images,
                String fabricNamespace, Map<String, HostCapabilities.Capability> capabilities,
                String vlanMechanism, String impairmentMechanism, String partitionMechanism, String vpnMechanism, Cgroups cgroups,
                dev.vmctl.engine.MemoryBudget.View memory, Confinement confinement) {

    /** How QEMU processes are confined: {@code mode} seccomp+user, seccomp, user or none; the -sandbox value; the user; why. */
    record Confinement(String mode, String sandbox, String user, String detail) {}

    /** How node resources and cpuLimits are applied: {@code mode} v2, v1 or none; where vmctl's groups go; why. */
    record Cgroups(String mode, String cpu, String memory, String detail) {}

    /**
     * {@code mode} as the server was started ({@code auto}, {@code kvm}, {@code tcg}), {@code chosen} (null while
     * {@code auto} has not probed yet); {@code probedAt} and {@code probeMillis} only when a probe ran (Api's mix-in
     * leaves them out when null).
     */
    record Accel(String mode, String chosen, String reason, boolean kvmDevice, String probedAt, Long probeMillis) {}
}
