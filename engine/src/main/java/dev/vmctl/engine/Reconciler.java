package dev.vmctl.engine;

import dev.vmctl.engine.op.Operations;
import dev.vmctl.host.Procs;
import dev.vmctl.model.VmState;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.VmFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Start-up: compares what exists on the host with what the database says and fixes the difference.
 * Operations that were running when the server died are failed; VMs whose QEMU still runs are re-attached
 * (a VM that was booting gets a {@code vm.reattach} operation that waits for its agent again); VMs whose
 * QEMU died are ERROR; QEMU processes, VM folders and host links that the database does not know are removed.
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    private final VmCore core;

    Reconciler(VmCore core) {
        this.core = core;
    }

    void reconcile() {
        core.ops.failInterrupted();
        List<VmRow> rows = core.store.all();
        Set<String> known = new HashSet<>();
        for (VmRow r : rows) {
            known.add(r.id());
            boolean live = r.state() == VmState.RUNNING || r.state() == VmState.PREPARING;
            boolean procAlive = r.pid() != null && r.pidStart() != null && Procs.isSame(r.pid(), r.pidStart())
                    && ownedBy(r.pid(), r.id());
            if (live && procAlive && r.state() == VmState.PREPARING && VmRow.WARM.equals(r.boot())) {
                redoWarmBoot(r);
            } else if (live && procAlive) {
                reattach(r);
            } else if (live) {
                core.transition(r.id(), VmState.ERROR, "qemu process " + r.pid() + " exited while the server was down"
                        + core.qemuLogTail(r.id()) + core.consoleTail(r.id()), "reconciled");
                core.clearProcess(r.id());
            } else if (procAlive) {
                log.info("vm {}: killing qemu {} of a VM that is {}", r.name(), r.pid(), r.state());
                Procs.terminate(r.pid(), Duration.ofSeconds(2));
                core.clearProcess(r.id());
            }
        }
        // QEMU processes tagged as ours (their argv names our vms folder) that the database does not know
        for (long pid : Procs.findByArgs(QemuCommand.QEMU, core.dir.vmsDir().toString() + "/")) {
            String id = ownerId(pid);
            if (id != null && known.contains(id) && core.runtimes.containsKey(id) && core.runtimes.get(id).pid() == pid) continue;
            log.info("killing orphan qemu process {} (vm id {})", pid, id);
            Procs.terminate(pid, Duration.ofSeconds(2));
        }
        // accelerator probe boots (DATA/probe/…) whose server died mid-probe
        for (long pid : Procs.findByArgs(QemuCommand.QEMU, core.dir.root().resolve("probe").toString() + "/")) {
            log.info("killing orphan accelerator probe qemu {}", pid);
            Procs.terminate(pid, Duration.ofSeconds(2));
        }
        Set<String> live = new HashSet<>();
        for (VmRow r : core.store.all()) if (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) live.add(r.id());
        try {
            core.net.reconcile(live);
        } catch (RuntimeException e) {
            log.warn("reconcile networks: {}", e.getMessage());
        }
        try (Stream<Path> s = Files.list(core.dir.vmsDir())) {
            for (Path p : s.toList()) {
                if (!known.contains(p.getFileName().toString())) {
                    log.info("removing orphan vm folder {}", p);
                    VmCore.deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            log.warn("scan {}: {}", core.dir.vmsDir(), e.getMessage());
        }
        // RAM files on tmpfs of VMs the database does not know
        core.dir.ramFiles().reconcile(known);
    }

    /**
     * The server died during a warm start: whether the VM got its own identity (host name, MACs, reseeded CRNG) before
     * that cannot be known, so its QEMU goes and a {@code vm.reattach} operation boots it again from the image (cold).
     */
    private void redoWarmBoot(VmRow r) {
        log.info("vm {}: the server restarted during its warm start: booting it cold", r.name());
        Procs.terminate(r.pid(), Duration.ofSeconds(2));
        core.clearProcess(r.id());
        // a VM with a root disk gets back the fresh overlay its warm start had set aside (VmDisks.forWarmStart)
        if (java.nio.file.Files.exists(VmDisks.coldDisk(core.dir.vm(r.id())))) VmDisks.warmFailed(core.dir.vm(r.id()));
        String id = r.id();
        core.ops.submit(VmService.bootSpec("vm.reattach", id), o -> {
            core.boot(o, id, new VmCore.Cold(false));
            return null;
        });
    }

    private void reattach(VmRow r) {
        VmFiles files = core.dir.vm(r.id());
        QemuVm vm = core.launcher.attach(r.pid(), r.pidStart(), files);
        if (vm == null) return;
        VmRuntime rt = new VmRuntime(r.id(), vm);
        core.runtimes.put(r.id(), rt);
        core.watch(rt);
        try {
            vm.connectQmp(Duration.ofSeconds(5));
            // ask QEMU whether the guest is actually running (a paused guest stays paused)
            vm.queryStatus();
            if (r.state() == VmState.RUNNING) {
                vm.connectAgent(Duration.ofSeconds(2));
                log.info("vm {}: re-attached to qemu {}", r.name(), r.pid());
                core.events.publishData(dev.vmctl.model.EventType.VM_PROGRESS, r.id(), r.name(), null, r.state(), "re-attached to qemu " + r.pid(),
                        core.view(r.id()));
            } else {
                String id = r.id();
                core.ops.submit(VmService.bootSpec("vm.reattach", id), o -> {
                    core.boot(o, id, new VmCore.Reattach());
                    return null;
                });
            }
        } catch (RuntimeException e) {
            core.failBoot(r.id(), rt, new dev.vmctl.model.VmctlException(dev.vmctl.model.VmctlException.Kind.INTERNAL,
                    "re-attach to qemu " + r.pid() + " failed: " + e.getMessage(), null));
        }
    }

    private boolean ownedBy(long pid, String id) {
        return id.equals(ownerId(pid));
    }

    private String ownerId(long pid) {
        return core.launcher.ownerOf(pid, core.dir.vmsDir());
    }
}
