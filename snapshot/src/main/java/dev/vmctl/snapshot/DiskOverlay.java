package dev.vmctl.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Copy-on-write disks: a qcow2 overlay on a shared, read-only base ({@code qemu-img create -f qcow2 -b BASE
 * -F raw|qcow2 OVERLAY}). Every VM and every clone gets its own overlay; the base is never written.
 * The overlay records the base by absolute path.
 */
public final class DiskOverlay {
    public static final Set<String> FORMATS = Set.of("raw", "qcow2");
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    private DiskOverlay() {}

    /** What {@code qemu-img info} says about an image. */
    public record Info(String format, long virtualSize, long actualSize, String backingFile, String backingFormat) {}

    /**
     * Creates {@code overlay} (must not exist) as a qcow2 image backed by {@code base} in {@code baseFormat}.
     * Both paths are made absolute; the base must exist (its size becomes the overlay's).
     *
     * @throws VmctlException INVALID (format, missing base), CONFLICT (overlay exists), UNAVAILABLE (no
     *                        qemu-img), INTERNAL (qemu-img failed: its message is included)
     */
    public static Info create(Path base, String baseFormat, Path overlay) {
        if (!FORMATS.contains(baseFormat)) throw VmctlException.invalid("disk base format", "'" + baseFormat + "'", "raw, qcow2");
        Path b = base.toAbsolutePath().normalize();
        Path o = overlay.toAbsolutePath().normalize();
        if (!Files.isRegularFile(b)) throw VmctlException.invalid("disk base", b + " does not exist", "an existing image file");
        if (Files.exists(o, LinkOption.NOFOLLOW_LINKS)) throw VmctlException.conflict("disk overlay " + o + " already exists", null);
        if (!Files.isDirectory(o.getParent())) throw VmctlException.invalid("disk overlay", o.getParent() + " does not exist", "an existing directory");
        requireQemuImg();
        CmdResult r = Cmd.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", b.toString(), "-F", baseFormat,
                o.toString()), null, null, TIMEOUT);
        if (!r.ok()) {
            try {
                Files.deleteIfExists(o);
            } catch (IOException ignored) {
                // nothing more to do
            }
            throw new VmctlException(Kind.INTERNAL, "create disk overlay " + o + ": " + r.stderrTail(), null);
        }
        return info(o);
    }

    /** {@code qemu-img info --output=json -U} (-U: also works while a QEMU holds the image). */
    public static Info info(Path image) {
        requireQemuImg();
        Path p = image.toAbsolutePath().normalize();
        CmdResult r = Cmd.run(List.of("qemu-img", "info", "-U", "--output=json", "--", p.toString()), null, null, TIMEOUT);
        if (!r.ok()) throw new VmctlException(Kind.INTERNAL, "qemu-img info " + p + ": " + r.stderrTail(), null);
        try {
            JsonNode n = JSON.readTree(r.stdout());
            return new Info(n.path("format").asText(null), n.path("virtual-size").asLong(-1), n.path("actual-size").asLong(-1),
                    n.hasNonNull("full-backing-filename") ? n.get("full-backing-filename").asText()
                            : n.path("backing-filename").asText(null),
                    n.path("backing-filename-format").asText(null));
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "qemu-img info " + p + ": output is not JSON", null, e);
        }
    }

    /**
     * The virtual size of a qcow2 image read from its header (bytes 24..31, big-endian, after the magic
     * {@code QFI\xfb}): no {@code qemu-img} process, for the paths where tens of milliseconds count (a warm start).
     *
     * @return the size in bytes, or -1 when {@code image} is missing, short or not qcow2
     */
    public static long qcow2VirtualSize(Path image) {
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(32); // big-endian by default, as qcow2 is
            while (b.hasRemaining() && ch.read(b) > 0) {
                // read the whole header prefix
            }
            if (b.hasRemaining() || b.getInt(0) != 0x514649fb) return -1;
            return b.getLong(24);
        } catch (IOException e) {
            return -1;
        }
    }

    private static void requireQemuImg() {
        if (!Cmd.available("qemu-img")) {
            throw new VmctlException(Kind.UNAVAILABLE, "qemu-img is not installed", "install the Debian package qemu-utils");
        }
    }
}
