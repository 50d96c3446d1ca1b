package dev.vmctl.net;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.HostCapabilities;
import dev.vmctl.host.Procs;
import dev.vmctl.model.VmctlException;

import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A WireGuard endpoint whose UDP socket lives in one namespace (the <em>edge</em>: the host's own namespace unless the
 * caller names another) and whose interface lives in another (a segment's): the interface is created in the edge and
 * then moved into the segment. WireGuard keeps its socket where the interface was born (the kernel module) or where
 * its process runs (wireguard-go, the userspace implementation over TUN), so clients reach the endpoint on the edge's
 * addresses while what comes out of the tunnel appears only inside the segment — no route, no forwarding and no NAT
 * in the edge. Everything that changes the host goes through {@link Cmd}; processes are signalled only by the PID and
 * start time recorded when they were started.
 */
public final class Wireguard {
    /** How the endpoint is made: the kernel module, or wireguard-go (one process per endpoint). */
    public enum Mechanism {
        KERNEL("kernel"), USERSPACE("wireguard-go");

        private final String wire;

        Mechanism(String wire) { this.wire = wire; }

        public String wire() { return wire; }

        public static Mechanism parse(String s) {
            for (Mechanism m : values()) if (m.wire.equals(s)) return m;
            throw new IllegalArgumentException("unknown WireGuard mechanism " + s);
        }
    }

    public record Keys(String privateKey, String publicKey) {}

    /** A started endpoint: pid and pidStart name wireguard-go's process (null for the kernel module). */
    public record Endpoint(Mechanism mechanism, Long pid, Long pidStart) {}

    /** wireguard-go's control sockets (one per interface, named after it). */
    static final Path RUN_DIR = Path.of("/var/run/wireguard");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private Wireguard() {}

    // ---- keys ----------------------------------------------------------------------------------------------

    /** A fresh Curve25519 key pair in WireGuard's form (base64 of 32 bytes; the private key clamped as wg genkey does). */
    public static Keys generateKeys() {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            byte[] priv = ((XECPrivateKey) kp.getPrivate()).getScalar().orElseThrow();
            priv[0] &= (byte) 248;
            priv[31] &= 127;
            priv[31] |= 64;
            byte[] pub = littleEndian(((XECPublicKey) kp.getPublic()).getU());
            return new Keys(Base64.getEncoder().encodeToString(priv), Base64.getEncoder().encodeToString(pub));
        } catch (GeneralSecurityException e) {
            throw VmctlException.internal("generate a WireGuard key pair: " + e.getMessage(), e);
        }
    }

    private static byte[] littleEndian(BigInteger u) {
        byte[] be = u.toByteArray();
        byte[] le = new byte[32];
        for (int i = 0; i < 32 && i < be.length; i++) le[i] = be[be.length - 1 - i];
        return le;
    }

    /** Checks a WireGuard key (base64 of 32 bytes, 44 characters); returns it stripped. */
    public static String checkKey(String field, String key) {
        String allowed = "a WireGuard public key: 44 characters of base64 (32 bytes), as printed by `wg pubkey`";
        if (key == null || key.isBlank()) throw VmctlException.invalid(field, "missing", allowed);
        String k = key.strip();
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(k);
        } catch (IllegalArgumentException e) {
            throw VmctlException.invalid(field, "'" + k + "' is not base64", allowed);
        }
        if (raw.length != 32 || k.length() != 44) throw VmctlException.invalid(field, "'" + k + "' is " + raw.length + " bytes", allowed);
        return k;
    }

    // ---- the client's side --------------------------------------------------------------------------------------

    /**
     * The configuration a client (the holder of the private key of {@code clientPublicKey}) puts in wg-quick's file:
     * its tunnel address, the networks it may reach through the tunnel, the server's public key and endpoint.
     */
    public static String clientConfig(String clientPublicKey, String clientAddressCidr, List<String> allowedIps,
                                      String serverPublicKey, String endpoint) {
        return """
                # WireGuard client configuration (wg-quick) for the peer %s
                [Interface]
                PrivateKey = <the private key of that peer>
                Address = %s

                [Peer]
                PublicKey = %s
                AllowedIPs = %s
                Endpoint = %s
                PersistentKeepalive = 25
                """.formatted(clientPublicKey, clientAddressCidr, serverPublicKey, String.join(", ", allowedIps), endpoint);
    }

    // ---- which mechanism --------------------------------------------------------------------------------------

    /**
     * The mechanism the probed host offers: the kernel module when a wireguard link could be made in the probe's
     * scratch namespace, else wireguard-go when it (and wg) are installed; null when neither.
     */
    public static Mechanism choose(Map<String, HostCapabilities.Capability> caps) {
        if (available(caps, "wireguard")) return Mechanism.KERNEL;
        if (available(caps, "wireguardGo")) return Mechanism.USERSPACE;
        return null;
    }

    /** For {@code vmctl doctor}: which mechanism segment VPNs use here, or why there is none. */
    public static String describe(Map<String, HostCapabilities.Capability> caps) {
        Mechanism m = choose(caps);
        if (m == Mechanism.KERNEL) return "WireGuard kernel module (interface created in the edge namespace, moved into the segment's)";
        if (m == Mechanism.USERSPACE) {
            return "wireguard-go, userspace over TUN (the kernel has no wireguard module): one process per segment VPN, in the edge"
                    + " namespace; its interface is moved into the segment's";
        }
        return "unavailable: no wireguard kernel module and wireguard-go is not installed (apt-get install wireguard-go wireguard-tools)";
    }

    private static boolean available(Map<String, HostCapabilities.Capability> caps, String key) {
        HostCapabilities.Capability c = caps == null ? null : caps.get(key);
        return c != null && c.available();
    }

    // ---- the server's side --------------------------------------------------------------------------------------

    /** ip [-n EDGE] args… (the host's own namespace when edge is null). */
    static List<String> ipIn(String edge, String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        if (edge != null) argv.addAll(List.of("-n", NetNames.checkNetns(edge)));
        argv.addAll(List.of(args));
        return List.copyOf(argv);
    }

    /** The argv that starts wireguard-go for iface in the edge (in its own session, in the foreground). */
    static List<String> userspaceArgv(String edge, String iface) {
        List<String> argv = new ArrayList<>();
        if (edge != null) argv.addAll(List.of("ip", "netns", "exec", NetNames.checkNetns(edge)));
        argv.addAll(List.of("setsid", "wireguard-go", "-f", NetNames.checkIfName("interface", iface)));
        return List.copyOf(argv);
    }

    /**
     * Creates iface in the edge namespace ({@code edge}, null: the host's own) and moves it into {@code segment}. With
     * wireguard-go its output goes to {@code log}. The interface is left without keys, port or address: see
     * {@link #configure}.
     */
    public static Endpoint create(Mechanism m, String edge, Netns segment, String iface, Path log) {
        NetNames.checkIfName("interface", iface);
        String subject = "vpn " + iface + " into " + segment.name() + (edge == null ? "" : " (socket in " + edge + ")");
        if (segment.hasLink(iface)) destroy(segment, iface, null); // a half-made one from an earlier attempt
        Endpoint e;
        if (m == Mechanism.KERNEL) {
            HostCmd.check("create vpn", subject, ipIn(edge, "link", "add", "dev", iface, "type", "wireguard"));
            e = new Endpoint(m, null, null);
        } else {
            e = startUserspace(edge, iface, log, subject);
        }
        CmdResult moved = HostCmd.run(ipIn(edge, "link", "set", "dev", iface, "netns", segment.name()));
        if (!moved.ok()) {
            destroyInEdge(edge, iface, e);
            throw HostCmd.failed("create vpn", subject, moved);
        }
        return e;
    }

    private static Endpoint startUserspace(String edge, String iface, Path log, String subject) {
        if (!Cmd.available("wireguard-go") || !Cmd.available("wg")) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "create vpn: " + subject + ": wireguard-go is not installed",
                    "apt-get install wireguard-go wireguard-tools");
        }
        Process p;
        try {
            Files.createDirectories(log.getParent());
            p = new ProcessBuilder(userspaceArgv(edge, iface))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException ex) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "create vpn: " + subject + ": cannot start wireguard-go: " + ex.getMessage(), null);
        }
        long start = Procs.startTime(p.pid()).orElse(0);
        Endpoint e = new Endpoint(Mechanism.USERSPACE, p.pid(), start);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            boolean link = HostCmd.run(ipIn(edge, "link", "show", "dev", iface)).ok();
            if (link && Files.exists(RUN_DIR.resolve(iface + ".sock"))) return e;
            if (!p.isAlive() || System.nanoTime() > deadline) {
                destroyInEdge(edge, iface, e);
                throw new VmctlException(VmctlException.Kind.INTERNAL, "create vpn: " + subject + ": wireguard-go "
                        + (p.isAlive() ? "made no interface within " + START_TIMEOUT.toSeconds() + " s" : "exited"), tail(log));
            }
            sleep(10);
        }
    }

    /**
     * Private key, UDP port (its socket opens in the edge), the interface's address in the segment, up. Runs wg inside
     * the segment's namespace: the kernel module is found there by netlink, wireguard-go by its control socket.
     */
    public static void configure(Netns segment, String iface, String privateKey, int listenPort, String addressCidr) {
        if (listenPort < 1 || listenPort > 65535) throw VmctlException.invalid("listenPort", String.valueOf(listenPort), "1 to 65535");
        String subject = "vpn " + iface + " in " + segment.name();
        List<String> wg = segment.execArgv(List.of("wg", "set", iface, "private-key", "/dev/stdin", "listen-port", String.valueOf(listenPort)));
        CmdResult r = Cmd.run(wg, (privateKey + "\n").getBytes(StandardCharsets.UTF_8), null, Duration.ofSeconds(30));
        if (!r.ok()) {
            VmctlException.Kind kind = r.stderr().contains("in use") ? VmctlException.Kind.CONFLICT : VmctlException.Kind.INTERNAL;
            throw HostCmd.failed(kind, "configure vpn", subject + " (udp port " + listenPort + ")", r);
        }
        segment.ip("configure vpn", iface, "addr", "replace", addressCidr, "dev", iface);
        segment.setLinkUp(iface, true);
    }

    /** Lets the peer with this public key in, from the addresses of allowedCidr only; idempotent. */
    public static void setPeer(Netns segment, String iface, String publicKey, String allowedCidr) {
        checkKey("peer", publicKey);
        HostCmd.check("add vpn peer", iface + " in " + segment.name(),
                segment.execArgv(List.of("wg", "set", iface, "peer", publicKey, "allowed-ips", allowedCidr)));
    }

    /** True when the interface is in the segment (and, for wireguard-go, its recorded process still runs). */
    public static boolean alive(Netns segment, String iface, Endpoint e) {
        if (e != null && e.mechanism() == Mechanism.USERSPACE && (e.pid() == null || e.pidStart() == null || !Procs.isSame(e.pid(), e.pidStart()))) {
            return false;
        }
        return segment.exists() && segment.hasLink(iface);
    }

    /** Ends the endpoint: wireguard-go's recorded process (by PID and start time), the interface, the control socket. */
    public static void destroy(Netns segment, String iface, Endpoint e) {
        stopProcess(e);
        if (segment.exists()) segment.deleteLink(iface);
        deleteSocket(iface);
    }

    private static void destroyInEdge(String edge, String iface, Endpoint e) {
        stopProcess(e);
        if (HostCmd.run(ipIn(edge, "link", "show", "dev", iface)).ok()) HostCmd.run(ipIn(edge, "link", "delete", "dev", iface));
        deleteSocket(iface);
    }

    private static void stopProcess(Endpoint e) {
        if (e == null || e.mechanism() != Mechanism.USERSPACE || e.pid() == null || e.pidStart() == null) return;
        if (Procs.isSame(e.pid(), e.pidStart())) Procs.terminate(e.pid(), Duration.ofSeconds(2));
    }

    private static void deleteSocket(String iface) {
        try {
            Files.deleteIfExists(RUN_DIR.resolve(iface + ".sock"));
        } catch (IOException ignored) {
            // wireguard-go removes its own socket when it ends; a stale one only blocks nothing
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
        } catch (IOException e) {
            return null;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw VmctlException.internal("interrupted", e);
        }
    }
}
