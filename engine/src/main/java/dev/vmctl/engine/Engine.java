package dev.vmctl.engine;

import dev.vmctl.engine.op.OperationStore;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.snapshot.SnapshotStore;

import java.time.Duration;

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
    private final Store store;

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
        this.core = new VmCore(dir, store, events, images, accel, net, ops, bootTimeout, launcher);
        this.vms = new VmService(core);
        this.nics = new NicService(core);
        this.snapshots = new SnapshotService(core, snapshotStore);
        this.networks = new Networks(net, ops, core);
        this.segments = new Segments(new SegmentService(store, events, net, segmentHost, dir.root(), segmentPool), ops, vms, core);
        this.reconciler = new Reconciler(core);
    }

    private static SegmentHost defaultSegmentHost(NetService net) {
        return net.host() instanceof LinuxHostNet l ? new LinuxSegmentHost(l.fabric(), l.capabilities()) : SegmentHost.none(net.host().fabric());
    }

    /** Once at start-up, before serving: fail interrupted operations, re-attach or clean up VMs. */
    public void reconcile() {
        reconciler.reconcile();
        segments.start();
    }

    public Operations ops() { return ops; }
    public VmService vms() { return vms; }
    public NicService nics() { return nics; }
    public SnapshotService snapshots() { return snapshots; }
    public Networks networks() { return networks; }
    public Segments segments() { return segments; }
    public Store store() { return store; }

    /** Builds an image as an operation ({@code image.build} on lane image:NAME). */
    public dev.vmctl.engine.op.Accepted<dev.vmctl.model.ImageInfo> buildImage(String name, String kernel) {
        return ops.run(Operations.Spec.of("image.build", "image:" + name), Duration.ofHours(1), o -> images.build(name, kernel, o::progress));
    }

    @Override
    public void close() {
        segments.close();
        vms.close();
        // VMs outlive the server; an empty folder of RAM files (no VM left) does not
        core.dir.ramFiles().removeFolderIfEmpty();
    }
}
