package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.host.Procs;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Names;
import dev.vmctl.model.SnapshotView;
import dev.vmctl.model.NetworkView;
import dev.vmctl.model.VmOperation;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.SnapshotManifest;
import dev.vmctl.snapshot.SnapshotStore;
import dev.vmctl.snapshot.Snapshotter;
import dev.vmctl.snapshot.VerifiedSnapshot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Snapshots of running VMs, roll-back (restore), clones with a fresh identity, and snapshots of a group of
 * VMs taken at one moment (nodes). Saving a VM and restoring it run on the VM's lane; a clone's boot runs
 * on the new VM's lane, so a stop or rm of a clone mid-boot cancels it like any boot.
 */
public final class SnapshotService {
    private final VmCore core;
    private final SnapshotStore snapshots;

    SnapshotService(VmCore core, SnapshotStore snapshots) {
        this.core = core;
        this.snapshots = snapshots;
    }

    public SnapshotStore store() {
        return snapshots;
    }

    static String lane(String snapshot) {
        return "snapshot:" + snapshot;
    }

    // ---------------------------------------------------------------- take

    /** Memory, device state (and disk) of a running VM; the VM is paused for tens of milliseconds and keeps running. */
    public Accepted<Snapshotter.Result> snapshot(String key, String name) {
        Names.check("name", name);
        String id = core.row(key).id();
        return core.ops.run(new Operations.Spec("snapshot.create", VmCore.lane(id),
                List.of(VmCore.lane(id), lane(name)), false), Duration.ofMinutes(10), o -> {
            VmRow r = core.row(id);
            VmOperation.SNAPSHOT.check(r.name(), r.state());
            if (snapshots.exists(name)) {
                throw VmctlException.conflict("snapshot " + name + " already exists", "choose another name or remove it first");
            }
            return take(id, core.runtimes.get(id), name);
        });
    }

