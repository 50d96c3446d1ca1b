package dev.vmctl.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmSpec.Accel;
import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.AccelProbe;
import dev.vmctl.vmm.QemuInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chooses the accelerator for each boot. The server's mode (--accel) is the default; a VM may override
 * it. "auto" runs {@link AccelProbe} once per (QEMU version, guest kernel) and remembers the answer in
 * the data directory, so a restart does not probe again.
 */
public final class AccelService {
    public record Decision(boolean kvm, String reason) {
        public String accel() { return kvm ? "kvm" : "tcg"; }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final DataDir dir;
    private final Accel mode;
    private final Map<String, AccelProbe.Result> probes = new ConcurrentHashMap<>();
    private volatile String qemuVersion;

    public AccelService(DataDir dir, Accel mode) {
        this.dir = dir;
        this.mode = mode;
        // a probe QEMU of a server that died mid-probe (nested KVM can hang there): ended, its folder removed
        if (AccelProbe.removeLeftover(dir.root().resolve("probe"))) {
            org.slf4j.LoggerFactory.getLogger(AccelService.class).info("ended a KVM probe QEMU left by an earlier server");
        }
    }

    /** The server stops: a probe booting now ends with it (else its QEMU outlives the server). */
    public void close() {
        AccelProbe.stop(dir.root().resolve("probe"));
    }

    public Accel mode() { return mode; }

    public String qemuVersion() {
        if (qemuVersion == null) qemuVersion = QemuInfo.version();
        return qemuVersion;
    }

    /** The last probe result, if any (for doctor). */
    public AccelProbe.Result lastProbe() {
        return probes.values().stream().findFirst().orElseGet(this::loadSaved);
    }

    public Decision decide(Accel requested, ImageInfo image) {
        Accel a = requested == null || requested == Accel.AUTO ? mode : requested;
        switch (a) {
            case TCG:
                return new Decision(false, requested == Accel.TCG ? "requested for this VM" : "server started with --accel tcg");
            case KVM:
                if (!Files.isWritable(Path.of("/dev/kvm"))) {
                    throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "accel kvm: /dev/kvm is missing or not writable",
                            "use accel auto or tcg");
                }
                return new Decision(true, requested == Accel.KVM ? "requested for this VM" : "server started with --accel kvm");
            default:
                AccelProbe.Result r = probe(image);
                return new Decision(r.kvm(), r.reason());
        }
    }

    public AccelProbe.Result probe(ImageInfo image) {
        String key = qemuVersion() + "|" + image.kernelSha256();
        return probes.computeIfAbsent(key, k -> {
            AccelProbe.Result saved = loadSaved(k);
            if (saved != null) return saved;
            AccelProbe.Result r = AccelProbe.probe(image.kernel(), image.initrd(), dir.root().resolve("probe"), Duration.ofSeconds(15));
            save(k, r);
            return r;
        });
    }

    private AccelProbe.Result loadSaved() {
        return loadSaved(null);
    }

    private AccelProbe.Result loadSaved(String key) {
        Path f = dir.hostProbe();
        if (!Files.exists(f)) return null;
        try {
            var n = JSON.readTree(f.toFile());
            if (key != null && !key.equals(n.path("key").asText())) return null;
            return new AccelProbe.Result(n.path("kvm").asBoolean(), n.path("reason").asText(),
                    n.path("probedAt").asText(), n.path("probeMillis").asLong());
        } catch (IOException e) {
            return null;
        }
    }

    private void save(String key, AccelProbe.Result r) {
        try {
            Path tmp = dir.hostProbe().resolveSibling("host-probe.json.tmp");
            JSON.writeValue(tmp.toFile(), Map.of("key", key, "kvm", r.kvm(), "reason", r.reason(),
                    "probedAt", r.probedAt(), "probeMillis", r.probeMillis()));
            Files.move(tmp, dir.hostProbe(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException ignored) {
            // the probe runs again next time
        }
    }
}
