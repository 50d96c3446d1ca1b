package dev.vmctl.engine;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Sizes;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.DiskOverlay;
import dev.vmctl.snapshot.SnapshotFiles;
import dev.vmctl.snapshot.VerifiedSnapshot;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.GuestProfile;
import dev.vmctl.vmm.VmFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * A VM's own disk, for images with a root file system: a qcow2 overlay {@link VmFiles#disk()} in the VM's folder on
 * the image's read-only rootfs (so it goes with the folder on {@code vm rm}); {@code --disk SIZE} makes it bigger than
 * the rootfs and the guest's file system is grown to it once the agent answers. A clone's overlay sits on the
 * snapshot's copy of the disk; a roll-back takes a copy of that.
 */
final class VmDisks {
    private static final Logger log = LoggerFactory.getLogger(VmDisks.class);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private VmDisks() {}

    /**
     * Validates {@code --disk}: null when not given; else the size in MiB. Only images with a root disk take it, and
     * the disk may only grow ({@code rootfsBytes} is the image's rootfs size).
     */
    static Long validateSize(String disk, ImageInfo img) {
        if (disk == null || disk.isBlank()) return null;
        if (img == null || !img.hasRootDisk()) {
            throw VmctlException.invalid("disk", "image " + (img == null ? "?" : img.name()) + " has no root disk to grow",
                    "an image with a root file system (debian-12, debian-13), or no --disk");
        }
        long mib = Sizes.parseMiB(disk);
        long base;
        try {
            long bytes = img.rootfs().endsWith(".qcow2") ? DiskOverlay.info(Path.of(img.rootfs())).virtualSize() : Files.size(Path.of(img.rootfs()));
            base = (bytes + (1 << 20) - 1) >> 20;
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "image " + img.name() + ": rootfs " + img.rootfs() + " is missing",
                    "rebuild it with 'vmctl image build " + img.name() + "'");
        }
        String allowed = base + "M (the image's root file system).." + (1024 * 1024) + "M, e.g. 4G";
        if (mib < 0) throw VmctlException.invalid("disk", "'" + disk + "' is not a size", allowed);
        if (mib < base || mib > 1024 * 1024) throw VmctlException.invalid("disk", mib + " MiB is out of range", allowed);
        return mib;
    }

    /** Creates the VM's overlay now (at create: {@code --disk} grows it to {@code sizeMiB}); nothing when it exists. */
    static void create(VmFiles files, ImageInfo img, Long sizeMiB) {
        try {
            Files.createDirectories(files.dir());
        } catch (IOException e) {
            throw new UncheckedIOException("create " + files.dir() + ": " + e.getMessage(), e);
        }
        if (Files.exists(files.disk())) return;
        DiskOverlay.create(Path.of(img.rootfs()), img.rootfs().endsWith(".qcow2") ? "qcow2" : "raw", files.disk());
        if (sizeMiB != null) {
            CmdResult r = Cmd.run(List.of("qemu-img", "resize", "-q", "-f", "qcow2", files.disk().toString(), sizeMiB + "M"), null, null, TIMEOUT);
            if (!r.ok()) throw new VmctlException(VmctlException.Kind.INTERNAL, "grow disk " + files.disk() + ": " + r.stderrTail(), null);
        }
    }

    /**
     * Before a cold boot: the VM's overlay, created when it has none yet (a VM created before its image had a disk,
     * or whose folder was cleaned). Returns whether its disk is bigger than the image's rootfs (the file system is
     * then grown after the boot: a no-op when it was grown before).
     */
    static boolean prepare(VmRow r, ImageInfo img, VmFiles files, Consumer<String> say) {
        if (!Files.exists(files.disk())) {
            say.accept("vm " + r.name() + ": creating disk overlay " + files.disk() + " on " + img.rootfs());
            create(files, img, null);
        }
        DiskOverlay.Info info = DiskOverlay.info(files.disk());
        try {
            long base = img.rootfs().endsWith(".qcow2") ? DiskOverlay.info(Path.of(img.rootfs())).virtualSize() : Files.size(Path.of(img.rootfs()));
            return info.virtualSize() > base;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The size of the disk a VM of {@code img} boots with, in MiB, for its boot shape: its overlay's when it has one
     * (read from the qcow2 header, no qemu-img), else the image's rootfs's (the overlay a cold boot creates); 0 for
     * images without a root disk.
     */
    static long shapeMiB(ImageInfo img, VmFiles files) {
        if (img == null || !img.hasRootDisk()) return 0;
        long bytes = DiskOverlay.qcow2VirtualSize(files.disk());
        if (bytes < 0) {
            Path base = Path.of(img.rootfs());
            bytes = img.rootfs().endsWith(".qcow2") ? DiskOverlay.qcow2VirtualSize(base) : base.toFile().length();
        }
        return bytes <= 0 ? 0 : (bytes + (1 << 20) - 1) >> 20;
    }

    /** Where a warm start keeps the VM's own fresh overlay while it tries the boot snapshot's disk. */
    static Path coldDisk(VmFiles files) {
        return files.dir().resolve("disk.cold.qcow2");
    }

    /**
     * Before a warm start from a boot snapshot with a disk: the VM's disk becomes its own copy of the snapshot's overlay
     * (holes kept: the writes of the recording boot, a few MiB; backed by the image's rootfs like any VM's overlay,
     * so the VM does not depend on the boot snapshot afterwards); its fresh overlay is kept aside for
     * {@link #warmFailed}. Nothing for a boot snapshot without a disk.
     */
    static void forWarmStart(VerifiedSnapshot snap, VmFiles files) {
        if (snap.diskFile() == null) return;
        try {
            Files.createDirectories(files.dir());
            Files.deleteIfExists(coldDisk(files));
            if (Files.exists(files.disk())) Files.move(files.disk(), coldDisk(files));
        } catch (IOException e) {
            throw new UncheckedIOException("set aside disk " + files.disk() + ": " + e.getMessage(), e);
        }
        SnapshotFiles.copySparse(snap.diskFile(), files.disk());
    }

    /** After a warm start: the fresh overlay kept aside is not needed any more. */
    static void warmSucceeded(VmFiles files) {
        try {
            Files.deleteIfExists(coldDisk(files));
        } catch (IOException e) {
            log.warn("remove {}: {}", coldDisk(files), e.getMessage());
        }
    }

    /** A warm start failed: the VM gets back the fresh overlay it had (the cold boot must not start from the snapshot's disk). */
    static void warmFailed(VmFiles files) {
        try {
            if (Files.exists(coldDisk(files))) Files.move(coldDisk(files), files.disk(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            else Files.deleteIfExists(files.disk()); // it had none: the cold boot creates it
        } catch (IOException e) {
            log.warn("restore the fresh disk of {}: {}", files.dir(), e.getMessage());
        }
    }

    /** Before a restore or clone from {@code snap}: the VM's disk as of the snapshot (a clone: an overlay on it). */
    static void fromSnapshot(VerifiedSnapshot snap, VmFiles files, boolean asClone) {
        if (snap.diskFile() == null) return;
        try {
            Files.deleteIfExists(files.disk());
        } catch (IOException e) {
            throw new UncheckedIOException("replace disk " + files.disk() + ": " + e.getMessage(), e);
        }
        if (asClone) snap.createDiskOverlay(files.disk());
        else SnapshotFiles.copySparse(snap.diskFile(), files.disk());
    }

    /** Grows the guest's root file system to its disk (ext4 grows while mounted); a failure is logged, not fatal. */
    static void growFileSystem(VmRuntime rt, ImageInfo img, String vmName) {
        List<String> argv = GuestProfile.of(img).growRootArgv();
        GuestAgentClient agent = rt.agent();
        if (argv.isEmpty() || agent == null) return;
        try {
            var res = agent.exec(argv, null, Duration.ofSeconds(60));
            if (res.exitCode() != 0) log.warn("vm {}: {} exited {}: {}", vmName, argv, res.exitCode(), res.stderr());
        } catch (RuntimeException e) {
            log.warn("vm {}: grow the root file system: {}", vmName, e.getMessage());
        }
    }
}
