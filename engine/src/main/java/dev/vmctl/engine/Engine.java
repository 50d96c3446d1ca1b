package dev.vmctl.engine;

import dev.vmctl.engine.op.OperationStore;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.snapshot.SnapshotStore;

import java.time.Duration;
import java.util.List;

/** Wires the engine's services around one store, one event bus and one operation executor. */
public final class Engine implements AutoCloseable {
    private final Operations ops;
    private final VmCore core;
    private final VmService vms;
    private final NicService nics;
    private final SnapshotService snapshots;
    private final Networks networks;
    private final Segments segments;
    private final Reconciler reconciler;
    private final ImageService images;
    private final BootSnapshots boots;
    private final Store store;
    private final ArtifactService artifacts;
    private final MetricsService metrics;
    private final ResourceLimits limits;

    public Engine(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net,
                  SnapshotStore snapshotStore, Duration bootTimeout) {
        this(dir, store, events, images, accel, net, snapshotStore, bootTimeout, QemuLauncher.inNamespaceOf(spec -> net.namespaceOfVm(spec.id())));
    }

    /** With another way to start QEMU (the engine's unit tests start a stand-in). */
    public Engine(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net,
                  SnapshotStore snapshotStore, Duration bootTimeout, QemuLauncher launcher) {
        this(dir, store, events, images, accel, net, snapshotStore, bootTimeout, launcher, defaultSegmentHost(net),
                net.host() instanceof LinuxHostNet ? Integer.getInteger("vmctl.segmentPool", 4) : 0);
    }

    /**
     * With the host side of segments and the size of their pool of prepared namespaces ({@code vmctl.segmentPool},
     * default 4) given (the engine's unit tests use an in-memory host).
     */
    public Engine(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net,
                  SnapshotStore snapshotStore, Duration bootTimeout, QemuLauncher launcher, SegmentHost segmentHost, int segmentPool) {
        this.store = store;
        this.images = images;
        this.ops = new Operations(new OperationStore(store), events);
        this.boots = new BootSnapshots(new SnapshotStore(dir.root().resolve(BootSnapshots.DIR)), store, images, accel::qemuVersion, events);
        this.core = new VmCore(dir, store, events, images, accel, net, ops, bootTimeout, launcher, boots);
        this.vms = new VmService(core);
        this.nics = new NicService(core);
        this.snapshots = new SnapshotService(core, snapshotStore);
        this.networks = new Networks(net, ops, core);
        this.segments = new Segments(new SegmentService(store, events, net, segmentHost, dir.root(), segmentPool), ops, vms, core);
        this.reconciler = new Reconciler(core);
        this.artifacts = new ArtifactService(core, new dev.vmctl.artifact.ArtifactFetcher(
                new dev.vmctl.artifact.ArtifactCache(dir.root().resolve("artifacts")), defaultMavenRepo()));
        core.artifacts = artifacts;
        this.metrics = new MetricsService(core);
        this.limits = new ResourceLimits(new dev.vmctl.host.Cgroups(dev.vmctl.host.Cgroups.detect(dev.vmctl.net.NetNames.fabric(dir.root()))), store);
        core.limits = limits;
        net.egressPolicy(limits::egressGroupOf);
    }

    private static SegmentHost defaultSegmentHost(NetService net) {
        return net.host() instanceof LinuxHostNet l ? new LinuxSegmentHost(l.fabric(), l.capabilities()) : SegmentHost.none(net.host().fabric());
    }

    /** Once at start-up, before serving: fail interrupted operations, re-attach or clean up VMs, drop stale boot snapshots. */
    public void reconcile() {
        reconciler.reconcile();
        boots.reconcile();
        segments.start();
        limits.reconcile(java.util.Set.copyOf(core.runtimes.keySet()));
    }

    public Operations ops() { return ops; }
    public VmService vms() { return vms; }
    public NicService nics() { return nics; }
    public SnapshotService snapshots() { return snapshots; }
    public Networks networks() { return networks; }
    public Segments segments() { return segments; }
    public ArtifactService artifacts() { return artifacts; }
    public Store store() { return store; }
    VmCore core() { return core; }
    public BootSnapshots bootSnapshots() { return boots; }
    public MetricsService metrics() { return metrics; }
    public ResourceLimits limits() { return limits; }
    /** Admission control for guest memory (the budget {@code GET /api/v1/host} shows). */
    public MemoryBudget memory() { return core.budget; }

