package dev.vmctl.vmm;

import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU argv for one microVM. The device layout is fixed and deterministic (same order, same ids
 * for the same spec), so that a saved device state can be restored into a new process later:
 * virtio-mmio slot order is serial port bus, entropy, then NICs, then disks.
 */
public final class QemuCommand {
    public static final String QEMU = "qemu-system-x86_64";

    /** What the guest kernel is told on every boot (see shared/PLATFORM.md for why each flag is there). */
    public static String kernelCmdline(String hostname, boolean tcg, String extra) {
        StringBuilder sb = new StringBuilder("console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1")
                .append(" tsc=reliable no_timer_check cryptomgr.notests");
        if (tcg) sb.append(" tsc_early_khz=").append(HostClock.tscKhz());
        sb.append(" vmctl.hostname=").append(hostname);
        if (extra != null && !extra.isBlank()) sb.append(' ').append(extra);
        return sb.toString();
    }

    public record Spec(String id, String name, int cpus, int memoryMiB, boolean kvm,
                       String kernel, String initrd, String extraCmdline, VmFiles files) {}

    private QemuCommand() {}

    public static List<String> argv(Spec s) {
        List<String> a = new ArrayList<>();
        a.add(QEMU);
        a.addAll(List.of("-name", "vmctl-" + s.id()));
        a.addAll(List.of("-machine", "microvm,x-option-roms=off,rtc=on"));
        if (s.kvm()) {
            a.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            a.addAll(List.of("-accel", "tcg", "-cpu", "max"));
        }
        a.addAll(List.of("-m", s.memoryMiB() + "M", "-smp", String.valueOf(s.cpus())));
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
        a.addAll(List.of("-pidfile", s.files().pidFile().toString()));
        return a;
    }
}