    /**
     * Snapshots several VMs at the same moment (a node): every VM is paused first, then each is saved,
     * then all are resumed — the guests' clocks and state line up across the group. Each VM's part runs
     * on its own lane (so nothing else touches it meanwhile); the parts wait for each other.
     * @param names vm id or name → snapshot name
     */
    public List<Snapshotter.Result> snapshotGroup(Map<String, String> names) {
        Map<String, String> snapOf = new LinkedHashMap<>();
        for (var e : names.entrySet()) {
            Names.check("name", e.getValue());
            if (snapshots.exists(e.getValue())) {
                throw VmctlException.conflict("snapshot " + e.getValue() + " already exists", "choose another name or remove it first");
            }
            snapOf.put(core.row(e.getKey()).id(), e.getValue());
        }
        int n = snapOf.size();
        CountDownLatch paused = new CountDownLatch(n);
        CountDownLatch saved = new CountDownLatch(n);
        AtomicReference<String> abort = new AtomicReference<>();
        List<Operations.Op> parts = new ArrayList<>();
        for (var e : snapOf.entrySet()) {
            String id = e.getKey();
            String snap = e.getValue();
            parts.add(core.ops.submit(new Operations.Spec("snapshot.create", VmCore.lane(id), List.of(VmCore.lane(id), lane(snap)), false), o -> {
                VmRuntime rt = null;
                boolean stopped = false;
                try {
                    try {
                        VmRow r = core.row(id);
                        if (r.state() != VmState.RUNNING) {
                            throw new VmctlException(VmctlException.Kind.WRONG_STATE, "snapshot: vm " + r.name() + " is " + r.state(),
                                    "current state: " + r.state() + "; every VM of the group must be RUNNING");
                        }
                        rt = core.runtimes.get(id);
                        rt.vm.stopCpus();
                        stopped = true;
                    } catch (RuntimeException ex) {
                        abort.compareAndSet(null, ex.getMessage());
                        throw ex;
                    } finally {
                        paused.countDown();
                    }
                    if (!paused.await(60, TimeUnit.SECONDS) || abort.get() != null) {
                        throw VmctlException.conflict("group snapshot abandoned: " + abort.get(), null);
                    }
                    Snapshotter.Result res;
                    try {
                        res = take(id, rt, snap);
                    } catch (RuntimeException ex) {
                        abort.compareAndSet(null, ex.getMessage());
                        throw ex;
                    } finally {
                        saved.countDown();
                    }
                    saved.await(5, TimeUnit.MINUTES);
                    return res;
                } finally {
                    if (stopped) {
                        try {
                            rt.vm.cont();
                        } catch (RuntimeException ex) {
                            org.slf4j.LoggerFactory.getLogger(SnapshotService.class).warn("vm {}: resume after group snapshot: {}", id, ex.getMessage());
                        }
                    }
                }
            }));
        }
        List<Snapshotter.Result> out = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (Operations.Op p : parts) {
            try {
                out.add((Snapshotter.Result) p.join(Duration.ofMinutes(10)));
            } catch (RuntimeException ex) {
                errors.add(ex.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            for (Snapshotter.Result r : out) {
                try {
                    snapshots.delete(r.manifest().name(), x -> false);
                } catch (RuntimeException ignored) {
                    // best effort: a half group is not kept
                }
            }
            throw new VmctlException(VmctlException.Kind.CONFLICT, "group snapshot failed: " + String.join("; ", errors), null);
        }
        return out;
    }

    private Snapshotter.Result take(String vmId, VmRuntime rt, String name) {
        if (rt == null || rt.qmp() == null) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "snapshot: vm " + vmId + " has no qemu control connection", null);
        }
        List<String> args = Procs.cmdline(rt.pid()).orElse(List.of());
        Path kernel = Path.of(argAfter(args, "-kernel"));
        Path initrd = Path.of(argAfter(args, "-initrd"));
        VmRow now = core.row(vmId);
        ImageInfo img = core.images.list().stream().filter(i -> i.name().equals(now.image())).findFirst().orElse(null);
        boolean fromImage = img != null && kernel.toString().equals(img.kernel());
        Path ram = ramShared(rt) ? rt.files().ramFile() : null;
        List<SnapshotManifest.Nic> nics = core.store.nics(vmId).stream()
                .map(n -> new SnapshotManifest.Nic(n.index(), n.mac())).toList();
        var src = new Snapshotter.Source(now.name(), now.image(), kernel, fromImage ? img.kernelSha256() : null,
                initrd, fromImage ? img.initrdSha256() : null, now.cpus(), now.memoryMiB(), "kvm".equals(now.runAccel()),
                // the manifest remembers the file-transfer share and the root disk through the extra command line
                // (QemuCommand.SHARE_CMDLINE, ROOT_DISK_CMDLINE: the guest profile's)
                extraCmdline(args), nics, ram, disk(rt, args));
        String parent = core.store.sourceOf(vmId);
        var res = Snapshotter.take(snapshots, name, rt.qmp(), src, new Snapshotter.Options(ram == null, true, parent, Duration.ofMinutes(2)));
        core.events.publishData(dev.vmctl.model.EventType.SNAPSHOT_CREATED, vmId, now.name(), null, now.state(),
                name + " (paused " + res.pausedMillis() + " ms)", view(res.manifest(), List.of()).withTimes(res.pausedMillis(), res.totalMillis()));
        return res;
    }

    /** The part of the running VM's kernel command line that a restore needs again (it selects the device layout). */
    private static String extraCmdline(List<String> args) {
        if (!args.contains("-append")) return null;
        String append = argAfter(args, "-append");
        if (dev.vmctl.vmm.QemuCommand.hasRootDisk(append)) return dev.vmctl.vmm.GuestProfile.SYSTEMD.extraCmdline();
        return dev.vmctl.vmm.QemuCommand.hasShare(append) ? dev.vmctl.vmm.QemuCommand.SHARE_CMDLINE : null;
    }

    /** The VM's disk overlay and its backing file (the image's rootfs, or the snapshot a clone was made from), or null. */
    private static Snapshotter.Disk disk(VmRuntime rt, List<String> args) {
        if (!args.contains("-append") || !dev.vmctl.vmm.QemuCommand.hasRootDisk(argAfter(args, "-append"))) return null;
        Path overlay = rt.files().disk();
        dev.vmctl.snapshot.DiskOverlay.Info info = dev.vmctl.snapshot.DiskOverlay.info(overlay);
        return new Snapshotter.Disk(overlay, info.backingFile() == null ? null : Path.of(info.backingFile()), info.backingFormat());
    }

