package dev.vmctl.engine;

import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.VmFiles;

/**
 * How the engine starts and re-finds QEMU processes (the consumer owns this interface). The real one
 * starts QEMU inside the fabric namespace in its own session; the engine's unit tests start a stand-in
 * process with scripted QMP and agent sockets.
 */
public interface QemuLauncher {
    /** Starts QEMU for {@code spec}; returns before QMP is up. */
    QemuVm launch(QemuCommand.Spec spec);

    /** The process vmctl started before a restart, or null when it is gone. */
    default QemuVm attach(long pid, long pidStart, VmFiles files) {
        return QemuVm.attach(pid, pidStart, files);
    }

    /**
     * The VM id a process belongs to when it is one of vmctl's QEMU processes for the VMs folder {@code vmsDir}:
     * its argv names that folder and carries {@code -name vmctl-ID} (null when it is not ours).
     */
    default String ownerOf(long pid, java.nio.file.Path vmsDir) {
        java.util.List<String> args = dev.vmctl.host.Procs.cmdline(pid).orElse(java.util.List.of());
        if (args.stream().noneMatch(a -> a.contains(vmsDir.toString() + "/"))) return null;
        int i = args.indexOf("-name");
        if (i < 0 || i + 1 >= args.size() || !args.get(i + 1).startsWith("vmctl-")) return null;
        return args.get(i + 1).substring("vmctl-".length());
    }

    /** QEMU in the fabric namespace {@code fabric}, in its own session (a Ctrl-C of the server does not reach it). */
    static QemuLauncher inNamespace(java.util.function.Supplier<String> fabric) {
        return inNamespaceOf(spec -> fabric.get());
    }

    /**
     * QEMU in the namespace the function names for its spec (the fabric, or the segment its NICs are in), in its own
     * session.
     */
    static QemuLauncher inNamespaceOf(java.util.function.Function<QemuCommand.Spec, String> namespace) {
        return spec -> {
            // confined (QemuConfinement): as vmctl's QEMU user from its start, its files made that user's first, with seccomp
            dev.vmctl.vmm.QemuConfinement c = dev.vmctl.vmm.QemuConfinement.active();
            c.prepare(spec);
            java.util.List<String> prefix = new java.util.ArrayList<>(java.util.List.of("ip", "netns", "exec", namespace.apply(spec), "setsid"));
            prefix.addAll(c.prefix());
            return QemuVm.launch(prefix, spec, c.extraArgs());
        };
    }
}
