package dev.vmctl.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmctl.host.Cmd;
import dev.vmctl.model.ImageInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.VmFiles;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Builds the real tiny image with each {@link KernelFlavor} and boots it with QEMU under TCG (works on
 * any x86-64 host, KVM or not). The vmctl kernel comes from the shared kernel cache (built there once,
 * minutes, when missing). Skipped when the packages or QEMU are missing. Every QEMU started here is
 * this JVM's child and is killed by its own handle in a finally block.
 */
@ParameterizedClass(name = "{0} kernel")
@EnumSource(KernelFlavor.class)
class TinyImageBootTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static final Map<KernelFlavor, ImageInfo> IMAGES = new EnumMap<>(KernelFlavor.class);
    static final Map<KernelFlavor, List<String>> PROGRESS = new EnumMap<>(KernelFlavor.class);

    @Parameter
    KernelFlavor flavor;

    @BeforeParameterizedClassInvocation
    static void build(KernelFlavor flavor) throws IOException {
        assumeTrue(Cmd.available("qemu-system-x86_64"), "qemu-system-x86 is not installed");
        assumeTrue(Files.isRegularFile(Path.of("/usr/sbin/qemu-ga")), "qemu-guest-agent is not installed");
        assumeTrue(Files.isRegularFile(Path.of("/bin/busybox")), "busybox-static is not installed");
        if (flavor == KernelFlavor.DEBIAN) {
            assumeTrue(TinyImageBuilder.newestCloudKernel(Path.of("/boot")).isPresent(), "linux-image-cloud-amd64 is not installed");
        } else {
            assumeTrue(KernelBuildTest.sourceInstalled(), "linux-source-6.1 is not installed");
        }
        if (IMAGES.containsKey(flavor)) return;
        List<String> progress = new ArrayList<>();
        long t0 = System.nanoTime();
        Path images = Files.createDirectories(tmp.resolve(flavor.id()).resolve("images"));
        ImageInfo image = new TinyImageBuilder(images).build("tiny", flavor, progress::add);
        System.out.printf("tiny image (%s kernel) built in %.2f s: %s%n", flavor.id(), (System.nanoTime() - t0) / 1e9, progress);
        IMAGES.put(flavor, image);
        PROGRESS.put(flavor, progress);
    }

    ImageInfo image() {
        return IMAGES.get(flavor);
    }

    Path dir() throws IOException {
        return Files.createDirectories(tmp.resolve(flavor.id()));
    }

    @Test
    void theBuildIsCataloguedWithChecksums() throws IOException {
        ImageInfo image = image();
        List<String> progress = PROGRESS.get(flavor);
        assertThat(new ImageCatalog(dir().resolve("images")).find("tiny")).contains(image);
        assertThat(image.rootfs()).isNull();
        assertThat(dev.vmctl.host.FileTree.sha256(Path.of(image.kernel()))).isEqualTo(image.kernelSha256());
        assertThat(dev.vmctl.host.FileTree.sha256(Path.of(image.initrd()))).isEqualTo(image.initrdSha256());
        assertThat(progress).contains("adding modules", "adding qemu-ga");
        assertThat(progress.getLast()).startsWith("built image tiny");
        List<CpioReader.Entry> entries = CpioReader.read(Files.readAllBytes(Path.of(image.initrd())));
        assertThat(entries).extracting(CpioReader.Entry::name).contains(
                "init", "bin/busybox", "bin/sh", "sbin/hwclock", "sbin/shutdown", "usr/sbin/qemu-ga", "usr/sbin/tc",
                "lib64/ld-linux-x86-64.so.2", "lib/modules/load-order",
                "etc/acpi/PWRF/00000080", "etc/passwd", "etc/group", "etc/hostname", "dev/console");
        String order = entries.stream().filter(e -> e.name().equals("lib/modules/load-order")).findFirst().orElseThrow().text();
        if (flavor == KernelFlavor.DEBIAN) {
            assertThat(image.os()).isEqualTo("busybox + Debian cloud kernel " + image.kernelVersion());
            assertThat(image.kernelVersion()).endsWith("-cloud-amd64");
            assertThat(progress).contains("extracting kernel " + image.kernelVersion());
            assertThat(entries).extracting(CpioReader.Entry::name).contains("lib/modules/virtio_net.ko", "lib/modules/virtio_pci.ko");
            assertThat(order.lines().toList()).containsSubsequence("virtio_ring", "virtio", "virtio_mmio", "virtio_pci",
                    "failover", "net_failover", "virtio_net", "virtio_blk", "virtio_console", "sch_netem", "evdev", "button");
            assertThat(order.lines().toList()).containsSubsequence("virtio_pci_modern_dev", "virtio_pci");
        } else {
            assertThat(image.kernelVersion()).matches("6\\.1\\.\\d+-vmctl");
            assertThat(image.os()).isEqualTo("busybox + vmctl kernel " + image.kernelVersion().replace("-vmctl", ""));
            assertThat(progress).contains("building the vmctl kernel").anyMatch(s -> s.startsWith("kernel "));
            assertThat(order).isEmpty();
            assertThat(entries).extracting(CpioReader.Entry::name).noneMatch(n -> n.endsWith(".ko"));
        }
    }

    /** The accelerator probe: the exact command line the VMM will use, under TCG. */
    @Test
    void probeBootReachesUserspaceAndPowersOff() throws Exception {
        Path console = dir().resolve("probe-console.log");
        List<String> argv = qemu(image(), console, "vmctl.hostname=t1 vmctl.probe=1");
        long t0 = System.nanoTime();
        QemuVm p = start(argv, dir().resolve("probe-qemu.log"));
        try {
            boolean exited = p.waitExit(Duration.ofSeconds(30));
            String log = Files.readString(console);
            assertThat(exited).as("qemu exits by itself within 30 s; console:%n%s", log).isTrue();
            assertThat(log.lines().map(String::strip)).as(log).contains("VMCTL_PROBE_OK");
            assertThat(p.exitCode()).isZero();
            System.out.printf("probe boot (%s kernel): qemu start to exit %.2f s%n", flavor.id(), (System.nanoTime() - t0) / 1e9);
        } finally {
            kill(p);
        }
    }

    /** A full boot: VMCTL_READY, the agent answers, guest-exec works, the NIC is configured, guest-shutdown ends QEMU. */
    @Test
    void fullBootWithAgentNetworkAndShutdown() throws Exception {
        Path console = dir().resolve("full-console.log");
        Path qga = dir().resolve("qga.sock");
        List<String> argv = new ArrayList<>(qemu(image(), console, "vmctl.hostname=t1 vmctl.ip0=10.0.2.15/24 vmctl.gw=10.0.2.2"));
        argv.addAll(List.of(
                "-device", "virtio-serial-device",
                "-chardev", "socket,id=qga0,path=" + qga + ",server=on,wait=off",
                "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
                "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"));
        long t0 = System.nanoTime();
        QemuVm p = start(argv, dir().resolve("full-qemu.log"));
        try {
            waitForLine(p, console, "VMCTL_READY", Duration.ofSeconds(30));
            System.out.printf("full boot (%s kernel): qemu start to VMCTL_READY %.2f s%n", flavor.id(), (System.nanoTime() - t0) / 1e9);
            try (Agent a = new Agent(qga)) {
                a.sync(Duration.ofSeconds(10));
                assertThat(a.call("guest-ping", null).has("return")).isTrue();
                assertThat(a.exec("/bin/uname", "-r").strip()).isEqualTo(image().kernelVersion());
                assertThat(a.exec("/bin/hostname").strip()).isEqualTo("t1");
                assertThat(a.exec("/sbin/ip", "addr", "show", "eth0")).contains("inet 10.0.2.15/24").contains("UP");
                assertThat(a.exec("/sbin/ip", "route")).contains("default via 10.0.2.2");
                a.exec("/usr/sbin/tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "5ms");
                assertThat(a.exec("/usr/sbin/tc", "qdisc", "show", "dev", "eth0")).contains("netem").contains("delay 5ms");
                ObjectNode time = JSON.createObjectNode().put("time", System.currentTimeMillis() * 1_000_000L);
                assertThat(a.call("guest-set-time", time).has("return")).as("guest-set-time (needs /sbin/hwclock)").isTrue();
                a.send("guest-shutdown", null); // no reply: the guest powers off
            }
            assertThat(p.waitExit(Duration.ofSeconds(30))).as("qemu exits after guest-shutdown").isTrue();
            assertThat(Files.readString(console)).contains("vmctl: shutdown: poweroff");
        } finally {
            kill(p);
        }
    }

    /** QMP system_powerdown presses the ACPI power button: acpid powers the guest off. */
    @Test
    void acpiPowerButtonPowersOff() throws Exception {
        Path console = dir().resolve("acpi-console.log");
        Path qmp = dir().resolve("qmp.sock");
        List<String> argv = new ArrayList<>(qemu(image(), console, "vmctl.hostname=t2"));
        argv.addAll(List.of("-qmp", "unix:" + qmp + ",server=on,wait=off"));
        QemuVm p = start(argv, dir().resolve("acpi-qemu.log"));
        try {
            waitForLine(p, console, "VMCTL_READY", Duration.ofSeconds(30));
            try (Agent q = new Agent(qmp)) {
                q.next(Duration.ofSeconds(10)); // greeting
                q.call("qmp_capabilities", null);
                q.call("system_powerdown", null);
            }
            assertThat(p.waitExit(Duration.ofSeconds(30))).as("qemu exits after system_powerdown").isTrue();
            assertThat(Files.readString(console)).contains("vmctl: ACPI power button");
        } finally {
            kill(p);
        }
    }

    /**
     * NIC hot-plug the way vmctl does it: microvm with pcie=on, a PCIe root port and pcie_ports=native;
     * QMP netdev_add (a tap in a namespace made for this test) + device_add virtio-net-pci on the port;
     * the guest's eth0 appears with the MAC and pings the tap's address (198.18.0.0/15 only).
     */
    @Test
    void aHotPluggedNicAppearsAndPassesTraffic() throws Exception {
        assumeTrue(Cmd.available("ip"), "iproute2 is not installed");
        assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")), "needs root (ip netns, tap)");
        String ns = "vmctl-t-" + Long.toHexString(ProcessHandle.current().pid()) + flavor.id().charAt(0);
        String tap = "vt" + flavor.id().charAt(0) + "0";
        String mac = "52:54:00:c6:12:0" + flavor.ordinal();
        Path console = dir().resolve("hotplug-console.log");
        Path qmp = dir().resolve("hp-qmp.sock");
        Path qga = dir().resolve("hp-qga.sock");
        Cmd.run("ip", "netns", "del", ns); // a leftover of a killed run
        QemuVm p = null;
        try {
            Cmd.check("ip", "netns", "add", ns);
            Cmd.check("ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap");
            Cmd.check("ip", "-n", ns, "addr", "add", "198.18.0.1/24", "dev", tap);
            Cmd.check("ip", "-n", ns, "link", "set", tap, "up");
            List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
            argv.addAll(qemu(image(), console, "vmctl.hostname=hp pcie_ports=native", "microvm,x-option-roms=off,rtc=on,pcie=on"));
            argv.addAll(List.of(
                    "-qmp", "unix:" + qmp + ",server=on,wait=off",
                    "-device", "virtio-serial-device",
                    "-chardev", "socket,id=qga0,path=" + qga + ",server=on,wait=off",
                    "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
                    "-device", "pcie-root-port,id=rp0,slot=0,chassis=1"));
            p = start(argv, dir().resolve("hotplug-qemu.log")); // ip netns exec execs qemu: p is QEMU itself
            waitForLine(p, console, "VMCTL_READY", Duration.ofSeconds(30));
            try (Agent q = new Agent(qmp); Agent a = new Agent(qga)) {
                q.next(Duration.ofSeconds(10)); // greeting
                q.call("qmp_capabilities", null);
                a.sync(Duration.ofSeconds(10));
                assertThat(a.exec("/bin/ls", "/sys/class/net").split("\\s+")).as("no NIC at boot").noneMatch(n -> n.startsWith("eth"));
                q.call("netdev_add", JSON.createObjectNode().put("type", "tap").put("id", "hp0").put("ifname", tap)
                        .put("script", "no").put("downscript", "no"));
                long t0 = System.nanoTime();
                q.call("device_add", JSON.createObjectNode().put("driver", "virtio-net-pci").put("netdev", "hp0")
                        .put("bus", "rp0").put("id", "hnic0").put("mac", mac));
                String address = null;
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (System.nanoTime() < deadline) {
                    address = a.execStatus("/bin/cat", "/sys/class/net/eth0/address");
                    if (address != null) break;
                    Thread.sleep(50);
                }
                assertThat(address).as("eth0 in the guest after device_add; console:%n%s", Files.readString(console))
                        .isNotNull().isEqualToIgnoringWhitespace(mac);
                System.out.printf("hot-plug (%s kernel): device_add to eth0 %.2f s%n", flavor.id(), (System.nanoTime() - t0) / 1e9);
                a.exec("/sbin/ip", "addr", "add", "198.18.0.2/24", "dev", "eth0");
                a.exec("/sbin/ip", "link", "set", "eth0", "up");
                assertThat(a.exec("/bin/ping", "-c", "1", "-W", "5", "198.18.0.1")).contains("1 packets received");
            }
        } finally {
            if (p != null) kill(p);
            Cmd.run("ip", "netns", "del", ns);
        }
    }

    // ---- helpers ----

    static List<String> qemu(ImageInfo image, Path console, String extraAppend) {
        return qemu(image, console, extraAppend, "microvm,x-option-roms=off,rtc=on");
    }

    static List<String> qemu(ImageInfo image, Path console, String extraAppend, String machine) {
        return List.of("qemu-system-x86_64",
                "-M", machine, "-accel", "tcg", "-cpu", "max", "-m", "128", "-smp", "1",
                "-nodefaults", "-no-user-config", "-nographic",
                "-kernel", image.kernel(), "-initrd", image.initrd(),
                "-append", "console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1 tsc=reliable"
                        + " no_timer_check" + tscKhz().map(k -> " tsc_early_khz=" + k).orElse("")
                        + " cryptomgr.notests " + extraAppend,
                "-chardev", "file,id=con0,path=" + console, "-serial", "chardev:con0");
    }

    /** The host TSC frequency in kHz from /proc/cpuinfo's first "cpu MHz" (avoids PIT calibration hangs under TCG). */
    static Optional<Long> tscKhz() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("cpu MHz"))
                    .findFirst()
                    .map(l -> Math.round(Double.parseDouble(l.substring(l.indexOf(':') + 1).strip()) * 1000));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** QEMU through vmm's QemuVm (the one way vmctl starts QEMU); its output goes to {@code log}'s folder's qemu.log. */
    static QemuVm start(List<String> argv, Path log) throws IOException {
        Path d = log.resolveSibling(log.getFileName().toString().replace(".log", ""));
        Files.createDirectories(d);
        return QemuVm.launchArgv(argv, new VmFiles(d));
    }

    static void kill(QemuVm p) {
        p.close();
    }

    static void waitForLine(QemuVm p, Path console, String marker, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(console) && Files.readString(console).lines().map(String::strip).anyMatch(marker::equals)) return;
            if (!p.alive()) break;
            Thread.sleep(10);
        }
        throw new AssertionError(marker + " not seen (qemu " + (p.alive() ? "running" : p.exitDescription())
                + "); console:\n" + (Files.exists(console) ? Files.readString(console) : "(none)"));
    }

    /** A minimal client for qemu-ga and QMP: newline-delimited JSON over a UNIX socket. */
    static final class Agent implements Closeable {
        private final SocketChannel ch;
        private final BlockingQueue<JsonNode> in = new LinkedBlockingQueue<>();

        Agent(Path socket) throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            SocketChannel c = null;
            while (c == null) {
                try {
                    c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(20);
                }
            }
            ch = c;
            Thread.ofVirtual().start(this::readLoop);
        }

        private void readLoop() {
            try (InputStream s = new BufferedInputStream(Channels.newInputStream(ch))) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                int b;
                while ((b = s.read()) >= 0) {
                    if (b == 0xff) continue; // guest-sync-delimited sentinel
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    String text = line.toString(StandardCharsets.UTF_8).strip();
                    line.reset();
                    if (text.isEmpty()) continue;
                    try {
                        in.add(JSON.readTree(text));
                    } catch (IOException ignored) {
                        // a partial line before the sync: skip
                    }
                }
            } catch (IOException ignored) {
                // closed
            }
        }

        void send(String execute, JsonNode args) throws IOException {
            ObjectNode m = JSON.createObjectNode().put("execute", execute);
            if (args != null) m.set("arguments", args);
            write(JSON.writeValueAsBytes(m));
            write(new byte[] {'\n'});
        }

        private void write(byte[] b) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) ch.write(buf);
        }

        JsonNode next(Duration timeout) throws InterruptedException {
            JsonNode n = in.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (n == null) throw new AssertionError("no message within " + timeout);
            return n;
        }

        /** Sends and returns the next reply that is not an event; fails on an error reply. */
        JsonNode call(String execute, JsonNode args) throws Exception {
            send(execute, args);
            while (true) {
                JsonNode r = next(Duration.ofSeconds(20));
                if (r.has("event")) continue;
                assertThat(r.has("error")).as("%s: %s", execute, r).isFalse();
                return r;
            }
        }

        /** guest-sync-delimited: discards whatever stale output precedes the matching reply. */
        void sync(Duration timeout) throws Exception {
            write(new byte[] {(byte) 0xff});
            long id = 4242;
            send("guest-sync-delimited", JSON.createObjectNode().put("id", id));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                JsonNode r = next(timeout);
                if (r.path("return").asLong(-1) == id) return;
            }
            throw new AssertionError("guest-sync-delimited not answered");
        }

        /** guest-exec with captured output; returns stdout and asserts exit code 0. */
        String exec(String path, String... args) throws Exception {
            return exec(true, path, args);
        }

        /** guest-exec with captured output; returns stdout, or null when the exit code is not 0. */
        String execStatus(String path, String... args) throws Exception {
            return exec(false, path, args);
        }

        private String exec(boolean mustSucceed, String path, String... args) throws Exception {
            ObjectNode a = JSON.createObjectNode().put("path", path).put("capture-output", true);
            var arr = a.putArray("arg");
            for (String s : args) arr.add(s);
            long pid = call("guest-exec", a).path("return").path("pid").asLong();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                JsonNode st = call("guest-exec-status", JSON.createObjectNode().put("pid", pid)).path("return");
                if (st.path("exited").asBoolean()) {
                    String out = new String(Base64.getDecoder().decode(st.path("out-data").asText("")), StandardCharsets.UTF_8);
                    String err = new String(Base64.getDecoder().decode(st.path("err-data").asText("")), StandardCharsets.UTF_8);
                    if (!mustSucceed) return st.path("exitcode").asInt(-1) == 0 ? out : null;
                    assertThat(st.path("exitcode").asInt(-1)).as("%s %s: %s", path, List.of(args), err).isZero();
                    return out;
                }
                Thread.sleep(10);
            }
            throw new AssertionError("guest-exec " + path + " did not finish");
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
