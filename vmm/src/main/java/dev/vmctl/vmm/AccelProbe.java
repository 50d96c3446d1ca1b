package dev.vmctl.vmm;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
        try {
            Files.createDirectories(scratch);
            Path console = scratch.resolve("probe-console.log");
            Files.deleteIfExists(console);
            List<String> argv = new ArrayList<>(List.of(QemuCommand.QEMU,
                    "-machine", "microvm,x-option-roms=off,rtc=on", "-accel", "kvm", "-cpu", "host",
                    "-m", "128M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                    "-kernel", kernel, "-initrd", initrd,
                    "-append", QemuCommand.kernelCmdline("probe", false, "vmctl.probe=1"),
                    "-chardev", "file,id=con0,path=" + console, "-serial", "chardev:con0"));
            CmdResult r = Cmd.run(argv, null, null, timeout);
            String out = Files.exists(console) ? Files.readString(console) : "";
            if (out.contains(PROBE_MARKER)) {
                return done(true, "a KVM probe boot reached guest userspace", t0);
            }
            String why = r.exitCode() == 124 ? "did not reach guest userspace within " + timeout.toSeconds() + " s"
                    : "failed (qemu exited " + r.exitCode() + tail(r.stderr()) + ")";
            return done(false, "using TCG: /dev/kvm is present but a KVM probe boot " + why, t0);
        } catch (IOException e) {
            return done(false, "KVM probe failed (" + e.getMessage() + "): using TCG", t0);
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
