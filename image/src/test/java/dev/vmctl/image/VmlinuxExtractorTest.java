package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.image.VmlinuxExtractor.Compression;
import dev.vmctl.image.VmlinuxExtractor.Header;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class VmlinuxExtractorTest {
    @TempDir
    Path tmp;

    /** A bzImage-shaped file: header fields set, payload placed after the setup at payloadOffset. */
    static byte[] bzImage(int setupSects, int payloadOffset, byte[] payload, int version) {
        int setup = ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
        byte[] img = new byte[setup + payloadOffset + payload.length + 64];
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) setupSects);
        b.putInt(0x202, 0x53726448); // "HdrS"
        b.putShort(0x206, (short) version);
        b.putInt(0x248, payloadOffset);
        b.putInt(0x24c, payload.length);
        System.arraycopy(payload, 0, img, setup + payloadOffset, payload.length);
        return img;
    }

    /** A minimal ELF64 with one PT_NOTE holding a Xen note of the given type (18 = PVH entry). */
    static byte[] elf(int noteType) {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + 24 + 4000).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(0x10, (short) 2);  // ET_EXEC
        b.putShort(0x12, (short) 62); // x86-64
        b.putLong(0x20, 64);          // phoff
        b.putShort(0x34, (short) 64);
        b.putShort(0x36, (short) 56);
        b.putShort(0x38, (short) 1);
        b.putInt(64, 4);              // PT_NOTE
        b.putLong(64 + 0x08, 120);    // p_offset
        b.putLong(64 + 0x20, 24);     // p_filesz
        b.putInt(120, 4);             // namesz "Xen\0"
        b.putInt(124, 8);             // descsz
        b.putInt(128, noteType);
        b.put(132, "Xen\0".getBytes(StandardCharsets.US_ASCII));
        b.putLong(136, 0x1000000L);
        for (int i = 144; i < b.capacity(); i++) b.put(i, (byte) (i * 7)); // some body
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** Compresses with a command-line tool and appends the size, as the kernel build does. */
    static byte[] compressToFile(Path tmp, byte[] data, String... argv) throws IOException {
        Path out = tmp.resolve("c" + System.nanoTime());
        var r = Cmd.run(List.of(argv), data, out, Duration.ofSeconds(30));
        assertThat(r.ok()).as(r.stderr()).isTrue();
        byte[] c = Files.readAllBytes(out);
        ByteBuffer b = ByteBuffer.allocate(c.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(c).putInt(data.length);
        return b.array();
    }

    @Test
    void parsesSetupSizeAndPayloadLocation() {
        byte[] img = bzImage(27, 716, new byte[100], 0x20f);
        Header h = VmlinuxExtractor.parseHeader(img, img.length);
        assertThat(h.setupSize()).isEqualTo(28 * 512);
        assertThat(h.payloadOffset()).isEqualTo(716);
        assertThat(h.payloadLength()).isEqualTo(100);
        assertThat(h.payloadStart()).isEqualTo(28 * 512 + 716);
    }

    @Test
    void setupSectsZeroMeansFour() {
        byte[] img = bzImage(0, 0, new byte[16], 0x20f);
        assertThat(VmlinuxExtractor.parseHeader(img, img.length).setupSize()).isEqualTo(5 * 512);
    }

    @Test
    void rejectsFilesThatAreNotBzImages() {
        assertThatThrownBy(() -> VmlinuxExtractor.parseHeader(new byte[100], 100))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessageContaining("too short");
        byte[] noSig = new byte[4096];
        assertThatThrownBy(() -> VmlinuxExtractor.parseHeader(noSig, noSig.length)).hasMessageContaining("HdrS");
        byte[] old = bzImage(4, 0, new byte[16], 0x204);
        assertThatThrownBy(() -> VmlinuxExtractor.parseHeader(old, old.length)).hasMessageContaining("2.4");
        byte[] img = bzImage(4, 0, new byte[16], 0x20f);
        ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN).putInt(0x24c, 1 << 30);
        assertThatThrownBy(() -> VmlinuxExtractor.parseHeader(img, img.length)).hasMessageContaining("outside the file");
    }

    @Test
    void detectsCompressionByMagic() {
        assertThat(VmlinuxExtractor.detect(bytes(0x02, 0x21, 0x4c, 0x18, 0, 0))).isEqualTo(Compression.LZ4_LEGACY);
        assertThat(VmlinuxExtractor.detect(bytes(0x04, 0x22, 0x4d, 0x18, 0, 0))).isEqualTo(Compression.LZ4_FRAME);
        assertThat(VmlinuxExtractor.detect(bytes(0x28, 0xb5, 0x2f, 0xfd, 0, 0))).isEqualTo(Compression.ZSTD);
        assertThat(VmlinuxExtractor.detect(bytes(0x1f, 0x8b, 8, 0, 0, 0))).isEqualTo(Compression.GZIP);
        assertThat(VmlinuxExtractor.detect(bytes(0xfd, '7', 'z', 'X', 'Z', 0))).isEqualTo(Compression.XZ);
        assertThat(Compression.LZ4_LEGACY.command()).containsExactly("lz4", "-dc");
        assertThatThrownBy(() -> VmlinuxExtractor.detect(bytes(1, 2, 3, 4, 5, 6)))
                .isInstanceOf(VmctlException.class).hasMessageContaining("unknown payload compression")
                .hasMessageContaining("010203040506");
    }

    @Test
    void extractsAGzipPayload() throws IOException {
        assumeTrue(Cmd.available("gzip"));
        byte[] elf = elf(18);
        Path bz = tmp.resolve("vmlinuz");
        Files.write(bz, bzImage(27, 300, gzip(elf), 0x20f));
        Path out = tmp.resolve("out/vmlinux");
        assertThat(VmlinuxExtractor.extract(bz, out)).isEqualTo(Compression.GZIP);
        assertThat(Files.readAllBytes(out)).isEqualTo(elf);
        assertThat(out.resolveSibling("vmlinux.tmp")).doesNotExist();
    }

    @Test
    void extractsLz4AndZstdPayloadsWithTheAppendedSize() throws IOException {
        byte[] elf = elf(18);
        if (Cmd.available("lz4")) {
            Path bz = tmp.resolve("lz4.bz");
            Files.write(bz, bzImage(30, 700, compressToFile(tmp, elf, "lz4", "-l", "-c", "-q"), 0x20f));
            assertThat(VmlinuxExtractor.extract(bz, tmp.resolve("v1"))).isEqualTo(Compression.LZ4_LEGACY);
            assertThat(Files.readAllBytes(tmp.resolve("v1"))).isEqualTo(elf);
        }
        if (Cmd.available("zstd")) {
            Path bz = tmp.resolve("zstd.bz");
            Files.write(bz, bzImage(30, 700, compressToFile(tmp, elf, "zstd", "-c", "-q"), 0x20f));
            assertThat(VmlinuxExtractor.extract(bz, tmp.resolve("v2"))).isEqualTo(Compression.ZSTD);
            assertThat(Files.readAllBytes(tmp.resolve("v2"))).isEqualTo(elf);
        }
    }

    @Test
    void refusesAPayloadThatIsNotElfOrHasNoPvhNote() throws IOException {
        assumeTrue(Cmd.available("gzip"));
        Path notElf = tmp.resolve("a");
        Files.write(notElf, bzImage(4, 0, gzip("just text, not a kernel".getBytes(StandardCharsets.UTF_8)), 0x20f));
        assertThatThrownBy(() -> VmlinuxExtractor.extract(notElf, tmp.resolve("va")))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INTERNAL))
                .hasMessageContaining("not an ELF file");
        Path noPvh = tmp.resolve("b");
        Files.write(noPvh, bzImage(4, 0, gzip(elf(17)), 0x20f));
        assertThatThrownBy(() -> VmlinuxExtractor.extract(noPvh, tmp.resolve("vb"))).hasMessageContaining("PVH");
        assertThat(tmp.resolve("va")).doesNotExist();
        assertThat(tmp.resolve("vb")).doesNotExist();
    }

    @Test
    void extractsTheInstalledDebianKernel() throws IOException {
        Optional<String> kver = TinyImageBuilder.newestCloudKernel(Path.of("/boot"));
        assumeTrue(kver.isPresent() && Files.isReadable(Path.of("/boot/vmlinuz-" + kver.get())), "no Debian cloud kernel");
        Path out = tmp.resolve("vmlinux");
        Compression c = VmlinuxExtractor.extract(Path.of("/boot/vmlinuz-" + kver.get()), out);
        assertThat(c).isNotNull();
        Elf.Info info = Elf.read(out);
        assertThat(info.pvhEntry()).isTrue();
        assertThat(Files.size(out)).isGreaterThan(10L << 20);
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }
}
