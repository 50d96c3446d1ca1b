package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Extracts the uncompressed ELF {@code vmlinux} from an x86 bzImage (e.g. Debian's {@code /boot/vmlinuz-*}),
 * for a direct PVH boot (QEMU {@code -kernel vmlinux}, which skips the real-mode decompressor).
 *
 * <p>bzImage layout (Documentation/arch/x86/boot.rst): the real-mode setup is {@code (setup_sects + 1) * 512}
 * bytes, {@code setup_sects} being the byte at 0x1f1 (0 means 4); the protected-mode part follows, and the
 * compressed kernel lies in it at {@code payload_offset} (u32 at 0x248) for {@code payload_length} (u32 at
 * 0x24c) bytes. The kernel build appends the uncompressed size as a little-endian u32 to every payload
 * (gzip carries it as its own ISIZE trailer); that size is checked against the result.
 */
public final class VmlinuxExtractor {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(3);

    /** Payload compressions, each with the tool that decompresses it and the Debian package that ships the tool. */
    public enum Compression {
        LZ4_LEGACY("lz4", "lz4", true, "lz4", "-dc"),
        LZ4_FRAME("lz4", "lz4", true, "lz4", "-dc"),
        ZSTD("zstd", "zstd", true, "zstd", "-dcq"),
        GZIP("gzip", "gzip", false, "gzip", "-dc"),
        XZ("xz", "xz-utils", true, "xz", "-dc"),
        LZMA("lzma", "xz-utils", true, "xz", "--format=lzma", "-dc"),
        BZIP2("bzip2", "bzip2", true, "bzip2", "-dc");

        private final String label;
        private final String debianPackage;
        private final boolean sizeAppended;
        private final List<String> argv;

        Compression(String label, String debianPackage, boolean sizeAppended, String... argv) {
            this.label = label;
            this.debianPackage = debianPackage;
            this.sizeAppended = sizeAppended;
            this.argv = List.of(argv);
        }

        public String label() { return label; }
        public String debianPackage() { return debianPackage; }
        /** The command (argv) that decompresses stdin to stdout. */
        public List<String> command() { return argv; }
        /** True when the kernel build appended the uncompressed size after the compressed stream. */
        boolean sizeAppended() { return sizeAppended; }
    }

    /**
     * The parts of the bzImage header that locate the payload.
     *
     * @param setupSize     bytes of real-mode setup before the protected-mode part
     * @param payloadOffset offset of the compressed payload, relative to the end of the setup
     * @param payloadLength length of the compressed payload
     */
    public record Header(int setupSize, long payloadOffset, long payloadLength) {
        /** Absolute file offset of the payload. */
        public long payloadStart() { return setupSize + payloadOffset; }
    }

    private VmlinuxExtractor() {}

    /**
     * Parses the boot header of a bzImage.
     *
     * @param image the file's bytes (at least the first 0x250; the payload bounds are checked against
     *              {@code fileSize})
     * @throws VmctlException (INVALID) when this is not a bzImage with boot protocol 2.08 or newer
     */
    public static Header parseHeader(byte[] image, long fileSize) {
        if (image.length < 0x250) throw invalid("file too short for a bzImage header (" + image.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0x202) != 0x53726448) throw invalid("no 'HdrS' boot header signature at 0x202 (not an x86 bzImage)");
        int version = Short.toUnsignedInt(b.getShort(0x206));
        if (version < 0x208) {
            throw invalid("boot protocol " + (version >> 8) + "." + (version & 0xff)
                    + " has no payload fields (needs 2.08 or newer)");
        }
        int setupSects = Byte.toUnsignedInt(b.get(0x1f1));
        if (setupSects == 0) setupSects = 4;
        int setupSize = (setupSects + 1) * 512;
        long payloadOffset = Integer.toUnsignedLong(b.getInt(0x248));
        long payloadLength = Integer.toUnsignedLong(b.getInt(0x24c));
        Header h = new Header(setupSize, payloadOffset, payloadLength);
        if (payloadLength < 8 || h.payloadStart() + payloadLength > fileSize) {
            throw invalid("payload (offset " + h.payloadStart() + ", length " + payloadLength
                    + ") lies outside the file (" + fileSize + " bytes)");
        }
        return h;
    }

    /** Recognises the payload's compression by its magic bytes; throws VmctlException (INVALID) for others. */
    public static Compression detect(byte[] head) {
        if (startsWith(head, 0x02, 0x21, 0x4c, 0x18)) return Compression.LZ4_LEGACY;
        if (startsWith(head, 0x04, 0x22, 0x4d, 0x18)) return Compression.LZ4_FRAME;
        if (startsWith(head, 0x28, 0xb5, 0x2f, 0xfd)) return Compression.ZSTD;
        if (startsWith(head, 0x1f, 0x8b)) return Compression.GZIP;
        if (startsWith(head, 0xfd, '7', 'z', 'X', 'Z', 0x00)) return Compression.XZ;
        if (startsWith(head, 0x5d, 0x00, 0x00)) return Compression.LZMA;
        if (startsWith(head, 'B', 'Z', 'h')) return Compression.BZIP2;
        throw invalid("unknown payload compression (magic " + hex(head, 6) + ")");
    }

    /**
     * Writes the ELF vmlinux inside {@code bzImage} to {@code vmlinux} (replacing it; written to a
     * temporary file beside it first).
     *
     * @return the compression the payload had
     * @throws VmctlException INVALID for a file that is not a usable bzImage, UNAVAILABLE when the
     *                        decompression tool is missing (names its Debian package), INTERNAL when
     *                        decompression fails or does not yield a PVH-bootable ELF file
     */
    public static Compression extract(Path bzImage, Path vmlinux) {
        byte[] image;
        try {
            image = Files.readAllBytes(bzImage);
        } catch (IOException e) {
            throw new VmctlException(Kind.INVALID, "extract vmlinux: " + bzImage + ": cannot read: " + e.getMessage(), null, e);
        }
        Header h;
        Compression c;
        try {
            h = parseHeader(image, image.length);
            byte[] head = Arrays.copyOfRange(image, (int) h.payloadStart(), (int) Math.min(image.length, h.payloadStart() + 8));
            c = detect(head);
        } catch (VmctlException e) {
            throw new VmctlException(e.kind(), "extract vmlinux: " + bzImage + ": " + e.getMessage(), e.detail(), e);
        }
        int start = (int) h.payloadStart();
        int end = (int) (start + h.payloadLength());
        long expected = Integer.toUnsignedLong(ByteBuffer.wrap(image, end - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        byte[] payload = Arrays.copyOfRange(image, start, c.sizeAppended() ? end - 4 : end);
        image = null; // let the 10+ MB go before the tool runs

        String tool = c.command().getFirst();
        if (!Cmd.available(tool)) {
            throw new VmctlException(Kind.UNAVAILABLE, "extract vmlinux: " + bzImage + ": the payload is " + c.label()
                    + "-compressed and '" + tool + "' is not installed",
                    "install the Debian package " + c.debianPackage());
        }
        Path tmp = vmlinux.resolveSibling(vmlinux.getFileName() + ".tmp");
        try {
            Files.createDirectories(vmlinux.toAbsolutePath().getParent());
            CmdResult r = Cmd.run(c.command(), payload, tmp, TOOL_TIMEOUT);
            if (!r.ok()) {
                throw new VmctlException(Kind.INTERNAL, "extract vmlinux: " + bzImage + ": " + String.join(" ", c.command())
                        + " failed with exit " + r.exitCode(), r.stderrTail());
            }
            long size = Files.size(tmp);
            if (size != expected) {
                throw new VmctlException(Kind.INTERNAL, "extract vmlinux: " + bzImage + ": decompressed " + size
                        + " bytes but the image says " + expected, null);
            }
            byte[] magic = new byte[4];
            try (InputStream in = Files.newInputStream(tmp)) {
                in.readNBytes(magic, 0, 4);
            }
            if (!Elf.hasMagic(magic)) {
                throw new VmctlException(Kind.INTERNAL, "extract vmlinux: " + bzImage + ": the decompressed payload is not an ELF file"
                        + " (starts with " + hex(magic, 4) + ")", null);
            }
            if (!Elf.read(tmp).pvhEntry()) {
                throw new VmctlException(Kind.INTERNAL, "extract vmlinux: " + bzImage
                        + ": the kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); QEMU cannot boot it directly",
                        "a kernel built with CONFIG_PVH=y is needed");
            }
            Files.move(tmp, vmlinux, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return c;
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "extract vmlinux: " + bzImage + ": " + e.getMessage(), null, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private static boolean startsWith(byte[] b, int... magic) {
        if (b.length < magic.length) return false;
        for (int i = 0; i < magic.length; i++) if ((b[i] & 0xff) != magic[i]) return false;
        return true;
    }

    private static String hex(byte[] b, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(n, b.length); i++) s.append(String.format("%02x", b[i] & 0xff));
        return s.toString();
    }

    private static VmctlException invalid(String message) {
        return new VmctlException(Kind.INVALID, message, null);
    }
}
