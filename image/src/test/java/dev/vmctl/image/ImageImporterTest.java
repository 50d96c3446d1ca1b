package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What image import accepts, and the errors that name the flag and what is wrong. */
class ImageImporterTest {

    @Test
    void kernelKinds(@TempDir Path d) throws Exception {
        byte[] bz = new byte[0x300];
        ByteBuffer.wrap(bz).order(ByteOrder.LITTLE_ENDIAN).putInt(0x202, 0x53726448);
        Files.write(d.resolve("bzImage"), bz);
        assertThat(ImageImporter.kernelKind(d.resolve("bzImage"))).isEqualTo("bzimage");
        Files.write(d.resolve("junk"), new byte[]{1, 2, 3});
        assertThatThrownBy(() -> ImageImporter.kernelKind(d.resolve("junk"))).isInstanceOf(VmctlException.class)
                .hasMessageContaining("kernel").hasMessageContaining("neither an ELF vmlinux nor a bzImage");
        byte[] elf32 = new byte[64];
        System.arraycopy(Elf.MAGIC, 0, elf32, 0, 4);
        elf32[4] = 1;
        Files.write(d.resolve("elf32"), elf32);
        assertThatThrownBy(() -> ImageImporter.kernelKind(d.resolve("elf32"))).hasMessageContaining("not a 64-bit");
        assertThatThrownBy(() -> ImageImporter.kernelKind(d.resolve("missing"))).hasMessageContaining("kernel")
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ImageImporter.kernelKind(Path.of("relative/vmlinux"))).hasMessageContaining("not an absolute path");
    }

    @Test
    void rootfsFormats(@TempDir Path d) throws Exception {
        byte[] ext4 = new byte[4096];
        ext4[1024 + 0x38] = 0x53;
        ext4[1024 + 0x39] = (byte) 0xef;
        Files.write(d.resolve("fs.ext4"), ext4);
        assertThat(ImageImporter.rootfsFormat(d.resolve("fs.ext4"))).isEqualTo(ImageImporter.RootfsFormat.EXT4);
        Files.write(d.resolve("d.qcow2"), new byte[]{'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3});
        assertThat(ImageImporter.rootfsFormat(d.resolve("d.qcow2"))).isEqualTo(ImageImporter.RootfsFormat.QCOW2);
        byte[] mbr = new byte[4096];
        mbr[510] = 0x55;
        mbr[511] = (byte) 0xaa;
        Files.write(d.resolve("disk.raw"), mbr);
        assertThatThrownBy(() -> ImageImporter.rootfsFormat(d.resolve("disk.raw"))).hasMessageContaining("rootfs")
                .hasMessageContaining("partitioned");
        Files.write(d.resolve("zero"), new byte[4096]);
        assertThatThrownBy(() -> ImageImporter.rootfsFormat(d.resolve("zero"))).hasMessageContaining("neither an ext4");
    }

    @Test
    void anExt4WithoutAnAgentIsRefused(@TempDir Path d) throws Exception {
        Assumptions.assumeTrue(Cmd.available("mkfs.ext4") && Cmd.available("debugfs"), "e2fsprogs (mkfs.ext4, debugfs) not installed");
        Path tree = d.resolve("tree");
        Files.createDirectories(tree.resolve("sbin"));
        Files.writeString(tree.resolve("sbin/init"), "#!/bin/sh\n");
        Path img = d.resolve("root.ext4");
        assertThat(Cmd.run(DebianImageBuilder.mkfsArgv(tree, img, 16)).ok()).isTrue();
        assertThat(ImageImporter.rootfsFormat(img)).isEqualTo(ImageImporter.RootfsFormat.EXT4);
        assertThatThrownBy(() -> ImageImporter.checkExt4Tree(img)).hasMessageContaining("rootfs").hasMessageContaining("/usr/sbin/qemu-ga");
        Files.createDirectories(tree.resolve("usr/sbin"));
        Files.writeString(tree.resolve("usr/sbin/qemu-ga"), "x");
        Path img2 = d.resolve("root2.ext4");
        assertThat(Cmd.run(DebianImageBuilder.mkfsArgv(tree, img2, 16)).ok()).isTrue();
        ImageImporter.checkExt4Tree(img2);
        // the whole import: an ELF without a PVH note is refused before anything is copied
        Path vmlinux = d.resolve("vmlinux");
        Files.copy(Path.of("/bin/true"), vmlinux);
        ImageCatalog cat = new ImageCatalog(d.resolve("images"));
        assertThatThrownBy(() -> new ImageImporter(d.resolve("images"), cat).importImage(
                new ImageImporter.Request("mine", vmlinux, img2, null, null), null)).hasMessageContaining("PVH");
        assertThat(cat.list()).isEmpty();
        assertThat(List.of()).isEmpty();
    }
}
