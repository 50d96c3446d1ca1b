package dev.vmctl.snapshot;

import dev.vmctl.model.ExecResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.GuestAgentException;
import dev.vmctl.vmm.QemuVm;

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
 *   <li>entropy: host randomness, credited to the guest kernel's input pool and its CRNG reseeded at once by
 *       {@code /usr/sbin/vmctl-identity --reseed} ({@code RNDADDENTROPY} + {@code RNDRESEEDCRNG}; the tiny image carries
 *       it): every random byte the clone draws afterwards — /dev/urandom, getrandom(), its boot id (generated
 *       on first read), ASLR — is its own. A guest without the tool only gets the bytes written to
 *       {@code /dev/urandom}, which Linux 6.1 mixes in without reseeding (its next timed reseed is up to 60 s
 *       later; vmgenid, which would force one, does not work on microvm): {@link Applied#reseeded()} says
 *       which happened;</li>
 *   <li>the clock ({@code guest-set-time}: the guest clock stood still while the snapshot was on disk).</li>
 * </ul>
 * {@link #apply}: everything but the clock runs as one {@code /bin/sh -c SCRIPT} whose values are positional arguments
 * (never spliced into the script) and were validated here. {@link #applyThroughHelper}: the same (clock included) in
 * one request to the tiny image's resident {@code vmctl-identity}, with no fork or exec in the guest (warm creates). What stays identical: anything the guest's
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
     * @param fromMac the MAC the guest's interface has now, or null: the interface is then found by this MAC instead
     *                of by {@code device} (a boot snapshot is taken before vmctl renames the guest's NICs), and keeps
     *                its name (the engine's network script renames by MAC afterwards)
     */
    public record Nic(String device, String mac, String address, String gateway, String fromMac) {
        public Nic(String device, String mac, String address, String gateway) {
            this(device, mac, address, gateway, null);
        }
    }

    /**
     * What to apply.
     *
     * @param machineId    32 lower-case hex digits, or null for a random one
     * @param setClock     set the guest clock to the host's
     * @param entropyBytes bytes of host randomness for the guest (0: none; vmctl-identity credits at most 512 of them)
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

    /**
     * What was applied and how long it took (milliseconds: the script, the clock, all).
     *
     * @param reseeded the guest's CRNG was reseeded from the host's entropy (the guest has {@code vmctl-identity});
     *                 false: the entropy was only written to /dev/urandom
     */
    public record Applied(String hostname, String machineId, List<Nic> nics, boolean reseeded, long scriptMillis, long clockMillis,
                          long totalMillis) {}

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
        boolean reseeded = r.stdout().lines().anyMatch("reseeded"::equals);
        return new Applied(spec.hostname(), machineId, spec.nics(), reseeded, TimeUnit.NANOSECONDS.toMillis(t1 - t0),
                TimeUnit.NANOSECONDS.toMillis(t2 - t1), TimeUnit.NANOSECONDS.toMillis(t2 - t0));
    }

    /** The FIFO the tiny image's {@code vmctl-identity --serve} reads (image.IdentityHelper.FIFO). */
    public static final String HELPER_FIFO = "/run/vmctl-identity";
    /** The most entropy the helper credits per request, and the most NICs it configures. */
    static final int HELPER_ENTROPY = 512, HELPER_NICS = 8;

    /**
     * Applies the host name, machine-id, clock and entropy of {@code spec} through the tiny image's resident helper
     * ({@code vmctl-identity --serve}, started by its /init before the boot snapshot was taken, so it is waiting in
     * the restored guest): one request written into {@link #HELPER_FIFO} through the guest agent (open, write,
     * close: no fork or exec in the guest), then the helper's answer on the serial console. The clock is the host's,
     * plus half the round trip of the open (the write and close take about that long before the helper reads it). Each
     * NIC of {@code spec} (at most 8, devices eth0..eth99) is found by its {@code fromMac} (else by its MAC), gets its
     * MAC, its name, goes up, gets its address (two gratuitous ARPs announce it); the first gateway given becomes the
     * default route.
     *
     * @throws VmctlException INVALID for a bad value, UNAVAILABLE when the helper does not answer (an image without
     *                        it), INTERNAL when it reports a failed step (named, with its errno)
     */
    public static Applied applyThroughHelper(QemuVm vm, Spec spec, Duration timeout) {
        if (spec.nics().size() > HELPER_NICS) throw VmctlException.invalid("nics", spec.nics().size() + " NICs", "at most " + HELPER_NICS);
        List<String> args = arguments(spec);
        String machineId = args.get(1);
        byte[] entropy = new byte[Math.min(HELPER_ENTROPY, Math.max(0, spec.entropyBytes()))];
        RANDOM.nextBytes(entropy);
        long nonce = RANDOM.nextLong();
        long t0 = System.nanoTime();
        long from = vm.consoleSize();
        GuestAgentClient agent = vm.agent();
        if (agent == null) throw new VmctlException(Kind.UNAVAILABLE, "clone identity: the guest agent is not connected", null);
        try {
            // the clock as it will be when the helper reads the request: the write and the close that flushes it take
            // about half as long as the open did (measured under TCG: the guest's clock then ends within ~20 ms of the host's)
            agent.writeFile(HELPER_FIFO, openNanos -> helperRequest(nonce,
                    spec.setClock() ? java.time.Instant.now().plusNanos(openNanos / 2) : null, spec.hostname(), machineId, entropy,
                    spec.nics()));
        } catch (GuestAgentException e) {
            throw new VmctlException(Kind.UNAVAILABLE, "clone identity: write " + HELPER_FIFO + " in the guest: " + e.getMessage()
                    + " (an image without vmctl-identity: rebuild it)", null, e);
        } finally {
            java.util.Arrays.fill(entropy, (byte) 0);
        }
        String n = String.format("%016x", nonce);
        java.util.regex.Matcher m = vm.awaitConsoleLine(from,
                java.util.regex.Pattern.compile("VMCTL_READY identity=" + n + "|VMCTL_IDENTITY_FAILED " + n + " (\\S+) (\\d+)"), timeout);
        if (m.group(1) != null) {
            throw new VmctlException(Kind.INTERNAL, "clone identity: vmctl-identity failed at " + m.group(1) + " (errno " + m.group(2) + ")", null);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        return new Applied(spec.hostname(), machineId, spec.nics(), true, ms, 0, ms);
    }

    /**
     * "VMCTLID1", nonce, seconds, nanoseconds (0, 0: leave the clock), length-prefixed host name, machine-id and entropy,
     * then the NICs (count; per NIC: N of ethN, MAC, the MAC it has now or zeros, IPv4 or zeros, prefix length) and the
     * default gateway (or zeros). Values must have passed {@link #arguments}.
     */
    static byte[] helperRequest(long nonce, java.time.Instant clock, String hostname, String machineId, byte[] entropy, List<Nic> nics) {
        byte[] h = hostname.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] id = machineId.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(32 + 6 + h.length + id.length + entropy.length + 1 + 18 * nics.size() + 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("VMCTLID1".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putLong(nonce)
                .putLong(clock == null ? 0 : clock.getEpochSecond()).putLong(clock == null ? 0 : clock.getNano());
        for (byte[] f : new byte[][]{h, id, entropy}) b.putShort((short) f.length).put(f);
        b.put((byte) nics.size());
        byte[] gateway = new byte[4];
        boolean routed = false;
        for (Nic n : nics) {
            b.put((byte) Integer.parseInt(n.device().substring(3)));
            b.put(macBytes(n.mac()));
            b.put(n.fromMac() == null ? new byte[6] : macBytes(n.fromMac()));
            if (n.address() == null) {
                b.put(new byte[4]).put((byte) 0);
            } else {
                int slash = n.address().indexOf('/');
                b.put(ipv4Bytes(n.address().substring(0, slash))).put((byte) Integer.parseInt(n.address().substring(slash + 1)));
            }
            if (!routed && n.gateway() != null) {
                gateway = ipv4Bytes(n.gateway());
                routed = true;
            }
        }
        b.put(gateway);
        return b.array();
    }

    private static byte[] macBytes(String mac) {
        return HexFormat.ofDelimiter(":").parseHex(mac);
    }

    private static byte[] ipv4Bytes(String ip) {
        String[] p = ip.split("\\.");
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) out[i] = (byte) Integer.parseInt(p[i]);
        return out;
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
            String from = "-";
            if (n.fromMac() != null) {
                if (!MAC.matcher(n.fromMac()).matches()) throw VmctlException.invalid("fromMac", "'" + n.fromMac() + "'", "lower-case xx:xx:xx:xx:xx:xx");
                from = n.fromMac();
            }
            a.addAll(List.of(n.device(), n.mac(), addr, gw, from));
        }
        return a;
    }

    /** Whether {@code name} can be a clone's host name (what {@link #apply} accepts). */
    public static boolean isHostname(String name) {
        return name != null && HOSTNAME.matcher(name).matches();
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
