package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.FileTree;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code vmctl image import NAME --kernel FILE --rootfs FILE [--initrd FILE] [--os TEXT]}: a user's kernel and root
 * file system into the catalog, checked first — the kernel is an x86-64 ELF vmlinux with a PVH entry, or a bzImage
 * vmctl extracts one from; the rootfs is an ext4 file system image (or a qcow2 holding one) with an init and a guest
 * agent. Without {@code --initrd} the VM boots through vmctl's root-disk initramfs ({@code switch_root}), like the
 * Debian images. Every rejection names the flag and what is wrong.
 */
public final class ImageImporter {
    /** What the import takes (paths on the server's host). */
    public record Request(String name, Path kernel, Path rootfs, Path initrd, String os) {}

    /** What a rootfs file is. */
    public enum RootfsFormat { EXT4, QCOW2, TAR }

    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};
    private static final int EXT4_MAGIC_OFFSET = 1024 + 0x38;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final Path imagesDir;
    private final ImageCatalog catalog;

    public ImageImporter(Path imagesDir, ImageCatalog catalog) {
        this.imagesDir = imagesDir.toAbsolutePath().normalize();
        this.catalog = catalog;
    }

    /** Reads the kernel's kind: "elf" (an x86-64 vmlinux with a PVH entry) or "bzimage"; INVALID naming --kernel otherwise. */
    static String kernelKind(Path kernel) {
        byte[] head = head(kernel, "kernel", 0x300);
        if (Elf.hasMagic(head)) {
            if (head.length < 20 || head[4] != 2 || head[5] != 1 || (head[18] & 0xff) != 62) {
                throw VmctlException.invalid("kernel", kernel + " is an ELF file but not a 64-bit little-endian x86-64 one",
                        "an x86-64 vmlinux (ELF with a PVH entry) or a bzImage");
            }
            try {
                if (!Elf.read(kernel).pvhEntry()) {
                    throw VmctlException.invalid("kernel", kernel + " is an x86-64 ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): "
                            + "QEMU cannot boot it directly", "a vmlinux built with CONFIG_PVH=y, or a bzImage");
                }
            } catch (IOException e) {
                throw VmctlException.invalid("kernel", kernel + ": " + e.getMessage(), "a readable file");
            }
            return "elf";
        }
        if (head.length >= 0x206 && ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(0x202) == 0x53726448) return "bzimage";
        throw VmctlException.invalid("kernel", kernel + " is neither an ELF vmlinux nor a bzImage (no ELF magic, no 'HdrS' at 0x202)",
                "an x86-64 vmlinux (ELF with a PVH entry) or a bzImage");
    }

    /** Reads the rootfs's format from its magic bytes; INVALID naming --rootfs for anything else. */
    static RootfsFormat rootfsFormat(Path rootfs) {
        byte[] head = head(rootfs, "rootfs", 2048);
        if (head.length >= 4 && Arrays.equals(Arrays.copyOf(head, 4), QCOW2_MAGIC)) return RootfsFormat.QCOW2;
        if (head.length >= EXT4_MAGIC_OFFSET + 2 && (head[EXT4_MAGIC_OFFSET] & 0xff) == 0x53 && (head[EXT4_MAGIC_OFFSET + 1] & 0xff) == 0xef) {
            return RootfsFormat.EXT4;
        }
        // a POSIX/GNU tar: "ustar" at 257 of the first header (a root file system as a tree: made into an ext4 on import)
        if (head.length >= 262 && new String(head, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar")) return RootfsFormat.TAR;
        if (head.length >= 512 && (head[510] & 0xff) == 0x55 && (head[511] & 0xff) == 0xaa) {
            throw VmctlException.invalid("rootfs", rootfs + " is a partitioned raw disk (an MBR/GPT boot sector): vmctl mounts the whole "
                    + "disk as /", "an ext4 file system image (raw, no partition table) or a qcow2 holding one");
        }
        throw VmctlException.invalid("rootfs", rootfs + " is neither an ext4 file system, a qcow2 image nor a tar (no ext4 superblock magic "
                + "0xEF53 at 1080, no 'QFI\\xfb', no 'ustar' at 257)", "an ext4 file system image (raw), a qcow2 holding one, or an uncompressed rootfs .tar");
    }

    public ImageInfo importImage(Request req, Consumer<String> progress) {
        Consumer<String> say = progress == null ? s -> { } : progress;
        Names.check("image name", req.name());
        if (catalog.find(req.name()).isPresent()) {
            throw VmctlException.conflict("import image " + req.name() + ": an image of that name exists", "remove it first (vmctl image rm "
                    + req.name() + ") or choose another name");
        }
        if (req.kernel() == null) throw VmctlException.invalid("kernel", "missing", "the path of a vmlinux or bzImage");
        if (req.rootfs() == null) throw VmctlException.invalid("rootfs", "missing", "the path of an ext4 or qcow2 image");
        String kind = kernelKind(req.kernel());
        RootfsFormat fmt = rootfsFormat(req.rootfs());
        if (req.initrd() != null) head(req.initrd(), "initrd", 16);
        if (fmt == RootfsFormat.EXT4) checkExt4Tree(req.rootfs());
        Path finalDir = imagesDir.resolve(req.name());
        Path work;
        try {
            Files.createDirectories(imagesDir);
            work = Files.createTempDirectory(imagesDir, ".import-" + req.name() + "-");
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "import image " + req.name() + ": " + e.getMessage(), null, e);
        }
        try {
            Path vmlinux = work.resolve(TinyImageBuilder.KERNEL_FILE);
            Path initrd = work.resolve(TinyImageBuilder.INITRD_FILE);
            Path root = work.resolve(fmt == RootfsFormat.QCOW2 ? "rootfs.qcow2" : DebianImageBuilder.ROOTFS_FILE);
            if (kind.equals("elf")) {
                say.accept("copying kernel " + req.kernel());
                Files.copy(req.kernel(), vmlinux);
            } else {
                say.accept("extracting vmlinux from bzImage " + req.kernel());
                try {
                    VmlinuxExtractor.extract(req.kernel(), vmlinux);
                } catch (VmctlException e) {
                    throw VmctlException.invalid("kernel", req.kernel() + ": " + e.getMessage(), "a bzImage vmctl can extract (lz4, gzip, xz, zstd)");
                }
            }
            if (req.initrd() != null) {
                say.accept("copying initrd " + req.initrd());
                Files.copy(req.initrd(), initrd);
            } else {
                say.accept("writing vmctl's root-disk initramfs");
                DebianImageBuilder.writeRootDiskInitramfs(initrd, work.resolve("initramfs"));
            }
            if (fmt == RootfsFormat.TAR) {
                tarToExt4(req.rootfs(), work.resolve("tree"), root, say);
            } else {
                say.accept("copying rootfs " + req.rootfs());
                Files.copy(req.rootfs(), root);
            }
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("r--r--r--"));
            say.accept("computing checksums");
            ImageInfo info = new ImageInfo(req.name(), req.os() == null || req.os().isBlank() ? "imported" : req.os().strip(), "imported",
                    finalDir.resolve(TinyImageBuilder.KERNEL_FILE).toString(), FileTree.sha256(vmlinux),
                    finalDir.resolve(TinyImageBuilder.INITRD_FILE).toString(), FileTree.sha256(initrd),
                    finalDir.resolve(root.getFileName()).toString(), FileTree.sha256(root),
                    Files.size(vmlinux) + Files.size(initrd) + Files.size(root), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                    "imported from kernel " + req.kernel() + ", rootfs " + req.rootfs() + " (" + fmt.name().toLowerCase() + ")"
                            + (req.initrd() == null ? ", vmctl's root-disk initramfs" : ", initrd " + req.initrd()));
            Files.move(work, finalDir, StandardCopyOption.ATOMIC_MOVE);
            catalog.put(info);
            return info;
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "import image " + req.name() + ": " + e.getMessage(), null, e);
        } finally {
            if (Files.exists(work, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    FileTree.delete(work);
                } catch (IOException ignored) {
                    // not in the catalog
                }
            }
        }
    }

    /**
     * A rootfs .tar becomes an ext4 image: unpacked as it is (owners, modes, links; no absolute or {@code ..} names —
     * GNU tar refuses those by default) into {@code tree}, checked for an init and the guest agent, then written by
     * {@code mkfs.ext4 -d} (no loop mount) at the tree's size plus room to write ({@link DebianImageBuilder#autoSizeMiB}).
     */
    static void tarToExt4(Path tar, Path tree, Path img, Consumer<String> say) throws IOException {
        if (!Cmd.available("tar")) throw new VmctlException(Kind.UNAVAILABLE, "tar is not installed", "install the Debian package tar");
        if (!Cmd.available("mkfs.ext4")) throw new VmctlException(Kind.UNAVAILABLE, "mkfs.ext4 is not installed", "install the Debian package e2fsprogs");
        Files.createDirectories(tree);
        say.accept("unpacking rootfs " + tar);
        CmdResult x = Cmd.run(List.of("tar", "-x", "-p", "--numeric-owner", "-f", tar.toString(), "-C", tree.toString()), null, null,
                Duration.ofMinutes(20));
        if (!x.ok()) throw VmctlException.invalid("rootfs", tar + " cannot be unpacked: " + x.stderrTail(), "an uncompressed tar of a root file system");
        for (String[] need : new String[][]{{"sbin/init", "an init (/sbin/init; e.g. systemd-sysv)"},
                {"usr/sbin/qemu-ga", "the QEMU guest agent (/usr/sbin/qemu-ga, Debian package qemu-guest-agent)"}}) {
            Path p = tree.resolve(need[0]);
            boolean there = Files.exists(p, LinkOption.NOFOLLOW_LINKS) || Files.exists(tree.resolve("usr").resolve(need[0]), LinkOption.NOFOLLOW_LINKS);
            if (!there) throw VmctlException.invalid("rootfs", tar + " has no /" + need[0], need[1]);
        }
        long mib = DebianImageBuilder.autoSizeMiB(tree);
        say.accept("writing ext4 (" + mib + " MiB, mkfs.ext4 -d, no loop mount)");
        CmdResult r = Cmd.run(DebianImageBuilder.mkfsArgv(tree, img, mib), null, null, Duration.ofMinutes(20));
        if (!r.ok()) throw new VmctlException(Kind.INTERNAL, "mkfs.ext4 failed (exit " + r.exitCode() + "): " + r.stderrTail(), null);
        FileTree.delete(tree);
    }

    /** An ext4 rootfs must hold an init and a guest agent (read with debugfs, no mount). */
    static void checkExt4Tree(Path rootfs) {
        if (!Cmd.available("debugfs")) return; // e2fsprogs missing: the format check above is all
        for (String[] need : new String[][]{{"/sbin/init", "an init (/sbin/init; e.g. systemd-sysv)"},
                {"/usr/sbin/qemu-ga", "the QEMU guest agent (/usr/sbin/qemu-ga, Debian package qemu-guest-agent)"}}) {
            CmdResult r = Cmd.run(List.of("debugfs", "-R", "stat " + need[0], rootfs.toString()), null, null, TIMEOUT);
            String out = r.stdout() + r.stderr();
            boolean missing = out.contains("File not found") || !out.contains("Inode:");
            // /sbin may be a symlink to usr/sbin (merged /usr): try that too
            if (missing && need[0].startsWith("/sbin/")) {
                CmdResult r2 = Cmd.run(List.of("debugfs", "-R", "stat /usr" + need[0], rootfs.toString()), null, null, TIMEOUT);
                missing = !(r2.stdout() + r2.stderr()).contains("Inode:") || (r2.stdout() + r2.stderr()).contains("File not found");
            }
            if (missing) throw VmctlException.invalid("rootfs", rootfs + " has no " + need[0], need[1]);
        }
    }

    private static byte[] head(Path p, String field, int n) {
        if (!p.isAbsolute()) throw VmctlException.invalid(field, "'" + p + "' is not an absolute path", "an absolute path on the server's host");
        if (!Files.isRegularFile(p)) throw VmctlException.invalid(field, p + " does not exist or is not a regular file", "an existing file");
        try (InputStream in = Files.newInputStream(p)) {
            return in.readNBytes(n);
        } catch (IOException e) {
            throw VmctlException.invalid(field, p + " cannot be read: " + e.getMessage(), "a readable file");
        }
    }
}
