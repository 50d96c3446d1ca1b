package dev.vmctl.vmm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU argv for one microVM. The device layout is fixed and deterministic (same order, same ids
 * for the same spec), so that a saved device state can be restored into a new process later:
 * virtio-mmio slot order is the serial bus of the guest agent, then entropy; PCIe root ports
 * rp0..rp7 are always present and NIC number N (netdev {@code netN}, device {@code nicN}) always sits
 * on root port {@code rpN}, whether it was there at boot or hot-plugged later. The guest names NICs in
 * probe order; vmctl renames them to ethN by MAC through the guest agent.
 */
public final class QemuCommand {
    public static final String QEMU = "qemu-system-x86_64";
    /**
     * The kernel command-line word of a VM booted with the file-transfer share (virtio-mmio slot 2: a read-only 9p
     * export of {@link VmFiles#shareDir()} with mount tag {@value #SHARE_TAG}). It is how a snapshot remembers the
     * device (its manifest keeps the VM's extra command line), so that restores and clones get the same layout,
     * and snapshots taken before the share existed restore without it.
     */
    public static final String SHARE_CMDLINE = "vmctl.xfer=9p";
    public static final String SHARE_TAG = "vmctl-xfer";
    /**
     * The kernel command-line word of a VM that boots from its own disk (images with a root file system: a virtio-blk
     * device on the qcow2 overlay {@link VmFiles#disk()}, after the share). Like {@link #SHARE_CMDLINE} it is how a
     * snapshot remembers the device: its manifest keeps the extra command line, so restores and clones get the same
     * layout, and VMs without a disk (tiny) keep theirs unchanged. Read by vmctl's initramfs ({@code rootdisk-init.sh}).
     */
    public static final String ROOT_DISK_CMDLINE = "vmctl.root=/dev/vda";
    /**
     * The CPU model under TCG: QEMU's {@code max} without ERMS and FSRM, so that the guest kernel copies and clears
     * memory with unrolled mov loops (which TCG translates into host code) instead of {@code rep movsb}/{@code rep
     * stosb} (which TCG runs byte by byte): measured in a 768 MiB tiny guest, a 200 MB write into tmpfs 3.6–6.9 s →
     * 1.6–2.2 s, a 9p → tmpfs copy 2.6 s → 0.6–1.1 s, a 1 GB {@code /dev/zero → /dev/null} 9.9 s → 0.66 s (README,
     * Benchmarks, artifacts). {@code -Dvmctl.tcg.cpu=max} restores QEMU's plain model.
     */
    public static final String TCG_CPU = System.getProperty("vmctl.tcg.cpu", "max,-erms,-fsrm");
    /** Root ports for hot-plugged devices; part of the fixed layout. */
    public static final int PCIE_ROOT_PORTS = 8;

    /**
     * What the guest kernel is told on every boot (see shared/PLATFORM.md for why each flag is there;
     * ifb.numifbs=0: no ifb0/ifb1 at boot, vmctl creates the ifb of a NIC when it impairs what the NIC receives).
     */
    public static String kernelCmdline(String hostname, boolean tcg, String extra) {
        StringBuilder sb = new StringBuilder("console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1")
                .append(" tsc=reliable no_timer_check cryptomgr.notests pcie_ports=native ifb.numifbs=0");
        if (tcg) sb.append(" tsc_early_khz=").append(HostClock.tscKhz());
        sb.append(" vmctl.hostname=").append(hostname);
        if (extra != null && !extra.isBlank()) sb.append(' ').append(extra);
        return sb.toString();
    }

    /** A NIC present at boot: number {@code index} (root port rpN), a tap that already exists in QEMU's namespace. */
    public record Nic(int index, String tap, String mac) {
        public String netdevId() { return "net" + index; }
        public String deviceId() { return "nic" + index; }
        public String rootPort() { return "rp" + index; }
    }

    /**
     * @param ramFile    when not null, guest RAM lives in this file (memory-backend-file), shared with the
     *                   file when {@code ramShared} (needed for snapshots with x-ignore-shared), private
     *                   copy-on-write otherwise (clones)
     * @param incoming   start with {@code -incoming defer}, waiting for migrate-incoming (restore)
     */
    public record Spec(String id, String name, int cpus, int memoryMiB, boolean kvm,
                       String kernel, String initrd, String extraCmdline, VmFiles files,
                       List<Nic> nics, Path ramFile, boolean ramShared, boolean incoming) {
        public Spec {
            nics = nics == null ? List.of() : List.copyOf(nics);
        }

        /** Whether the VM has the file-transfer share: its extra command line names it ({@link #SHARE_CMDLINE}). */
        public boolean share() {
            return hasShare(extraCmdline);
        }

        public Spec(String id, String name, int cpus, int memoryMiB, boolean kvm, String kernel, String initrd,
                    String extraCmdline, VmFiles files) {
            this(id, name, cpus, memoryMiB, kvm, kernel, initrd, extraCmdline, files, List.of(), null, false, false);
        }
    }

