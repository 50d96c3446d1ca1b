package dev.vmctl.engine;

import dev.vmctl.model.ImageInfo;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.VmFiles;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What a boot snapshot must match to be restored into a new VM: everything that is in the saved device state or
 * that the guest's memory was booted from. Its {@link #key} names the boot snapshot, so a change of any part —
 * an image rebuild, another QEMU, another device layout — simply finds none (and a cold boot records a new one).
 *
 * @param image     the image's name
 * @param build     the image build ({@link #buildOf}: kernel and initrd checksums and build time, so every
 *                  {@code image build} is a new build even when the files come out the same)
 * @param cpus      vCPUs ({@code -smp})
 * @param memoryMiB guest RAM ({@code -m}, the RAM file's size)
 * @param accel     the accelerator the boot runs under ({@code kvm} or {@code tcg}: the CPU model follows)
 * @param nics      NICs at boot, numbered 0..nics-1 (device nicN on root port rpN)
 * @param qemu      QEMU's version (its migration stream)
 * @param layout    {@link #layoutOf}: the QEMU command line of this shape with the per-VM names and paths
 *                  left out — devices, machine options, the kernel command line's fixed flags (and the host's
 *                  TSC frequency under TCG; the root disk of an image that has one)
 * @param diskMiB   the size of the VM's root disk (images with a root file system: the guest's kernel and file
 *                  system know it), 0 for VMs without one
 */
public record BootShape(String image, String build, int cpus, int memoryMiB, String accel, int nics, String qemu, String layout,
                        long diskMiB) {
    /** Bumped when what a boot snapshot holds changes in a way the fields above do not show. */
    static final int VERSION = 1;

    /** The shape of a VM without a root disk about to boot from {@code img} under {@code accel} with {@code nics} NICs. */
    public static BootShape of(ImageInfo img, int cpus, int memoryMiB, String accel, int nics, String qemu) {
        return of(img, cpus, memoryMiB, accel, nics, qemu, 0);
    }

    /**
     * The shape of a VM about to boot from {@code img}; {@code diskMiB}: its root disk's size (0: none). The device
     * layout follows the image's guest profile (a root disk is one more device).
     */
    public static BootShape of(ImageInfo img, int cpus, int memoryMiB, String accel, int nics, String qemu, long diskMiB) {
        String extra = dev.vmctl.vmm.GuestProfile.of(img).extraCmdline();
        return new BootShape(img.name(), buildOf(img), cpus, memoryMiB, accel, nics, qemu,
                layoutOf(cpus, memoryMiB, "kvm".equals(accel), nics, extra), diskMiB);
    }

    /** An image build: 16 hex digits of SHA-256 over the kernel and initrd checksums and the build time. */
    public static String buildOf(ImageInfo img) {
        return sha256(img.kernelSha256() + "\n" + img.initrdSha256() + "\n" + img.builtAt()).substring(0, 16);
    }

    /**
     * 16 hex digits of SHA-256 over the argv {@link QemuCommand} gives such a VM, built with fixed stand-ins for
     * its id, name, paths, taps and MACs (those differ from VM to VM and do not reach the device state; a clone
     * gets its own MACs through the guest), without the kernel command line: a restored guest was booted with the
     * boot snapshot's (it is in guest memory), and the host's TSC rate it names may be read differently after a
     * server restart.
     */
    static String layoutOf(int cpus, int memoryMiB, boolean kvm, int nics) {
        return layoutOf(cpus, memoryMiB, kvm, nics, QemuCommand.SHARE_CMDLINE);
    }

    /** {@link #layoutOf(int, int, boolean, int)} for a guest booted with {@code extraCmdline} (its profile's: it selects the devices). */
    static String layoutOf(int cpus, int memoryMiB, boolean kvm, int nics, String extraCmdline) {
        List<QemuCommand.Nic> n = new ArrayList<>();
        for (int i = 0; i < nics; i++) n.add(new QemuCommand.Nic(i, "tap" + i, "52:54:00:00:00:0" + i));
        Path dir = Path.of("/vmctl/vm");
        List<String> argv = QemuCommand.argv(new QemuCommand.Spec("id", "name", cpus, memoryMiB, kvm, "/vmctl/kernel", "/vmctl/initrd",
                extraCmdline, new VmFiles(dir), n, dir.resolve("ram"), true, false));
        List<String> layout = new ArrayList<>(argv);
        int append = layout.indexOf("-append");
        if (append >= 0) layout.subList(append, append + 2).clear();
        return sha256(String.join("\u0000", layout)).substring(0, 16);
    }

    /** 32 hex digits naming this shape: equal shapes, equal keys. */
    public String key() {
        List<String> parts = new ArrayList<>(List.of("v" + VERSION, image, build, Integer.toString(cpus), Integer.toString(memoryMiB), accel,
                Integer.toString(nics), qemu, layout));
        if (diskMiB > 0) parts.add("disk " + diskMiB); // VMs without a disk keep the keys they had before disks existed
        return sha256(String.join("\n", parts)).substring(0, 32);
    }

    /** The boot snapshot's name: {@code IMAGE-KEY16} (the image's name cut to fit a snapshot name). */
    /** Whether a snapshot name has the form of a boot snapshot's ({@link #snapshotName}: IMAGE-16 hex digits). */
    static boolean isBootSnapshot(String name) {
        return name != null && name.matches(".+-[0-9a-f]{16}");
    }

    public String snapshotName() {
        String prefix = image.length() > 40 ? image.substring(0, 40) : image;
        if (prefix.endsWith("-")) prefix = prefix.substring(0, prefix.length() - 1);
        return prefix + "-" + key().substring(0, 16);
    }

    /** "1 vCPU, 128 MiB, 0 NICs, tcg" (", disk 1536 MiB" for a VM with a root disk) */
    public String describe() {
        return cpus + " vCPU" + (cpus == 1 ? "" : "s") + ", " + memoryMiB + " MiB, " + nics + " NIC" + (nics == 1 ? "" : "s") + ", " + accel
                + (diskMiB > 0 ? ", disk " + diskMiB + " MiB" : "");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
