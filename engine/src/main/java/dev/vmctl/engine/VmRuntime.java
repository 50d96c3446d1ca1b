package dev.vmctl.engine;

import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.VmFiles;

/**
 * The live side of one VM as the engine tracks it: its {@link QemuVm} (process, QMP, agent) plus what
 * only the engine knows — whether vmctl itself is ending the process. Exists from process start until the
 * process is gone.
 */
final class VmRuntime {
    final String id;
    final QemuVm vm;
    /** Set before vmctl itself ends the process, so its exit is not reported as a crash. */
    volatile boolean expectedExit;
    /** A warm start is trying this process: if it exits, the warm start falls back to a cold boot (not an ERROR). */
    volatile boolean trial;
    /**
     * A NIC's link was changed with QMP set_link in this process. After that, a guest reset (system_reset)
     * leaves the guest agent's virtio-serial channel deaf for good (QEMU 7.2, measured: the guest boots,
     * qemu-ga opens its port, no answer ever comes), so a reboot starts a fresh QEMU process instead.
     */
    volatile boolean linkChanged;

    VmRuntime(String id, QemuVm vm) {
        this.id = id;
        this.vm = vm;
    }

    VmFiles files() { return vm.files(); }
    long pid() { return vm.pid(); }
    QmpClient qmp() { return vm.qmp(); }
    GuestAgentClient agent() { return vm.agent(); }
    boolean alive() { return vm.alive(); }
}
