/**
 * Virtual networks on the host side: every vmctl server has one fabric namespace ({@link dev.vmctl.net.Fabric})
 * where its VMs' taps and its segments' bridges live; routers are namespaces of their own
 * ({@link dev.vmctl.net.RouterNs}) joined to segments by veth pairs; {@link dev.vmctl.net.Shaper} limits
 * rates (tbf, ifb) and, where the kernel has it, runs netem; {@link dev.vmctl.net.Partitions} drops IPv4
 * between two groups of addresses with nftables (bridge family) in the fabric; {@link dev.vmctl.net.Ipam} and
 * {@link dev.vmctl.net.Macs} hand out addresses. Names follow {@link dev.vmctl.net.NetNames}. All OS
 * commands go through {@link dev.vmctl.host.Cmd} as argv arrays; failures are
 * {@link dev.vmctl.model.VmctlException}s reading "operation: subject: cause".
 */
package dev.vmctl.net;