    /** Re-writes the cgroup limits of the running VMs from the applied topologies (after an apply). */
    public void refreshLimits() {
        limits.refresh(java.util.Set.copyOf(core.runtimes.keySet()));
        core.net.refreshEgress(java.util.Set.copyOf(core.runtimes.keySet()));
    }

    /**
     * Builds an image as an operation ({@code image.build} on lane image:NAME). The image's boot snapshots are deleted
     * once it is built (VMs restored from them keep running: they hold links to their files).
     */
    public dev.vmctl.engine.op.Accepted<dev.vmctl.model.ImageInfo> buildImage(String name, String kernel) {
        return buildImage(name, kernel, null, null);
    }

    /** @param packages extra packages (Debian images), comma-separated; @param size their rootfs size ("2G"); null: defaults */
    public dev.vmctl.engine.op.Accepted<dev.vmctl.model.ImageInfo> buildImage(String name, String kernel, String packages, String size) {
        images.checkBuildable(name, kernel, packages, size); // a 400 before any operation
        return ops.run(Operations.Spec.of("image.build", "image:" + name), Duration.ofHours(1), o -> {
            dev.vmctl.model.ImageInfo built = images.build(name, kernel, packages, size, o::progress);
            List<String> gone = boots.invalidate(name);
            if (!gone.isEmpty()) o.progress("deleted " + gone.size() + " boot snapshot(s) of the old build");
            return built;
        });
    }

    /**
     * Removes an image (its catalog entry, its folder and its boot snapshots); 409 while VMs or snapshots use it. The
     * caches (kernel, Debian rootfs) stay: a rebuild of the same recipe takes them.
     */
    public dev.vmctl.engine.op.Accepted<dev.vmctl.model.ImageInfo> removeImage(String name) {
        dev.vmctl.model.ImageInfo img = images.get(name);
        return ops.run(Operations.Spec.of("image.delete", "image:" + name), Duration.ofMinutes(5), o -> {
            List<String> vmsUsing = core.store.all().stream().filter(r -> name.equals(r.image())).map(VmRow::name).sorted().toList();
            List<String> snapsUsing = snapshots().usingImage(name);
            if (!vmsUsing.isEmpty() || !snapsUsing.isEmpty()) {
                throw dev.vmctl.model.VmctlException.conflict("remove image " + name + ": it is in use"
                        + (vmsUsing.isEmpty() ? "" : " by vm(s) " + String.join(", ", vmsUsing))
                        + (snapsUsing.isEmpty() ? "" : (vmsUsing.isEmpty() ? "" : " and") + " by snapshot(s) " + String.join(", ", snapsUsing)),
                        "remove them first (vmctl vm rm, vmctl snapshot rm)");
            }
            List<String> gone = boots.invalidate(name);
            if (!gone.isEmpty()) o.progress("deleted " + gone.size() + " boot snapshot(s)");
            images.remove(name);
            return img;
        });
    }

    /** Imports a user's kernel and rootfs as an image ({@code image.import} on lane image:NAME); 400 naming what is wrong. */
    public dev.vmctl.engine.op.Accepted<dev.vmctl.model.ImageInfo> importImage(String name, String kernel, String rootfs, String initrd,
                                                                               String os) {
        return ops.run(Operations.Spec.of("image.import", "image:" + name), Duration.ofMinutes(30),
                o -> images.importImage(name, kernel, rootfs, initrd, os, o::progress));
    }

    /** An image and its boot snapshots (404 for an unknown image). */
    public dev.vmctl.model.ImageDetail image(String name) {
        return new dev.vmctl.model.ImageDetail(images.get(name), boots.list(name));
    }

    @Override
    public void close() {
        segments.close();
        metrics.close();
        vms.close();
        artifacts.close();
        // VMs outlive the server; an empty folder of RAM files (no VM left) does not
        core.dir.ramFiles().removeFolderIfEmpty();
    }

    /**
     * The repository of {@code maven=} artifacts that name none: {@code VMCTL_MAVEN_REPO}, else the mirror of Central in
     * the Maven settings ({@code VMCTL_MAVEN_SETTINGS} or {@code ~/.m2/settings.xml}), else Maven Central.
     */
    static String defaultMavenRepo() {
        String env = System.getenv("VMCTL_MAVEN_REPO");
        if (env != null && !env.isBlank()) return env;
        return dev.vmctl.artifact.MavenSettings.centralMirror(dev.vmctl.artifact.MavenSettings.defaultFile()).orElse(null);
    }
}
