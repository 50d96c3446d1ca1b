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
            if (vm.awaitConsole(PROBE_MARKER, timeout)) {
                return done(true, "a KVM probe boot reached guest userspace", t0);
            }
            String why = vm.alive() ? "did not reach guest userspace within " + timeout.toSeconds() + " s"
                    : "failed (qemu exited: " + vm.exitDescription() + tail(vm.qemuLogTail(3)) + ")";
            return done(false, "using TCG: /dev/kvm is present but a KVM probe boot " + why, t0);
        } catch (RuntimeException e) {
            return done(false, "KVM probe failed (" + e.getMessage() + "): using TCG", t0);
        } finally {
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