    private static String argAfter(List<String> args, String flag) {
        int i = args.indexOf(flag);
        if (i < 0 || i + 1 >= args.size()) throw new VmctlException(VmctlException.Kind.INTERNAL, "qemu has no " + flag + " argument", null);
        return args.get(i + 1);
    }

    /** Whether the VM's RAM is its own shared file (snapshots skip it in the stream and copy the file). */
    private static boolean ramShared(VmRuntime rt) {
        return rt.vm.qomBool("/objects/mem0", "share");
    }

    // ---------------------------------------------------------------- restore

    /** Rolls a VM back to a snapshot: its QEMU is replaced by one loaded from the snapshot. */
    public Accepted<VmView> restore(String key, String snapshotName) {
        if (snapshotName == null || snapshotName.isBlank()) throw VmctlException.invalid("snapshot", "missing", "the name of a snapshot (vmctl snapshot ls)");
        VmRow r0 = core.row(key);
        String id = r0.id();
        SnapshotManifest sm = snapshots.get(snapshotName); // 404 before any operation
        long mib = sm.vm() == null ? r0.memoryMiB() : sm.vm().memoryMiB();
        // admitted as a boot of the snapshot's memory; the VM's own QEMU, which the restore replaces, gives back what it uses
        Operations.Op op = core.admitted("restore vm " + r0.name() + " from " + snapshotName, id, mib, java.util.Set.of(id),
                () -> core.ops.submitAndAccept(new Operations.Spec("vm.restore", VmCore.lane(id),
                List.of(VmCore.lane(id), lane(snapshotName)), true), o -> {
            VmRow r = core.row(id);
            VmOperation.RESTORE.check(r.name(), r.state());
            VerifiedSnapshot snap = snapshots.verify(snapshotName);
            List<String> want = snap.manifest().vm().nics().stream().map(n -> n.index() + "=" + n.mac()).sorted().toList();
            List<String> have = core.store.nics(id).stream().map(n -> n.index() + "=" + n.mac()).sorted().toList();
            if (!want.equals(have)) {
                throw VmctlException.conflict("restore vm " + r.name() + " from " + snapshotName + ": the VM's NICs " + have
                        + " differ from the snapshot's " + want, "restore a VM from its own snapshot, or clone the snapshot instead");
            }
            VmRuntime old = core.runtimes.get(id);
            if (old != null) {
                old.expectedExit = true;
                core.kill(old, Duration.ofSeconds(2));
            }
            synchronized (core.rowLock(id)) {
                core.store.update(core.row(id).withProcess(null, null, core.row(id).runAccel()));
            }
            core.transition(id, VmState.PREPARING, null, "restoring " + snapshotName);
            o.accept();
            core.boot(o, id, new VmCore.FromSnapshot(snap, false));
            return null;
        }));
        VmView v = core.view(id);
        return new Accepted<>(op.view(), v);
    }

    // ---------------------------------------------------------------- clones

    public record CloneRequest(Integer count, String name, String network, Boolean start) {}

    /** The clone operation's answer: the new VMs as they were when accepted, and each one's boot operation. */
    public record Clones(List<VmView> vms, List<String> operations) {}