    private QemuCommand() {}

    /** True when a kernel command line (or its extra part) carries {@link #SHARE_CMDLINE} as a word. */
    public static boolean hasShare(String cmdline) {
        return hasWord(cmdline, SHARE_CMDLINE);
    }

    /** True when a kernel command line (or its extra part) carries {@link #ROOT_DISK_CMDLINE} as a word. */
    public static boolean hasRootDisk(String cmdline) {
        return hasWord(cmdline, ROOT_DISK_CMDLINE);
    }

    private static boolean hasWord(String cmdline, String word) {
        if (cmdline == null) return false;
        for (String w : cmdline.trim().split("\\s+")) if (w.equals(word)) return true;
        return false;
    }

    public static List<String> argv(Spec s) {
        List<String> a = new ArrayList<>();
        a.add(QEMU);
        a.addAll(List.of("-name", "vmctl-" + s.id()));
        String machine = "microvm,x-option-roms=off,rtc=on,pcie=on";
        if (s.ramFile() != null) machine += ",memory-backend=mem0";
        a.addAll(List.of("-machine", machine));
        if (s.kvm()) {
            a.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            a.addAll(List.of("-accel", "tcg", "-cpu", TCG_CPU));
        }
        a.addAll(List.of("-m", s.memoryMiB() + "M", "-smp", String.valueOf(s.cpus())));
        if (s.ramFile() != null) {
            a.addAll(List.of("-object", "memory-backend-file,id=mem0,size=" + s.memoryMiB() + "M,mem-path=" + s.ramFile()
                    + ",share=" + (s.ramShared() ? "on" : "off")));
        }
        a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none"));
        a.addAll(List.of("-kernel", s.kernel(), "-initrd", s.initrd()));
        a.addAll(List.of("-append", kernelCmdline(s.name(), !s.kvm(), s.extraCmdline())));
        // serial console → append-only log file (survives reboots and server restarts)
        a.addAll(List.of("-chardev", "file,id=con0,path=" + s.files().console() + ",append=on", "-serial", "chardev:con0"));
        a.addAll(List.of("-qmp", "unix:" + s.files().qmpSocket() + ",server=on,wait=off"));
        // virtio-mmio slot 0: serial bus for the guest agent
        a.addAll(List.of("-device", "virtio-serial-device,id=vser0"));
        a.addAll(List.of("-chardev", "socket,id=qga0,path=" + s.files().agentSocket() + ",server=on,wait=off"));
        a.addAll(List.of("-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0"));
        // slot 1: entropy for the guest
        a.addAll(List.of("-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0,id=vrng0"));
        // slot 2 (VMs booted with the share): read-only 9p export of the VM's share folder, the bulk path for files
        // into the guest (~10x the agent's throughput under TCG; see the README). Migratable while not mounted.
        if (s.share()) {
            a.addAll(List.of("-fsdev", "local,id=xfer0,path=" + s.files().shareDir() + ",security_model=none,readonly=on",
                    "-device", "virtio-9p-device,id=vxfer0,fsdev=xfer0,mount_tag=" + SHARE_TAG));
        }
        // next slot (VMs with a root disk): virtio-blk on the VM's own qcow2 overlay (the image's rootfs is its read-only base)
        if (hasRootDisk(s.extraCmdline())) {
            a.addAll(List.of("-drive", "file=" + s.files().disk() + ",if=none,id=disk0,format=qcow2,cache=writeback,discard=unmap",
                    "-device", "virtio-blk-device,drive=disk0,id=vdisk0"));
        }
        // PCIe root ports; NIC N on port rpN (hot-plug needs the port to exist from boot)
        for (int i = 0; i < PCIE_ROOT_PORTS; i++) {
            a.addAll(List.of("-device", "pcie-root-port,id=rp" + i + ",slot=" + i + ",chassis=" + (i + 1)));
        }
        for (Nic n : s.nics()) {
            if (n.index() < 0 || n.index() >= PCIE_ROOT_PORTS) throw new IllegalArgumentException("nic index " + n.index());
            a.addAll(List.of("-netdev", "tap,id=" + n.netdevId() + ",ifname=" + n.tap() + ",script=no,downscript=no",
                    "-device", "virtio-net-pci,netdev=" + n.netdevId() + ",id=" + n.deviceId() + ",bus=" + n.rootPort()
                            + ",mac=" + n.mac()));
        }
        if (s.incoming()) a.addAll(List.of("-incoming", "defer"));
        a.addAll(List.of("-pidfile", s.files().pidFile().toString()));
        return a;
    }
}
