package dev.vmctl.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.host.FileTree;
import dev.vmctl.host.Procs;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.CloneIdentity;
import dev.vmctl.snapshot.VerifiedSnapshot;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.GuestProfile;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QemuVm;
import dev.vmctl.vmm.VmFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the VM services share: the store and events, the live QEMU processes ({@link VmRuntime}), the one
 * state-transition path, and the boot machinery (launch, QMP, readiness, failure). Every method here runs
 * inside an operation of the VM's lane ({@link #lane}) — one at a time per VM — except the process-exit
 * callback, which only records what happened. The row lock ({@link #rowLock}) guards read-check-write of
 * one VM's row and is never held across I/O other than the SQLite write.
 */
final class VmCore {
    private static final Logger log = LoggerFactory.getLogger(VmCore.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Operation kinds that boot a VM; a stop or a forced removal cancels them. */
    static final Set<String> BOOT_KINDS = Set.of("vm.create", "vm.start", "vm.reboot", "vm.restore", "vm.clone", "vm.reattach");

    final DataDir dir;
    final Store store;
    final EventBus events;
    final ImageService images;
    final AccelService accel;
    final NetService net;
    final Operations ops;
    final Duration bootTimeout;
    final QemuLauncher launcher;
    final BootSnapshots boots;
    final Map<String, VmRuntime> runtimes = new ConcurrentHashMap<>();
    /** Delivers a VM's artifacts and starts its run command at the end of a boot from the image (set by the Engine). */
    volatile ArtifactService artifacts;
    /** Puts QEMU processes into the cgroups of their node's resources and their cpuLimit (set by the Engine). */
    volatile ResourceLimits limits;
    private final Map<String, Object> rowLocks = new ConcurrentHashMap<>();
    /** Admission control for guest memory ({@link MemoryBudget}): every boot a user asks for is admitted first. */
    final MemoryBudget budget = MemoryBudget.forHost(this::budgetVms);

    VmCore(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net, Operations ops,
           Duration bootTimeout, QemuLauncher launcher, BootSnapshots boots) {
        this.launcher = launcher;
        this.boots = boots;
        this.dir = dir;
        this.store = store;
        this.events = events;
        this.images = images;
        this.accel = accel;
        this.net = net;
        this.ops = ops;
        this.bootTimeout = bootTimeout;
    }

    /** The VMs with a QEMU process, as the memory budget counts them. */
    private List<MemoryBudget.Vm> budgetVms() {
        Map<String, Integer> mem = new java.util.HashMap<>();
        if (runtimes.isEmpty()) return List.of();
        for (VmRow r : store.all()) mem.put(r.id(), r.memoryMiB());
        List<MemoryBudget.Vm> out = new ArrayList<>();
        for (VmRuntime rt : runtimes.values()) {
            Integer m = mem.get(rt.id);
            if (m != null) out.add(new MemoryBudget.Vm(rt.id, m, rt.pid()));
        }
        return out;
    }

    /**
     * Admits the boot of VM {@code id} ({@code mib} of memory; a 409 naming memory, requested and available when it does
     * not fit, before anything is submitted), then submits its boot operation; the reservation ends with that operation.
     * {@code exclude}: VMs whose QEMU the boot replaces (a restore).
     */
    Operations.Op admitted(String what, String id, long mib, Set<String> exclude, java.util.function.Supplier<Operations.Op> submit) {
        budget.admit(what, id, mib, exclude);
        Operations.Op op;
        try {
            op = submit.get();
        } catch (RuntimeException e) {
            budget.release(id);
            throw e;
        }
        op.whenDone(() -> budget.release(id));
        return op;
    }

    static String lane(String vmId) {
        return "vm:" + vmId;
    }

    // ---------------------------------------------------------------- rows and views

    VmRow row(String key) {
        return store.byIdOrName(key).orElseThrow(() -> VmctlException.notFound("vm", key));
    }

    VmView view(VmRow r) {
        return r.view(net.nicViews(r.id())).withCpuLimit(store.cpuLimit(r.id()));
    }

    VmView view(String id) {
        return store.byIdOrName(id).map(this::view).orElse(null);
    }

    Object rowLock(String id) {
        return rowLocks.computeIfAbsent(id, k -> new Object());
    }

    void forget(String id) {
        rowLocks.remove(id);
    }

    /** The one state change path: checks the transition table, persists, emits {@code vm.state}. */
    VmRow transition(String id, VmState to, String error, String message) {
        synchronized (rowLock(id)) {
            VmRow r = row(id);
            VmState.checkTransition(r.name(), r.state(), to);
            VmRow n = r.withState(to, to == VmState.ERROR ? error : null, now());
            store.update(n);
            events.publishData(dev.vmctl.model.EventType.VM_STATE, id, n.name(), r.state(), to, to == VmState.ERROR ? error : message, view(n));
            return n;
        }
    }

    // ---------------------------------------------------------------- boot

    /** How a boot starts: a start from the image (cold, or warm from its boot snapshot), a reset of the running QEMU, or a snapshot load. */
    sealed interface BootPlan permits Cold, Reboot, FromSnapshot, Reattach {}

    /**
     * A start from the image: with {@code mayRestore} (a create without {@code cold}, or the first start of a VM created
     * without {@code start}) from the image's boot snapshot of
     * the VM's shape when there is one ("warm"), else the image's kernel boots ("cold") and, when the shape has no boot
     * snapshot yet, this boot records it.
     */
    record Cold(boolean mayRestore) implements BootPlan {}

    record Reboot() implements BootPlan {}

    /** The server restarted while the VM was booting: its QEMU runs; wait for the agent again. */
    record Reattach() implements BootPlan {}

    /** A clone (fresh identity, RAM mapped copy-on-write) or a roll-back of this VM (its own RAM file). */
    record FromSnapshot(VerifiedSnapshot snapshot, boolean asClone) implements BootPlan {}

    /**
     * Boots a VM that is PREPARING, inside its lane's operation, until the guest agent answers (RUNNING).
     * A cancel (stop, rm --force, op cancel) ends QEMU and leaves the VM STOPPED; any other failure
     * leaves it in ERROR with the reason and the console tail. Either way the operation ends with it.
     */
    void boot(Operations.Op op, String id, BootPlan plan) {
        if (op != null) {
            op.onCancel(() -> {
                VmRuntime rt = runtimes.get(id);
                if (rt != null) {
                    rt.expectedExit = true;
                    kill(rt, Duration.ofSeconds(2));
                }
            });
        }
        VmRuntime rt = runtimes.get(id);
        try {
            VmRow r = row(id);
            BootSnapshots.Plan record = null; // a cold start that records its shape's boot snapshot
            long[] restoreMarks = null; // a start from a snapshot: launch, qemu up, state loaded (for the log)
            ImageInfo img = null;
            boolean warm = false;
            boolean growRoot = false; // the VM's disk is bigger than its file system: grow it once the agent answers
            switch (plan) {
                case Cold c -> {
                    img = images.usable(r.image());
                    AccelService.Decision d = accel.decide(VmSpec.Accel.parse("accel", r.accel()), img);
                    BootSnapshots.Plan bp = boots.plan(r, img, d.accel(), store.nics(id).stream().map(NetRows.NicRow::index).toList(),
                            VmDisks.shapeMiB(img, dir.vm(id)), c.mayRestore());
                    if (bp.choice() == BootSnapshots.Choice.RESTORE) {
                        rt = startWarm(op, r, img, bp.snapshot());
                        warm = rt != null;
                        if (!warm) bp = new BootSnapshots.Plan(BootSnapshots.Choice.RECORD, bp.shape(), null, "the warm boot failed");
                    }
                    if (!warm) {
                        if (bp.choice() == BootSnapshots.Choice.RECORD) record = bp;
                        setBoot(id, VmRow.COLD, null);
                        progress(op, id, r.name(), "launching qemu (accel " + d.accel() + ": " + d.reason() + ")");
                        VmFiles files = dir.vmForBoot(r.id(), r.memoryMiB()); // RAM file on tmpfs when it fits (RamFiles)
                        prepareFiles(files, true);
                        GuestProfile profile = GuestProfile.of(img);
                        if (profile.rootDisk()) growRoot = VmDisks.prepare(r, img, files, this::progressOf);
                        List<QemuCommand.Nic> nics = net.prepareTaps(r.id());
                        rt = launch(r, d.accel(), new QemuCommand.Spec(r.id(), r.name(), r.cpus(), r.memoryMiB(), d.kvm(),
                                img.kernel(), img.initrd(), profile.extraCmdline(), files, nics, files.ramFile(), true, false));
                    }
                }
                case Reboot b -> { /* the QEMU process stays; the guest was reset */ }
                case Reattach a -> { /* the QEMU process was found running at start-up */ }
                case FromSnapshot fs -> {
                    VerifiedSnapshot snap = fs.snapshot();
                    setBoot(id, VmRow.SNAPSHOT, null);
                    VmFiles files = dir.vmForBoot(r.id(), r.memoryMiB()); // RAM file on tmpfs when it fits (RamFiles)
                    prepareFiles(files, true);
                    VmDisks.fromSnapshot(snap, files, fs.asClone());
                    List<QemuCommand.Nic> nics = net.prepareTaps(r.id());
                    QemuCommand.Spec spec;
                    // QEMU runs from links in the VM's own folder (kernel, initrd; a clone's RAM file): deleting the
                    // snapshot later leaves the VM whole, and a snapshot of it still finds its kernel and initrd
                    Path links = files.dir().resolve("from-snapshot");
                    if (snap.ramFile() == null) {
                        // RAM in the state stream (a snapshot of a clone or a warm VM): into this VM's own RAM file,
                        // which the stream names after the memory backend (mem0) every vmctl VM has
                        spec = snap.withLinkedBootFiles(snap.restoreSpec(r.id(), r.name(), files, nics, files.ramFile(), true), links);
                    } else if (fs.asClone()) {
                        spec = snap.linkedCloneSpec(r.id(), r.name(), files, nics, links);
                    } else {
                        snap.copyRamTo(files.ramFile());
                        spec = snap.withLinkedBootFiles(snap.restoreSpec(r.id(), r.name(), files, nics, files.ramFile(), true), links);
                    }
                    progress(op, id, r.name(), (fs.asClone() ? "cloning from snapshot " : "restoring snapshot ") + snap.name());
                    long l0 = System.nanoTime();
                    rt = launch(r, spec.kvm() ? "kvm" : "tcg", spec);
                    if (op != null) op.checkCancelled();
                    long l1 = System.nanoTime();
                    snap.load(rt.qmp(), true, Duration.ofMinutes(2));
                    restoreMarks = new long[]{l0, l1, System.nanoTime()};
                }
            }
            if (rt == null) throw new VmctlException(VmctlException.Kind.INTERNAL, "no qemu process for vm " + r.name(), null);
            if (op != null) op.checkCancelled();
            if (!warm) waitForAgent(op, rt); // a warm start has waited and applied the VM's identity already
            if (growRoot) VmDisks.growFileSystem(rt, img, r.name());
            if (record != null) {
                settleBeforeRecording(op, rt, img, r.name());
                // before vmctl names the NICs, sets addresses or lets anyone exec in the guest: nothing of this VM's own
                long paused = boots.record(record.shape(), row(id), img, rt, store.nics(id));
                if (paused >= 0) progress(op, id, r.name(), "boot snapshot " + record.shape().snapshotName() + " saved (vm paused " + paused + " ms)");
            }
            boolean configured = warm; // a warm start has configured its NICs (with their new MACs)
            if (plan instanceof FromSnapshot fs && fs.asClone()) {
                configured = cloneIdentity(r, rt, fs.snapshot());
            }
            if (!configured) net.configureGuest(id, rt.agent());
            else if (!warm) net.applyGuestNetem(id, rt.agent());
            applyLinkStates(rt, id);
            if (restoreMarks != null) {
                log.info("vm {}: {} {}: qemu up {} ms, state loaded {} ms, agent and identity {} ms", r.name(),
                        plan instanceof FromSnapshot fs && fs.asClone() ? "clone of" : "restore of", ((FromSnapshot) plan).snapshot().name(),
                        ms(restoreMarks[1] - restoreMarks[0]), ms(restoreMarks[2] - restoreMarks[1]), ms(System.nanoTime() - restoreMarks[2]));
            }
            if (op != null) op.checkCancelled();
            // artifacts and the run command, before RUNNING; a restored or cloned guest already holds them in memory
            if (!(plan instanceof FromSnapshot) && artifacts != null) {
                artifacts.deliverOnBoot(op, id, rt);
                if (op != null) op.checkCancelled();
            }
            synchronized (rowLock(id)) {
                VmRow now = row(id);
                if (now.state() == VmState.PREPARING && rt.alive()) {
                    transition(id, VmState.RUNNING, null, "guest agent answered");
                } else if (now.state() != VmState.RUNNING) {
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "vm " + now.name() + " is " + now.state() + " after boot", null);
                }
            }
        } catch (RuntimeException e) {
            if (op != null && op.cancelRequested()) {
                cancelBoot(id, runtimes.get(id));
                throw new Operations.CancelledException("boot of vm " + store.byIdOrName(id).map(VmRow::name).orElse(id) + " cancelled: "
                        + op.cancelReason());
            }
            failBoot(id, rt != null ? rt : runtimes.get(id), e);
            throw e;
        }
    }

    /**
     * A clone's own identity: in one request to the guest's resident {@code vmctl-identity} (host name, machine-id,
     * clock, entropy, each NIC found by the snapshot's MAC given its own MAC, address and the default route: no fork or
     * exec in the freshly restored guest), or, for a guest without it, through the agent's shell script and then the
     * network script. True when the NICs are configured.
     */
    private final Set<String> noHelper = ConcurrentHashMap.newKeySet();

    private boolean cloneIdentity(VmRow r, VmRuntime rt, VerifiedSnapshot snap) {
        String id = r.id();
        Map<Integer, String> fromMacs = new java.util.HashMap<>();
        for (var n : snap.manifest().vm().nics()) fromMacs.put(n.index(), n.mac());
        if (!noHelper.contains(snap.name())) {
            try {
                CloneIdentity.applyThroughHelper(rt.vm, CloneIdentity.Spec.of(r.name(), net.guestNics(id, fromMacs)), Duration.ofSeconds(5));
                return true;
            } catch (VmctlException e) {
                noHelper.add(snap.name()); // an image without it (built before it existed): later clones go the agent's way at once
                log.info("vm {}: identity through vmctl-identity failed ({}): through the agent", r.name(), e.getMessage());
            }
        }
        List<CloneIdentity.Nic> ids = new ArrayList<>();
        for (NetRows.NicRow n : store.nics(id)) ids.add(new CloneIdentity.Nic(n.name(), n.mac(), null, null));
        CloneIdentity.apply(rt.agent(), CloneIdentity.Spec.of(r.name(), ids), Duration.ofSeconds(30));
        return false;
    }

    /**
     * A warm start: QEMU restores the boot snapshot (RAM mapped copy-on-write from hard links in the VM's folder, so a
     * later delete of the boot snapshot leaves this VM alone), then the guest's resident vmctl-identity gives it its own
     * host name, machine-id, the host's clock, host entropy and a reseeded CRNG, and its NICs their own MACs (each found
     * by the boot snapshot's), names, addresses and the default route — no fork or exec in the guest. Returns the running
     * VM, or null when any of it failed (the boot snapshot is then deleted and the caller boots cold); a cancel is thrown on.
     */
    private VmRuntime startWarm(Operations.Op op, VmRow r, ImageInfo img, VerifiedSnapshot snap) {
        String id = r.id();
        VmRuntime rt = null;
        setBoot(id, VmRow.WARM, snap.name());
        VmFiles files = null;
        GuestProfile profile = GuestProfile.of(img);
        try {
            progress(op, id, r.name(), "launching qemu (warm: boot snapshot " + snap.name() + ")");
            files = dir.vmForBoot(id, r.memoryMiB());
            prepareFiles(files, true);
            // a VM with a root disk: its own copy of the disk as the boot snapshot holds it (the guest's page cache in
            // the snapshot's RAM matches it); the VM's fresh overlay is kept aside in case this start falls back to cold
            if (profile.rootDisk()) VmDisks.forWarmStart(snap, files);
            List<QemuCommand.Nic> nics = net.prepareTaps(id);
            QemuCommand.Spec spec = snap.linkedCloneSpec(id, r.name(), files, nics, bootLinks(files));
            long t0 = System.nanoTime();
            rt = launch(r, spec.kvm() ? "kvm" : "tcg", spec);
            rt.trial = true;
            long t1 = System.nanoTime();
            if (op != null) op.checkCancelled();
            snap.load(rt.qmp(), true, Duration.ofSeconds(60));
            long t2 = System.nanoTime();
            waitForAgent(op, rt);
            long t3 = System.nanoTime();
            // host name, machine-id, clock, entropy and the CRNG reseed, and the NICs: each found by the boot snapshot's
            // MAC, given its own, named ethN, addressed, announced; the default route
            Map<Integer, String> templateMacs = new java.util.HashMap<>();
            for (var n : snap.manifest().vm().nics()) templateMacs.put(n.index(), n.mac());
            boolean helper = boots.carriesIdentityHelper(img); // tiny: always (else no boot snapshots); Debian: built since it has one
            if (helper) {
                try {
                    CloneIdentity.applyThroughHelper(rt.vm, CloneIdentity.Spec.of(r.name(), net.guestNics(id, templateMacs)), Duration.ofSeconds(30));
                } catch (VmctlException e) {
                    // a systemd guest whose restored vmctl-identity is not reading its FIFO (seen under load: ENXIO on the
                    // open; not understood yet): the agent's scripts give the same identity, only slower
                    if (!profile.rootDisk() || e.kind() != VmctlException.Kind.UNAVAILABLE) throw e;
                    log.info("vm {}: identity through vmctl-identity failed ({}): through the agent's scripts", r.name(), e.getMessage());
                    helper = false;
                }
            }
            if (!helper) {
                // no resident helper (a Debian image built before its initramfs had one): the identity script through the agent gives the host name,
                // machine-id, clock, entropy and each NIC (found by the boot snapshot's MAC) its own MAC; the network
                // script then names and addresses the NICs by those MACs (and applies guest-side netem)
                List<CloneIdentity.Nic> macs = net.guestNics(id, templateMacs).stream()
                        .map(n -> new CloneIdentity.Nic(n.device(), n.mac(), null, null, n.fromMac())).toList();
                CloneIdentity.apply(rt.agent(), CloneIdentity.Spec.of(r.name(), macs), Duration.ofSeconds(30));
                net.configureGuest(id, rt.agent());
            }
            long t4 = System.nanoTime();
            rt.trial = false;
            if (!rt.alive()) throw new IllegalStateException("qemu exited during the warm start");
            if (helper) net.applyGuestNetem(id, rt.agent());
            if (profile.rootDisk()) VmDisks.warmSucceeded(files);
            log.info("vm {}: warm start from {}: qemu up {} ms, state loaded {} ms, agent {} ms, identity and NICs {} ms", r.name(),
                    snap.name(), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3));
            return rt;
        } catch (RuntimeException e) {
            if (op != null && op.cancelRequested()) throw e;
            log.warn("vm {}: warm boot from {} failed, booting cold: {}", r.name(), snap.name(), e.getMessage());
            progress(op, id, r.name(), "warm boot from boot snapshot " + snap.name() + " failed (" + e.getMessage() + "): booting cold");
            if (rt != null) {
                rt.expectedExit = true;
                kill(rt, Duration.ofSeconds(2));
                runtimes.remove(id, rt);
            }
            synchronized (rowLock(id)) {
                VmRow now = row(id);
                store.update(now.withProcess(null, null, now.runAccel()));
            }
            if (files != null && profile.rootDisk()) VmDisks.warmFailed(files);
            boots.discard(snap.name(), "a warm boot from it failed: " + e.getMessage());
            return null;
        }
    }

    /**
     * Before a boot snapshot is recorded: waits (at most 2 minutes) until the guest's own boot has finished
     * ({@link GuestProfile#settleArgv}), so that warm copies start idle. A failure only means an earlier snapshot.
     */
    private void settleBeforeRecording(Operations.Op op, VmRuntime rt, ImageInfo img, String vmName) {
        List<String> argv = GuestProfile.of(img).settleArgv();
        GuestAgentClient agent = rt.agent();
        if (argv.isEmpty() || agent == null) return;
        progress(op, rt.id, vmName, "waiting for the guest's boot to finish before its boot snapshot is recorded");
        long t0 = System.nanoTime();
        try {
            var res = agent.exec(argv, null, Duration.ofMinutes(2));
            log.info("vm {}: guest boot finished ({}) after {} ms more", vmName, res.stdout().strip(), ms(System.nanoTime() - t0));
        } catch (RuntimeException e) {
            log.info("vm {}: waiting for the guest's boot: {}", vmName, e.getMessage());
        }
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Where a warm VM's links to its boot snapshot's kernel, initrd and RAM file live (removed when its QEMU ends). */
    static Path bootLinks(VmFiles files) {
        return files.dir().resolve("boot-snapshot");
    }

    /** Records how this start of the VM began (the API's {@code boot}). */
    private void setBoot(String id, String how, String bootSnapshot) {
        synchronized (rowLock(id)) {
            store.update(row(id).withBoot(how, bootSnapshot));
        }
    }

    /**
     * Before a hard reset or a kill of a running VM that boots from a disk: the guest writes its dirty pages to the
     * disk (best effort, a few seconds at most), so what the guest wrote survives the reboot.
     */
    void flushGuestDisk(VmRuntime rt, VmRow r) {
        ImageInfo img = images.list().stream().filter(i -> i.name().equals(r.image())).findFirst().orElse(null);
        List<String> argv = GuestProfile.of(img).flushArgv();
        GuestAgentClient agent = rt == null ? null : rt.agent();
        if (argv.isEmpty() || agent == null) return;
        try {
            agent.exec(argv, null, Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.info("vm {}: sync before reset: {}", r.name(), e.getMessage());
        }
    }

    /** A progress sink for helpers that have no operation at hand (logged). */
    private void progressOf(String message) {
        log.info(message);
    }

    private void progress(Operations.Op op, String id, String name, String message) {
        if (op != null) op.progress(message);
        events.publishData(dev.vmctl.model.EventType.VM_PROGRESS, id, name, null, VmState.PREPARING, message, view(id));
    }

    /** A cancelled boot: QEMU ends, the VM is STOPPED with nothing left behind. */
    private void cancelBoot(String id, VmRuntime rt) {
        endBoot(id, rt, VmState.STOPPED, null, "boot cancelled");
        synchronized (rowLock(id)) {
            clearProcess(id);
        }
    }

    /** Ends a boot that did not reach RUNNING: QEMU goes, a VM still PREPARING or RUNNING moves to {@code to}. */
    private void endBoot(String id, VmRuntime rt, VmState to, String error, String message) {
        if (rt != null) {
            rt.expectedExit = true;
            kill(rt, Duration.ofSeconds(2));
        }
        synchronized (rowLock(id)) {
            store.byIdOrName(id).ifPresent(r -> {
                if (r.state() == VmState.PREPARING || r.state() == VmState.RUNNING) {
                    transition(id, to, error, message);
                    clearProcess(id);
                }
            });
        }
    }

    void prepareFiles(VmFiles files, boolean freshRam) {
        try {
            Files.createDirectories(files.dir());
            for (Path p : List.of(files.qmpSocket(), files.agentSocket(), files.pidFile())) Files.deleteIfExists(p);
            // the file-transfer share starts empty (what a transfer left there is stale)
            if (Files.exists(files.shareDir())) FileTree.delete(files.shareDir());
            Files.createDirectories(files.shareDir());
            if (freshRam) Files.deleteIfExists(files.ramFile());
            FileTree.delete(bootLinks(files));
        } catch (IOException e) {
            throw new UncheckedIOException("prepare " + files.dir() + ": " + e.getMessage(), e);
        }
    }

    private VmRuntime launch(VmRow r, String accelName, QemuCommand.Spec spec) {
        QemuVm vm = launcher.launch(spec);
        VmRuntime rt = new VmRuntime(r.id(), vm);
        runtimes.put(r.id(), rt);
        synchronized (rowLock(r.id())) {
            store.update(row(r.id()).withProcess(vm.pid(), vm.pidStart(), accelName));
        }
        watch(rt);
        if (limits != null) limits.apply(r.id(), vm.pid());
        vm.connectQmp(Duration.ofSeconds(15));
        return rt;
    }

    /** Records the process's exit when it happens (outside any operation). */
    void watch(VmRuntime rt) {
        rt.vm.exited().thenRun(() -> Operations.outside(() -> onProcessExit(rt)));
    }

    private void waitForAgent(Operations.Op op, VmRuntime rt) {
        try {
            rt.vm.awaitAgent(bootTimeout, () -> op != null && op.cancelRequested());
        } catch (VmctlException e) {
            if (op != null) op.checkCancelled(); // a cancel is not a failure
            throw e;
        }
    }

    void failBoot(String id, VmRuntime rt, RuntimeException e) {
        String reason = e.getMessage();
        if (rt != null && rt.expectedExit) return; // a stop or destroy ended the boot: it records the state
        // QemuVm's readiness errors already end with the console tail
        String tail = reason != null && reason.contains("last console lines:") ? "" : consoleTail(id);
        endBoot(id, rt, VmState.ERROR, "boot failed: " + reason + tail, "boot failed");
        log.warn("vm {}: boot failed: {}", id, reason);
    }

    /** Shuts the guest down (agent, then QMP quit, then SIGKILL) and records STOPPED. */
    void stopNow(String id) {
        VmRuntime rt = runtimes.get(id);
        if (rt != null) {
            rt.expectedExit = true;
            boolean graceful = false;
            GuestAgentClient agent = rt.agent();
            if (agent != null && row(id).state() == VmState.RUNNING) {
                try {
                    agent.shutdown("powerdown");
                    graceful = waitExit(rt, Duration.ofSeconds(10));
                } catch (RuntimeException e) {
                    log.info("vm {}: agent shutdown failed: {}", id, e.getMessage());
                }
            }
            if (!graceful) kill(rt, Duration.ofSeconds(3));
        } else {
            VmRow r = row(id);
            if (r.pid() != null && r.pidStart() != null && Procs.isSame(r.pid(), r.pidStart())) {
                Procs.terminate(r.pid(), Duration.ofSeconds(2));
            }
        }
        synchronized (rowLock(id)) {
            VmRow r = row(id);
            if (r.state() != VmState.STOPPED && r.state() != VmState.DESTROYED) {
                transition(id, VmState.STOPPED, null, "stopped");
            }
            clearProcess(id);
        }
        maybeRemoveFabric();
    }

    // ---------------------------------------------------------------- process exits

    void onProcessExit(VmRuntime rt) {
        runtimes.remove(rt.id, rt);
        rt.vm.closeClients();
        if (rt.expectedExit || rt.trial) return;
        synchronized (rowLock(rt.id)) {
            VmRow r = store.byIdOrName(rt.id).orElse(null);
            if (r == null || r.pid() == null || r.pid() != rt.pid()) return;
            if (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) {
                if (rt.vm.guestShutdown()) {
                    transition(r.id(), VmState.STOPPED, null, "the guest powered itself off");
                } else {
                    transition(r.id(), VmState.ERROR, "qemu process " + rt.pid() + " exited unexpectedly ("
                            + rt.vm.exitDescription() + ")" + qemuLogTail(r.id()) + consoleTail(r.id()), "qemu exited");
                }
                clearProcess(r.id());
            }
        }
    }

    void clearProcess(String id) {
        store.byIdOrName(id).ifPresent(r -> store.update(r.withProcess(null, null, r.runAccel()).withBoot(r.boot(), null)));
        try {
            net.releaseTaps(id);
        } catch (RuntimeException e) {
            log.warn("vm {}: release taps: {}", id, e.getMessage());
        }
        if (limits != null) limits.release(id);
        VmFiles f = dir.vm(id);
        try {
            for (Path p : List.of(f.qmpSocket(), f.agentSocket(), f.pidFile(), f.ramFile())) Files.deleteIfExists(p);
            FileTree.delete(bootLinks(f)); // a warm VM's links to its boot snapshot's files: its share of them goes
        } catch (IOException ignored) {
            // best effort: reconcile removes the folder with the VM
        }
    }

    // ---------------------------------------------------------------- links (needed after every boot)

    /** QMP set_link for every NIC the user has taken down (after boot or re-attach). */
    void applyLinkStates(VmRuntime rt, String id) {
        for (NetRows.NicRow n : store.nics(id)) {
            if (!n.linkUp()) setLink(rt, n, false);
        }
    }

    void setLink(VmRuntime rt, NetRows.NicRow n, boolean up) {
        rt.linkChanged = true;
        rt.vm.setLink("nic" + n.index(), up);
    }

    boolean anyLive() {
        return !runtimes.isEmpty() || store.all().stream()
                .anyMatch(r -> r.state() == VmState.RUNNING || r.state() == VmState.PREPARING);
    }

    /** True when a VM whose QEMU runs (or would run) in the fabric is running or booting. */
    boolean anyLiveInFabric() {
        for (String id : runtimes.keySet()) if (net.inFabric(id)) return true;
        return store.all().stream().anyMatch(r -> (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) && net.inFabric(r.id()));
    }

    /** With no VM running or booting: the fabric namespace (nothing of the fabric left) and the (empty) tmpfs folder of RAM files go. */
    void maybeRemoveFabric() {
        boolean live = anyLive();
        try {
            net.maybeRemoveFabric(live && anyLiveInFabric());
        } catch (RuntimeException e) {
            log.warn("remove fabric namespace: {}", e.getMessage());
        }
        if (!live) dir.ramFiles().removeFolderIfEmpty();
    }

    // ---------------------------------------------------------------- process control

    boolean waitExit(VmRuntime rt, Duration d) {
        return rt.vm.waitExit(d);
    }

    /** Ends the VM's QEMU: QMP quit, then SIGKILL. Only this VM's own PID is ever signalled. */
    void kill(VmRuntime rt, Duration grace) {
        rt.vm.kill(grace);
        if (rt.vm.alive()) log.warn("vm {}: qemu {} did not exit", rt.id, rt.pid());
    }

    // ---------------------------------------------------------------- small helpers

    String consoleTail(String id) {
        return QemuVm.tailOf(dir.vm(id).console(), 12, "\nlast console lines:\n");
    }

    String qemuLogTail(String id) {
        return QemuVm.tailOf(dir.vm(id).qemuLog(), 5, "\nqemu said:\n");
    }

    static void deleteQuietly(Path p) {
        try {
            FileTree.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException("delete " + p + ": " + e.getMessage(), e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmctlException(VmctlException.Kind.INTERNAL, "interrupted", null);
        }
    }

    static String newId() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static String now() {
        return Instant.now().toString();
    }
}
