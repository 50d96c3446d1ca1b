package dev.vmctl.vmm;

import dev.vmctl.model.ImageInfo;

import java.util.List;

/**
 * What differs between the guest operating systems vmctl boots, in one place: how the guest is started (the kernel
 * command-line extras, and with them the device layout), whether it has a disk, whether boot snapshots can serve it,
 * and the guest-side commands that are not the same on both. The guest-side scripts of {@link GuestScripts} (NICs by
 * MAC, identity of clones, netem, file delivery, run) are POSIX sh with iproute2 and hold for both profiles; a step
 * that needs an OS-specific command asks the profile for it.
 */
public enum GuestProfile {
    /**
     * The tiny image: busybox as PID 1 in the initramfs, no disk. Boot snapshots ("warm" starts) serve it: its
     * init runs vmctl-identity before the agent.
     */
    BUSYBOX(QemuCommand.SHARE_CMDLINE, false, true, List.of()),
    /**
     * Images with a root file system (Debian 12/13): vmctl's initramfs mounts the VM's qcow2 overlay as / and
     * switch_root's to systemd; the agent is vmctl-agent.service. Boot snapshots carry the disk as of the snapshot
     * (each warm VM gets its own copy of that overlay) and are recorded once systemd has booted ({@link #settleArgv});
     * vmctl-identity is started in the guest before the recording (an image built before that: a warm VM's identity goes
     * through the agent's identity script and its NICs through the network script). {@code net.ifnames=0}: the kernel's
     * eth names stay (vmctl renames NICs by MAC itself; udev is masked anyway).
     */
    SYSTEMD(QemuCommand.SHARE_CMDLINE + " " + QemuCommand.ROOT_DISK_CMDLINE + " net.ifnames=0", true, true,
            List.of("/sbin/resize2fs", "/dev/vda"));

    private final String extraCmdline;
    private final boolean rootDisk;
    private final boolean bootSnapshots;
    private final List<String> growRootArgv;

    GuestProfile(String extraCmdline, boolean rootDisk, boolean bootSnapshots, List<String> growRootArgv) {
        this.extraCmdline = extraCmdline;
        this.rootDisk = rootDisk;
        this.bootSnapshots = bootSnapshots;
        this.growRootArgv = growRootArgv;
    }

    /** The profile of an image: a root file system means a systemd guest booting from its disk. */
    public static GuestProfile of(ImageInfo image) {
        return image != null && image.hasRootDisk() ? SYSTEMD : BUSYBOX;
    }

    /** The profile of a VM from the extra kernel command line it was booted with (a snapshot's manifest keeps it). */
    public static GuestProfile ofCmdline(String extraCmdline) {
        return QemuCommand.hasRootDisk(extraCmdline) ? SYSTEMD : BUSYBOX;
    }

    /** The extra kernel command line of a cold boot (it also selects the device layout: share, disk). */
    public String extraCmdline() {
        return extraCmdline;
    }

    /** Whether VMs of this profile boot from their own disk ({@link VmFiles#disk()}). */
    public boolean rootDisk() {
        return rootDisk;
    }

    /** Whether boot snapshots (warm starts) can serve this profile; null when they can, else why not. */
    public String noBootSnapshots() {
        return bootSnapshots ? null : "this guest has no boot snapshots (it boots cold)";
    }

    /**
     * The guest command that returns once the guest's own boot has finished, run before its boot snapshot is
     * recorded: a systemd guest's agent answers while systemd still starts units (seconds under TCG), and a warm copy
     * restored from that moment would go on booting while vmctl gives it its identity. Empty: the guest is idle when
     * the agent answers (busybox). The systemd one then starts vmctl-identity on its FIFO (from the disk, else the copy
     * vmctl's initramfs put in /run), so that the boot snapshot has it waiting. Its exit status is not a failure.
     */
    public List<String> settleArgv() {
        // the early agent answers before systemd is PID 1 (then systemctl says "offline"): wait for it first (≤ 60 s);
        // an imported disk whose init is not systemd has nothing to wait for. Then vmctl-identity is started (unless
        // one waits already) on its FIFO, in a session of its own, so that it waits in the boot snapshot
        return rootDisk ? List.of("/bin/sh", "-c", "case $(readlink -f /sbin/init) in */systemd) "
                + "i=0; while [ ! -d /run/systemd/system ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; "
                + "/bin/systemctl is-system-running --wait ;; esac; "
                + "h=/usr/sbin/vmctl-identity; [ -x $h ] || h=/run/.vmctl-identity; "
                + "if [ -x $h ] && ! [ -s /run/.vmctl-identity.pid ]; then [ -p /run/vmctl-identity ] || mkfifo -m 600 /run/vmctl-identity; "
                + "setsid $h --serve /run/vmctl-identity </dev/null >/dev/null 2>&1 & echo $! >/run/.vmctl-identity.pid; fi; "
                // until it has the FIFO open (≤ 5 s): a snapshot taken before that would restore a helper not yet reading
                + "p=$(cat /run/.vmctl-identity.pid 2>/dev/null); i=0; while [ -n \"$p\" ] && [ $i -lt 50 ]; do "
                + "readlink /proc/$p/fd/* 2>/dev/null | grep -q /run/vmctl-identity && break; sleep 0.1; i=$((i + 1)); done; exit 0")
                : List.of();
    }

    /** The guest command that writes the guest's dirty pages to its disk before a hard reset or kill; empty: no disk. */
    public List<String> flushArgv() {
        return rootDisk ? List.of("/bin/sync") : List.of();
    }

    /** The guest command that grows the root file system to its disk's size after {@code --disk} grew the disk; empty: none. */
    public List<String> growRootArgv() {
        return growRootArgv;
    }
}