    /**
     * New VMs from a snapshot: each maps the snapshot's RAM copy-on-write and gets its own name, MAC, IP,
     * hostname, machine-id. One operation ({@code snapshot.clone}) creates them all and ends when every
     * clone's own boot operation ({@code vm.clone}) has ended.
     */
    public Accepted<Clones> cloneSnapshot(String snapshotName, CloneRequest req) {
        int count = req.count() == null ? 1 : req.count();
        if (count < 1 || count > 64) throw VmctlException.invalid("count", count + " is out of range", "1..64");
        String pattern = req.name() == null ? snapshotName + "-{n}" : req.name();
        if (count > 1 && !pattern.contains("{n}")) {
            throw VmctlException.invalid("name", "'" + pattern + "' has no {n} for " + count + " clones", "a pattern such as web-{n}");
        }
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            String n = pattern.replace("{n}", Integer.toString(i));
            Names.check("name", n);
            if (core.store.byIdOrName(n).isPresent()) throw VmctlException.conflict("clone: vm name " + n + " is already in use", "choose another pattern");
            names.add(n);
        }
        SnapshotManifest manifest = snapshots.get(snapshotName);
        var m = manifest.vm();
        if (!m.nics().isEmpty() && req.network() == null) {
            throw VmctlException.invalid("network", "snapshot " + snapshotName + " has " + m.nics().size() + " NIC(s): say which network the clones join",
                    "names of existing networks: " + core.net.networks().stream().map(NetworkView::name).toList());
        }
        boolean start = req.start() == null || req.start();
        // clones that start are admitted all together, before any exists (a 409 naming memory when they do not fit)
        MemoryBudget.Group budget = start ? core.budget.group("clone " + count + " vm(s) of " + m.memoryMiB() + " MiB from snapshot "
                + snapshotName, (long) count * m.memoryMiB(), java.util.Set.of()) : null;
        Operations.Op op;
        try {
            op = submitClones(snapshotName, req, names, m, start, budget);
        } catch (RuntimeException e) {
            if (budget != null) budget.close();
            throw e;
        }
        if (budget != null) op.whenDone(budget::close);
        Clones c = (Clones) op.acceptedValue();
        if (c == null) c = new Clones(List.of(), List.of());
        return new Accepted<>(op.view(), c);
    }

    private Operations.Op submitClones(String snapshotName, CloneRequest req, List<String> names, SnapshotManifest.Vm m, boolean start,
                                       MemoryBudget.Group budget) {
        return core.ops.submitAndAccept(Operations.Spec.of("snapshot.clone", lane(snapshotName)), o -> {
            VerifiedSnapshot snap = snapshots.verify(snapshotName);
            List<String> ids = new ArrayList<>();
            for (String n : names) {
                String id = createClone(snap.manifest(), n, java.util.Collections.nCopies(m.nics().size(), req.network())).id();
                if (budget != null) budget.assign(id, m.memoryMiB());
                ids.add(id);
            }
            List<Operations.Op> boots = new ArrayList<>();
            if (start) {
                for (String id : ids) boots.add(bootClone(id, snap));
            }
            o.accept(new Clones(ids.stream().map(core::view).toList(), boots.stream().map(Operations.Op::id).toList()));
            List<String> errors = new ArrayList<>();
            for (int i = 0; i < boots.size(); i++) {
                try {
                    boots.get(i).join(Duration.ofMinutes(10));
                } catch (RuntimeException ex) {
                    errors.add(names.get(i) + ": " + ex.getMessage());
                }
            }
            if (!errors.isEmpty()) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, errors.size() + " of " + names.size() + " clone(s) failed: "
                        + String.join("; ", errors), null);
            }
            return null;
        });
    }

    /**
     * Creates one clone of a snapshot (REQUESTED, not started): its row, one NIC per NIC of the snapshot — the
     * snapshot's NIC numbers (device layout) with the clone's own MAC, NIC i on {@code networks.get(i)} with an
     * address from IPAM — and the snapshot as its source. The name must be free (409 otherwise).
     */
    VmView createClone(SnapshotManifest manifest, String name, List<String> networks) {
        return createClone(manifest, name, networks.stream().map(n -> new NetService.NicRequest(n, null)).toList(), true);
    }

    /** As {@link #createClone(SnapshotManifest, String, List)} with NIC requests (a network and, or not, the address to keep). */
    VmView createClone(SnapshotManifest manifest, String name, List<NetService.NicRequest> reqs, boolean ignored) {
        var m = manifest.vm();
        if (reqs.size() != m.nics().size()) {
            throw VmctlException.invalid("networks", reqs.size() + " network(s) for the " + m.nics().size() + " NIC(s) of snapshot "
                    + manifest.name(), "one network per NIC");
        }
        String now = VmCore.now();
        VmRow row = new VmRow(VmCore.newId(), name, VmState.REQUESTED, m.image(), m.cpus(), m.memoryMiB(), m.accel(), null, now, now,
                null, null, null);
        List<NetRows.NicRow> planned = core.net.planNics(row.id(), reqs);
        List<NetRows.NicRow> nics = new ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            NetRows.NicRow p = planned.get(i);
            nics.add(new NetRows.NicRow(p.vmId(), m.nics().get(i).index(), p.networkId(), p.mac(), p.ip(), true, null));
        }
        core.store.tx("create clone " + name, db -> {
            core.store.insert(row);
            for (NetRows.NicRow nic : nics) core.store.upsertNic(nic);
            core.store.setSource(row.id(), manifest.name());
            return null;
        });
        core.events.publishData(dev.vmctl.model.EventType.VM_STATE, row.id(), name, null, VmState.REQUESTED, "cloned from " + manifest.name(),
                core.view(row.id()));
        return core.view(row.id());
    }

    /**
     * Boots a clone made by {@link #createClone} from the snapshot ({@code vm.clone} on the clone's lane, a child of
     * the calling operation): it is RUNNING once the guest agent answers and the clone has its own identity.
     */
    Operations.Op bootClone(String id, VerifiedSnapshot snap) {
        VmRow r = core.row(id);
        // admitted unless its caller admitted it already (a clone of N, a deploy, a template's copy: MemoryBudget.Group)
        return core.admitted("clone vm " + r.name() + " from snapshot " + snap.name(), id, r.memoryMiB(), java.util.Set.of(),
                () -> core.ops.submitAndAccept(VmService.bootSpec("vm.clone", id), b -> {
                    core.transition(id, VmState.PREPARING, null, "cloning");
                    b.accept();
                    core.boot(b, id, new VmCore.FromSnapshot(snap, true));
                    return null;
                }));
    }

    // ---------------------------------------------------------------- delete, import

    /** Removes a snapshot unless VMs cloned from it still exist. */
    public Accepted<SnapshotManifest> delete(String name) {
        SnapshotManifest m = snapshots.get(name);
        java.util.function.Function<String, String> owner = snapshotOwner;
        String by = owner == null ? null : owner.apply(m.name());
        if (by != null) throw VmctlException.conflict("snapshot " + m.name() + " belongs to " + by, "it goes with it: vmctl template rm");
        return deleteOwned(name);
    }

    /** Who owns a snapshot (e.g. "template web"), or null; such a snapshot is removed only by its owner ({@link #deleteOwned}). */
    volatile java.util.function.Function<String, String> snapshotOwner;

    /** Removes a snapshot whatever owns it (its owner is going), unless VMs cloned from it still exist. */
    Accepted<SnapshotManifest> deleteOwned(String name) {
        SnapshotManifest m = snapshots.get(name);
        return core.ops.run(Operations.Spec.of("snapshot.delete", lane(m.name())), Duration.ofMinutes(10), o -> {
            Map<String, List<String>> clones = core.store.clonesBySnapshot();
            snapshots.delete(m.name(), clones::containsKey);
            return m;
        });
    }

    /** Imports an archive made by export (verified before it is kept). */
    public Accepted<SnapshotManifest> importFrom(Path archive, String name) {
        String laneName = name == null ? "import" : name;
        return core.ops.run(Operations.Spec.of("snapshot.import", lane(laneName)), Duration.ofMinutes(30),
                o -> snapshots.importFrom(archive, name));
    }

    /** The user snapshots (not boot snapshots) taken of VMs of this image, sorted. */
    public List<String> usingImage(String image) {
        return snapshots.list().stream().filter(m -> m.vm() != null && image.equals(m.vm().image()))
                .map(SnapshotManifest::name).filter(n -> !BootShape.isBootSnapshot(n)).sorted().toList();
    }

    public Map<String, List<String>> clonesBySnapshot() {
        return core.store.clonesBySnapshot();
    }

    /** The API's form of a snapshot; its pause and total times are null (they come only with a new snapshot). */
    public static SnapshotView view(SnapshotManifest m, List<String> clones) {
        return new SnapshotView(m.name(), m.createdAt(), m.parent(), m.vm().name(), m.vm().image(), m.vm().cpus(),
                m.vm().memoryMiB(), m.vm().accel(),
                m.state().ramMode() == null ? null : m.state().ramMode().name().toLowerCase(java.util.Locale.ROOT),
                m.state().compressed(),
                m.vm().nics().stream().map(n -> new SnapshotView.Nic(n.index(), n.mac())).toList(),
                m.totalBytes(),
                m.files().stream().map(f -> new SnapshotView.FileEntry(f.path(), f.size(), f.sha256())).toList(),
                m.formatVersion(), clones, null, null);
    }
}
