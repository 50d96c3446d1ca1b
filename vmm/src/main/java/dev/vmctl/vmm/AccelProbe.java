package dev.vmctl.vmm;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Decides between KVM and TCG by experiment: KVM is chosen only when a probe boot of the real guest
 * kernel under {@code -accel kvm} reaches userspace (the init prints VMCTL_PROBE_OK). A /dev/kvm that
 * exists but cannot boot stock kernels (nested paravirtual KVM) therefore falls back to TCG.
 */
public final class AccelProbe {
    public static final String PROBE_MARKER = "VMCTL_PROBE_OK";

    public record Result(boolean kvm, String reason, String probedAt, long probeMillis) {
        public String accel() { return kvm ? "kvm" : "tcg"; }
    }

    private AccelProbe() {}

    /** Probes booting now, by scratch folder: a server that stops ends its probe's QEMU ({@link #stop}). */
    private static final java.util.Map<Path, QemuVm> LIVE = new java.util.concurrent.ConcurrentHashMap<>();

    /** Ends the probe QEMU booting in {@code scratch}, if any (the server is stopping). */
    public static void stop(Path scratch) {
        QemuVm vm = LIVE.remove(scratch);
        if (vm != null) vm.close();
    }

    /**
     * A probe QEMU a server left when it died mid-probe (its pid file is still in {@code scratch}): ended, if the process
     * with that pid is a QEMU of this scratch folder. Returns whether one was.
     */
    public static boolean removeLeftover(Path scratch) {
        Path pidFile = new VmFiles(scratch.resolve("probe")).pidFile();
        try {
            if (!Files.exists(pidFile)) return false;
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            boolean ours = dev.vmctl.host.Procs.cmdline(pid)
                    .map(args -> String.join(" ", args).contains(scratch.resolve("probe").toString())).orElse(false);
            if (ours) dev.vmctl.host.Procs.terminate(pid, Duration.ofSeconds(2));
            dev.vmctl.host.FileTree.delete(scratch.resolve("probe"));
            return ours;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    public static Result probe(String kernel, String initrd, Path scratch, Duration timeout) {
        Instant t0 = Instant.now();
        Path kvm = Path.of("/dev/kvm");
        if (!Files.exists(kvm)) return done(false, "/dev/kvm does not exist: using TCG (software emulation)", t0);
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return done(false, "/dev/kvm is not readable and writable by this user: using TCG", t0);
        }
        VmFiles files = new VmFiles(scratch.resolve("probe"));
        try {
            if (Files.exists(files.dir())) dev.vmctl.host.FileTree.delete(files.dir());
            Files.createDirectories(files.dir());
        } catch (IOException e) {
            return done(false, "KVM probe failed (" + e.getMessage() + "): using TCG", t0);
        }
        QemuCommand.Spec spec = new QemuCommand.Spec("probe", "probe", 1, 128, true, kernel, initrd, "vmctl.probe=1", files);
        try (QemuVm vm = QemuVm.launch(List.of(), spec)) {
            LIVE.put(scratch, vm);
            if (vm.awaitConsole(PROBE_MARKER, timeout)) {
                return done(true, "a KVM probe boot reached guest userspace", t0);
            }
            String why = vm.alive() ? "did not reach guest userspace within " + timeout.toSeconds() + " s"
                    : "failed (qemu exited: " + vm.exitDescription() + tail(vm.qemuLogTail(3)) + ")";
            return done(false, "using TCG: /dev/kvm is present but a KVM probe boot " + why, t0);
        } catch (RuntimeException e) {
            return done(false, "KVM probe failed (" + e.getMessage() + "): using TCG", t0);
        } finally {
            LIVE.remove(scratch);
            try {
                dev.vmctl.host.FileTree.delete(files.dir());
            } catch (IOException ignored) {
                // scratch space: removed with the next probe
            }
        }
    }

    private static String tail(String s) {
        String t = s.strip().replace('\n', ' ');
        if (t.isEmpty()) return "";
        return ": " + (t.length() > 200 ? t.substring(0, 200) + "…" : t);
    }

    private static Result done(boolean kvm, String reason, Instant t0) {
        return new Result(kvm, reason, Instant.now().toString(), Duration.between(t0, Instant.now()).toMillis());
    }
}
