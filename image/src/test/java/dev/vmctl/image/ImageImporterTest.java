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

    /**
     * A rootfs .tar: recognised by its header, unpacked with owners and modes and written as an ext4 by mkfs.ext4 -d
     * (read back with debugfs); one without an agent is refused naming rootfs and what is missing.
     */
    @Test
    void aRootfsTarBecomesAnExt4(@TempDir Path d) throws Exception {
        Assumptions.assumeTrue(Cmd.available("mkfs.ext4") && Cmd.available("debugfs") && Cmd.available("tar"), "e2fsprogs and tar");
        Path tree = d.resolve("src");
        Files.createDirectories(tree.resolve("sbin"));
        Files.createDirectories(tree.resolve("usr/sbin"));
        Files.createDirectories(tree.resolve("etc"));
        Files.writeString(tree.resolve("sbin/init"), "#!/bin/sh\n");
        Files.writeString(tree.resolve("etc/motd"), "hello from a tar\n");
        Files.setPosixFilePermissions(tree.resolve("sbin/init"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-x---"));
        Cmd.check("tar", "-c", "-f", d.resolve("noagent.tar").toString(), "-C", tree.toString(), ".");
        assertThat(ImageImporter.rootfsFormat(d.resolve("noagent.tar"))).isEqualTo(ImageImporter.RootfsFormat.TAR);
        assertThatThrownBy(() -> ImageImporter.tarToExt4(d.resolve("noagent.tar"), d.resolve("t1"), d.resolve("x.ext4"), s -> { }))
                .isInstanceOf(VmctlException.class).hasMessageContaining("rootfs").hasMessageContaining("usr/sbin/qemu-ga");
        Files.writeString(tree.resolve("usr/sbin/qemu-ga"), "agent");
        Cmd.check("tar", "-c", "-f", d.resolve("root.tar").toString(), "-C", tree.toString(), ".");
        Path img = d.resolve("rootfs.ext4");
        ImageImporter.tarToExt4(d.resolve("root.tar"), d.resolve("t2"), img, s -> { });
        assertThat(ImageImporter.rootfsFormat(img)).isEqualTo(ImageImporter.RootfsFormat.EXT4);
        assertThat(Files.exists(d.resolve("t2"))).as("the unpacked tree is removed").isFalse();
        assertThat(Cmd.check("debugfs", "-R", "cat /etc/motd", img.toString()).stdout()).contains("hello from a tar");
        assertThat(Cmd.check("debugfs", "-R", "stat /sbin/init", img.toString()).stdout()).contains("Mode:  0750");
        ImageImporter.checkExt4Tree(img); // the import's own check passes on it
        Files.write(d.resolve("not.tar"), new byte[1024]);
        assertThatThrownBy(() -> ImageImporter.rootfsFormat(d.resolve("not.tar"))).hasMessageContaining("rootfs").hasMessageContaining("tar");
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
