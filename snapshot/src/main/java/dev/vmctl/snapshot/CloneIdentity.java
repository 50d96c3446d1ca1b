package dev.vmctl.snapshot;

import dev.vmctl.model.ExecResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.GuestAgentException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Gives a restored clone its own identity through the guest agent, right after restore. Clones of one
 * snapshot start with the same host name, MACs, addresses, machine-id, clock and RNG state in guest memory
 * (a {@code mac=} on the QEMU command line is overridden by the migrated device state). Applied here:
 * <ul>
 *   <li>host name ({@code hostname}, {@code /etc/hostname}, the {@code 127.0.1.1} line of {@code /etc/hosts});</li>
 *   <li>per NIC: new MAC ({@code ip link set ethN down; … address MAC; … up}: the virtio-net device takes the
 *       guest's MAC, so QEMU's filter and the host bridge follow), and when an address is given: flush, add
 *       the address, default route, flush the neighbour cache and announce with {@code arping -U} (in the
 *       background: the call does not wait for it);</li>
 *   <li>a fresh {@code /etc/machine-id};</li>
 *   <li>entropy: host randomness written to {@code /dev/urandom} (mixed into the pool; Linux 6.1 does not
 *       reseed its CRNG at once on a write: it reseeds at its next interval, at most 60 s later; vmgenid,
 *       which would force it, does not work on microvm);</li>
 *   <li>the clock ({@code guest-set-time}: the guest clock stood still while the snapshot was on disk).</li>
 * </ul>
 * Everything but the clock runs as one {@code /bin/sh -c SCRIPT} whose values are positional arguments
 * (never spliced into the script) and were validated here. What stays identical: anything the guest's
 * applications computed from the old identity and hold in memory (caches, open connections, random values
 * already drawn, TLS session keys, UUIDs generated before the snapshot).
 */
