package dev.vmctl.net;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real namespaces for one test: all named "vmctl-t-&lt;random&gt;-…" (routers "vmctl-r-&lt;random id&gt;"),
 * all deleted by {@link #close()}. "Guests" are namespaces joined to a fabric bridge by a veth pair,
 * standing in for VMs. Only 198.18.0.0/15 addresses.
 */
final class NsHarness implements AutoCloseable {
    final String prefix = "vmctl-t-" + hex(3);
    private final List<String> routerIds = new ArrayList<>();

    static void requireRoot() {
        CmdResult id = Cmd.run("id", "-u");
        assumeTrue(id.ok() && id.stdout().strip().equals("0"), "needs root (network namespaces)");
        assumeTrue(Cmd.available("ip") && Cmd.available("tc"), "needs iproute2");
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    Fabric fabric() {
        return new Fabric(prefix + "-f", false).ensure();
    }

    RouterNs router(Fabric fabric) {
        String id = hex(4);
        routerIds.add(id);
        return new RouterNs(id, fabric).ensure();
    }

    /**
     * A namespace playing a VM: its eth0 is a veth whose other end (port, in the fabric) is attached
     * to bridge; address cidr; a default route via gateway when not null.
     */
    Netns guest(String suffix, Fabric fabric, String bridge, String port, String cidr, String gateway) {
        Netns g = Netns.of(prefix + "-" + suffix).ensure();
        g.ip("test guest", "eth0", "link", "add", "name", "eth0", "type", "veth", "peer", "name", port, "netns", fabric.name());
        g.sysctl(java.util.Map.of("net.ipv6.conf.all.disable_ipv6", "1"));
        g.ip("test guest", "eth0", "addr", "add", cidr, "dev", "eth0");
        g.setLinkUp("eth0", true);
        if (gateway != null) g.ip("test guest", "route", "route", "add", "default", "via", gateway);
        fabric.attach(port, bridge);
        return g;
    }

    /** One ping with a 0.5 s deadline (a veth answers in well under a millisecond). */
    static boolean ping(Netns from, String ip) {
        return ping(from, ip, "0.5");
    }

    private static boolean ping(Netns from, String ip, String wait) {
        return from.exec(List.of("ping", "-n", "-q", "-c", "1", "-W", wait, ip)).ok();
    }

    /** Reachable: up to three tries of 1 s (first contact needs ARP). */
    static boolean reaches(Netns from, String ip) {
        for (int i = 0; i < 3; i++) if (ping(from, ip, "1")) return true;
        return false;
    }

    /**
     * Sends bytes of zeros over TCP from one namespace to a listener in another and returns the
     * rate in bit/s, timed from the sender's start until the receiver has read everything (socat exits
     * at EOF). Bounded by timeouts on both sides.
     */
    private static final java.util.concurrent.Executor RECEIVERS = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

    static double transferRate(Netns from, Netns to, String toIp, int bytes) throws Exception {
        int port = 5001;
        var receiver = CompletableFuture.supplyAsync(() -> Cmd.run(
                to.execArgv(List.of("timeout", "30", "socat", "-u", "TCP-LISTEN:" + port + ",reuseaddr", "OPEN:/dev/null")),
                null, null, Duration.ofSeconds(35)), RECEIVERS); // own threads: transfers may run side by side
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!to.exec(List.of("ss", "-Hltn", "sport", "= :" + port)).stdout().contains(":" + port)) {
            if (System.nanoTime() > deadline || receiver.isDone()) throw new AssertionError("receiver did not listen: " + receiver.getNow(null));
            Thread.sleep(20);
        }
        long t0 = System.nanoTime();
        CmdResult sent = Cmd.run(from.execArgv(List.of("timeout", "30", "socat", "-u", "-", "TCP:" + toIp + ":" + port)),
                new byte[bytes], null, Duration.ofSeconds(35));
        CmdResult received = receiver.get();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(sent.exitCode()).as("sender %s", sent).isZero();
        assertThat(received.exitCode()).as("receiver %s", received).isZero();
        return bytes * 8 / seconds;
    }

    static boolean haveSocat() {
        return Cmd.available("socat");
    }

    @Override
    public void close() {
        List<Throwable> errors = new ArrayList<>();
        for (String id : routerIds) {
            try { Netns.of(NetNames.routerNs(id)).delete(); } catch (RuntimeException e) { errors.add(e); }
        }
        for (String name : Netns.list(prefix)) {
            try { Netns.of(name).delete(); } catch (RuntimeException e) { errors.add(e); }
        }
        List<String> left = new ArrayList<>(Netns.list(prefix));
        for (String id : routerIds) if (Netns.of(NetNames.routerNs(id)).exists()) left.add(NetNames.routerNs(id));
        assertThat(errors).as("cleanup errors").isEmpty();
        assertThat(left).as("namespaces left behind").isEmpty();
    }
}
