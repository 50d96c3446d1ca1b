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
    private final Reconciler reconciler;
    private final ImageService images;
    private final Store store;
    private final ArtifactService artifacts;

    public Engine(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net,
                  SnapshotStore snapshotStore, Duration bootTimeout) {
        this(dir, store, events, images, accel, net, snapshotStore, bootTimeout, QemuLauncher.inNamespace(() -> net.host().fabric()));
    }

    /** With another way to start QEMU (the engine's unit tests start a stand-in). */
    public Engine(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net,
                  SnapshotStore snapshotStore, Duration bootTimeout, QemuLauncher launcher) {
        this.store = store;
        this.images = images;
        this.ops = new Operations(new OperationStore(store), events);
        this.core = new VmCore(dir, store, events, images, accel, net, ops, bootTimeout, launcher);
        this.vms = new VmService(core);
        this.nics = new NicService(core);
        this.snapshots = new SnapshotService(core, snapshotStore);
        this.networks = new Networks(net, ops, core);
        this.reconciler = new Reconciler(core);
        this.artifacts = new ArtifactService(core, new dev.vmctl.artifact.ArtifactFetcher(
                new dev.vmctl.artifact.ArtifactCache(dir.root().resolve("artifacts")), System.getenv("VMCTL_MAVEN_REPO")));
        core.artifacts = artifacts;
    }

    /** Once at start-up, before serving: fail interrupted operations, re-attach or clean up VMs. */
    public void reconcile() {
        reconciler.reconcile();
    }

    public Operations ops() { return ops; }
    public VmService vms() { return vms; }
    public NicService nics() { return nics; }
    public SnapshotService snapshots() { return snapshots; }
    public Networks networks() { return networks; }
    public ArtifactService artifacts() { return artifacts; }
    public Store store() { return store; }

    /** Builds an image as an operation ({@code image.build} on lane image:NAME). */
    public dev.vmctl.engine.op.Accepted<dev.vmctl.model.ImageInfo> buildImage(String name, String kernel) {
        return ops.run(Operations.Spec.of("image.build", "image:" + name), Duration.ofHours(1), o -> images.build(name, kernel, o::progress));
    }

    @Override
    public void close() {
        vms.close();
        artifacts.close();
        // VMs outlive the server; an empty folder of RAM files (no VM left) does not
        core.dir.ramFiles().removeFolderIfEmpty();
    }
}