public final class CloneIdentity {
    public static final int DEFAULT_ENTROPY_BYTES = 512;
    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern DEVICE = Pattern.compile("eth[0-9]{1,2}");
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern MACHINE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The guest script ({@link dev.vmctl.vmm.GuestScripts#IDENTITY}). */
    static final String SCRIPT = dev.vmctl.vmm.GuestScripts.IDENTITY;

    private CloneIdentity() {}

    /**
     * One NIC of the clone.
     *
     * @param device  guest interface name ({@code eth0}, …; boot NICs are named in command-line order)
     * @param mac     new unicast MAC, lower-case {@code 52:54:00:…}
     * @param address IPv4 address with prefix ({@code 198.18.0.11/24}), or null to keep the addresses as they are
     * @param gateway default route via this address (only with {@code address}), or null
     */
    public record Nic(String device, String mac, String address, String gateway) {}

    /**
     * What to apply.
     *
     * @param machineId    32 lower-case hex digits, or null for a random one
     * @param setClock     set the guest clock to the host's
     * @param entropyBytes bytes of host randomness for /dev/urandom (0: none)
     */
    public record Spec(String hostname, List<Nic> nics, String machineId, boolean setClock, int entropyBytes) {
        public Spec {
            nics = nics == null ? List.of() : List.copyOf(nics);
        }

        /** Host name and NICs; random machine-id, clock set, {@value #DEFAULT_ENTROPY_BYTES} bytes of entropy. */
        public static Spec of(String hostname, List<Nic> nics) {
            return new Spec(hostname, nics, null, true, DEFAULT_ENTROPY_BYTES);
        }
    }

    /** What was applied and how long it took (milliseconds: the script, the clock, all). */
    public record Applied(String hostname, String machineId, List<Nic> nics, long scriptMillis, long clockMillis, long totalMillis) {}

    /**
     * Validates {@code spec} and applies it through the agent.
     *
     * @throws VmctlException INVALID for a bad value (before anything runs), INTERNAL when the guest script
     *                        fails (its stderr is in the message), UNAVAILABLE when the agent does not answer
     */
    public static Applied apply(GuestAgentClient agent, Spec spec, Duration timeout) {
        List<String> args = arguments(spec);
        String machineId = args.get(1);
        byte[] entropy = new byte[Math.max(0, spec.entropyBytes())];
        RANDOM.nextBytes(entropy);
        long t0 = System.nanoTime();
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", SCRIPT, "vmctl-identity"));
        argv.addAll(args);
        ExecResult r;
        try {
            r = agent.exec(argv, entropy, timeout);
        } catch (GuestAgentException e) {
            throw new VmctlException(Kind.UNAVAILABLE, "clone identity: guest agent: " + e.getMessage(), null, e);
        }
        if (r.timedOut() || r.exitCode() != 0) {
            throw new VmctlException(Kind.INTERNAL, "clone identity: guest script " + (r.timedOut() ? "timed out" : "exited " + r.exitCode())
                    + ": " + r.stderr().strip(), null);
        }
        long t1 = System.nanoTime();
        if (spec.setClock()) {
            try {
                agent.setTime(currentEpochNanos());
            } catch (GuestAgentException e) {
                throw new VmctlException(Kind.INTERNAL, "clone identity: set clock: " + e.getMessage(), null, e);
            }
        }
        long t2 = System.nanoTime();
        return new Applied(spec.hostname(), machineId, spec.nics(), TimeUnit.NANOSECONDS.toMillis(t1 - t0),
                TimeUnit.NANOSECONDS.toMillis(t2 - t1), TimeUnit.NANOSECONDS.toMillis(t2 - t0));
    }

    /** The script's positional arguments; validates everything. */
    static List<String> arguments(Spec spec) {
        if (spec.hostname() == null || !HOSTNAME.matcher(spec.hostname()).matches()) {
            throw VmctlException.invalid("hostname", "'" + spec.hostname() + "'", "letters, digits and '-', 1-63 characters, not starting or ending with '-'");
        }
        String mid = spec.machineId() != null ? spec.machineId() : randomMachineId();
        if (!MACHINE_ID.matcher(mid).matches()) throw VmctlException.invalid("machineId", "'" + mid + "'", "32 lower-case hex digits");
        if (spec.entropyBytes() < 0 || spec.entropyBytes() > 1 << 16) throw VmctlException.invalid("entropyBytes", String.valueOf(spec.entropyBytes()), "0 to 65536");
        List<String> a = new ArrayList<>(List.of(spec.hostname(), mid));
        List<String> devices = new ArrayList<>();
        for (Nic n : spec.nics()) {
            if (n.device() == null || !DEVICE.matcher(n.device()).matches()) throw VmctlException.invalid("nic device", "'" + n.device() + "'", "eth0, eth1, …");
            if (devices.contains(n.device())) throw VmctlException.invalid("nic device", n.device() + " given twice", "each device once");
            devices.add(n.device());
            if (n.mac() == null || !MAC.matcher(n.mac()).matches()) throw VmctlException.invalid("mac", "'" + n.mac() + "'", "lower-case xx:xx:xx:xx:xx:xx");
            int first = Integer.parseInt(n.mac().substring(0, 2), 16);
            if ((first & 1) != 0) throw VmctlException.invalid("mac", n.mac() + " is a multicast address", "a unicast MAC (first octet even)");
            String addr = "-";
            String gw = "-";
            if (n.address() != null) {
                checkCidr(n.address());
                addr = n.address();
                if (n.gateway() != null) {
                    checkIpv4("gateway", n.gateway());
                    gw = n.gateway();
                }
            } else if (n.gateway() != null) {
                throw VmctlException.invalid("gateway", "given without an address on " + n.device(), "an address with the gateway");
            }
            a.addAll(List.of(n.device(), n.mac(), addr, gw));
        }
        return a;
    }

    public static String randomMachineId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A random locally administered unicast MAC with the given first three octets' QEMU prefix {@code 52:54:00}. */
    public static String randomMac() {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        return "52:54:00:" + HexFormat.ofDelimiter(":").formatHex(b);
    }

    private static void checkCidr(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw VmctlException.invalid("address", "'" + cidr + "' has no prefix length", "IPv4/prefix, e.g. 198.18.0.11/24");
        checkIpv4("address", cidr.substring(0, slash));
        String p = cidr.substring(slash + 1);
        if (!p.matches("[0-9]{1,2}") || Integer.parseInt(p) > 32 || Integer.parseInt(p) < 1) {
            throw VmctlException.invalid("address", "'" + cidr + "': bad prefix length", "1 to 32");
        }
    }

    private static void checkIpv4(String field, String ip) {
        if (!IPV4.matcher(ip).matches()) throw VmctlException.invalid(field, "'" + ip + "' is not an IPv4 address", "a.b.c.d");
        try {
            InetAddress.getByName(ip); // literal: no lookup
        } catch (UnknownHostException e) {
            throw VmctlException.invalid(field, "'" + ip + "'", "a.b.c.d");
        }
    }

    private static long currentEpochNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
