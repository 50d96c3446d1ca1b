package dev.vmctl.vmm;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;

/** Which QEMU is installed. */
public final class QemuInfo {
    private QemuInfo() {}

    /** @return the first line of {@code qemu-system-x86_64 --version}, or null when QEMU is missing */
    public static String version() {
        CmdResult r = Cmd.run(QemuCommand.QEMU, "--version");
        if (!r.ok()) return null;
        String first = r.stdout().lines().findFirst().orElse("");
        return first.replace("QEMU emulator version ", "").trim();
    }
}
