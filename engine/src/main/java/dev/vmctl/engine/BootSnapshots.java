package dev.vmctl.engine;

import dev.vmctl.image.CpioIndex;
import dev.vmctl.image.IdentityHelper;
import dev.vmctl.model.BootSnapshotView;
import dev.vmctl.model.EventType;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.CloneIdentity;
import dev.vmctl.snapshot.SnapshotManifest;
import dev.vmctl.snapshot.SnapshotStore;
import dev.vmctl.snapshot.Snapshotter;
import dev.vmctl.snapshot.VerifiedSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Boot snapshots ("warm" creates). The first cold boot of an image in a {@link BootShape} saves the VM the moment its
 * guest agent first answers — before vmctl names its NICs, gives them addresses or lets anyone exec in it — into its
 * own snapshot store ({@code DATA/boot-snapshots/IMAGE-KEY/}, same format as user snapshots). The VM is paused only
 * while the device state is saved and its RAM file copied (tens of milliseconds); checksums and the commit run in
 * the background while the VM goes on to RUNNING. A later create of the same shape restores it as a clone (its own
 * RAM copy-on-write, its own host name, machine-id, MACs, addresses, clock and a reseeded CRNG) instead of booting.
 *
 * <p>A boot snapshot is not a user snapshot: {@code vmctl snapshot ls} does not show it, {@code vmctl image show}
 * does. Every {@code image build} deletes the image's boot snapshots (and the build is part of the key anyway); a
 * boot snapshot that no longer matches its image, QEMU or device layout is deleted at start-up. Deleting one never
 * touches a VM restored from it: such a VM holds hard links to its kernel, initrd and RAM file in its own folder
 * ({@link VerifiedSnapshot#linkedCloneSpec}), removed when it stops; the file system frees the blocks with the last link.
 *
 * <p>Verification: a boot snapshot is checksummed when it is committed and kept as a {@link VerifiedSnapshot};
 * before each restore a few {@code stat} calls check that its files are still those ({@link VerifiedSnapshot#unchanged}),
 * otherwise it is verified again (after a server restart: once, in the background at start-up). A damaged one is
 * deleted, and that boot goes cold.
 */
public final class BootSnapshots {
    private static final Logger log = LoggerFactory.getLogger(BootSnapshots.class);
    /** The store's folder in the data directory. */
    public static final String DIR = "boot-snapshots";
    /** The longest a save may take before it is abandoned (the VM is paused meanwhile; it normally takes ~50 ms). */
    private static final Duration CAPTURE_TIMEOUT = Duration.ofSeconds(30);

    private final SnapshotStore store;
    private final Store db;
    private final ImageService images;
    private final Supplier<String> qemuVersion;
    private final EventBus events;
    private final Map<String, VerifiedSnapshot> verified = new ConcurrentHashMap<>();
    /** Names being recorded (captured, not committed yet): no second recording, no restore. */
    private final Set<String> recording = ConcurrentHashMap.newKeySet();
    /** One verification at a time per boot snapshot (a create and the start-up's background check may race). */
    private final Map<String, Object> verifying = new ConcurrentHashMap<>();
    /** initrd SHA-256 → whether it carries vmctl-identity. */
    private final Map<String, Boolean> reseeds = new ConcurrentHashMap<>();

    /** @param qemuVersion QEMU's version (part of every shape), asked only once a VM can have a boot snapshot */
    BootSnapshots(SnapshotStore store, Store db, ImageService images, Supplier<String> qemuVersion, EventBus events) {
        this.store = store;
        this.db = db;
        this.images = images;
        this.qemuVersion = qemuVersion;
        this.events = events;
    }

    public SnapshotStore store() {
        return store;
    }

    // ---------------------------------------------------------------- the decision (pure)

    /** What a start does about boot snapshots. */
    enum Choice {
        /** restore the shape's boot snapshot ("warm") */
        RESTORE,
        /** boot the image's kernel and record the shape's boot snapshot once the agent answers */
        RECORD,
        /** boot the image's kernel, record nothing */
        NONE
    }

    /**
     * @param mayRestore   the start may be warm (a create without {@code cold}, a VM's first start); a start after a stop may not
     * @param ineligible   why this VM can have no boot snapshot ({@link #ineligible}), or null
     * @param available    a verified boot snapshot of the shape exists
     * @param recordingNow another boot of the shape is recording it right now
     */
    static Choice choose(boolean mayRestore, String ineligible, boolean available, boolean recordingNow) {
        if (ineligible != null) return Choice.NONE;
        if (available) return mayRestore ? Choice.RESTORE : Choice.NONE;
        return recordingNow ? Choice.NONE : Choice.RECORD;
    }

    /**
     * Why a VM cannot be restored from, or recorded as, a boot snapshot; null when it can.
     *
     * @param hostname     the VM's name (a warm VM gets it as host name through {@link CloneIdentity})
     * @param nicIndexes   its NICs' numbers, in order
     * @param imageHasHelper the image carries {@code vmctl-identity} (without it clones would share their CRNG state)
     */
    static String ineligible(String hostname, List<Integer> nicIndexes, boolean imageHasHelper) {
        if (!imageHasHelper) return "the image has no /" + IdentityHelper.GUEST_PATH + " (built by an older vmctl: rebuild it)";
        for (int i = 0; i < nicIndexes.size(); i++) {
            if (nicIndexes.get(i) != i) return "its NICs are numbered " + nicIndexes + ", not 0.." + (nicIndexes.size() - 1);
        }
        if (!CloneIdentity.isHostname(hostname)) return "its name '" + hostname + "' is not a host name";
        return null;
    }

    /**
     * What one start of a VM does.
     *
     * @param shape    null when {@code reason} says why the VM has none
     * @param snapshot the boot snapshot to restore (choice RESTORE)
     */
    record Plan(Choice choice, BootShape shape, VerifiedSnapshot snapshot, String reason) {
        static Plan none(String why) {
            return new Plan(Choice.NONE, null, null, why);
        }
    }

    /** {@link #plan(VmRow, ImageInfo, String, List, long, boolean)} of a VM without a root disk. */
    Plan plan(VmRow r, ImageInfo img, String accelName, List<Integer> nicIndexes, boolean mayRestore) {
        return plan(r, img, accelName, nicIndexes, 0, mayRestore);
    }

    /**
     * The plan for a start of {@code r} from {@code img} under {@code accelName} with NICs numbered {@code nicIndexes}
     * and a root disk of {@code diskMiB} (0: none).
     */
    Plan plan(VmRow r, ImageInfo img, String accelName, List<Integer> nicIndexes, long diskMiB, boolean mayRestore) {
        dev.vmctl.vmm.GuestProfile profile = dev.vmctl.vmm.GuestProfile.of(img);
        String why = profile.noBootSnapshots();
        // a guest with a root disk reseeds with the disk's own vmctl-identity (DebianImageBuilder puts it there)
        if (why == null) why = ineligible(r.name(), nicIndexes, profile.rootDisk() || carriesIdentityHelper(img));
        if (why != null) return Plan.none(why);
        BootShape shape = BootShape.of(img, r.cpus(), r.memoryMiB(), accelName, nicIndexes.size(), qemuVersion.get(), diskMiB);
        String name = shape.snapshotName();
        boolean busy = recording.contains(name);
        VerifiedSnapshot snap = null;
        boolean available;
        if (busy) {
            available = false;
        } else if (mayRestore) {
            snap = usable(name);
            available = snap != null;
        } else {
            available = store.exists(name); // a plain start boots cold either way: no need to verify it
        }
        Choice c = choose(mayRestore, null, available, busy);
        String reason = switch (c) {
            case RESTORE -> "boot snapshot " + name;
            case RECORD -> "no boot snapshot " + name + " yet: this boot records it";
            case NONE -> busy ? "boot snapshot " + name + " is being recorded by another boot" : "this start boots cold (--cold, or after a stop)";
        };
        return new Plan(c, shape, c == Choice.RESTORE ? snap : null, reason);
    }

    /** The verified boot snapshot {@code name}, or null when there is none (a damaged one is deleted). */
    VerifiedSnapshot usable(String name) {
        VerifiedSnapshot v = verified.get(name);
        if (v != null && v.unchanged()) return v;
        synchronized (verifying.computeIfAbsent(name, k -> new Object())) {
            v = verified.get(name);
            if (v != null && v.unchanged()) return v;
            verified.remove(name);
            if (!store.exists(name)) return null;
            try {
                v = store.verify(name);
                verified.put(name, v);
                return v;
            } catch (VmctlException e) {
                discard(name, "it failed verification: " + e.getMessage());
                return null;
            }
        }
    }

    /** Whether the image's initrd carries vmctl-identity (read once per initrd build). */
    boolean carriesIdentityHelper(ImageInfo img) {
        if (img.initrd() == null || img.initrdSha256() == null) return false;
        return reseeds.computeIfAbsent(img.initrdSha256(), k -> {
            try {
                return CpioIndex.contains(Path.of(img.initrd()), IdentityHelper.GUEST_PATH);
            } catch (IOException e) {
                log.info("image {}: cannot list {}: {}", img.name(), img.initrd(), e.getMessage());
                return false;
            }
        });
    }

    // ---------------------------------------------------------------- recording

    /**
     * Saves the boot snapshot of {@code shape} from a VM whose guest agent has just answered for the first time: pauses
     * it while its device state is saved and its RAM file copied, resumes it, and commits the snapshot in the background.
     * Never fails the boot: a failed recording is logged and the VM goes on.
     *
     * @return how long the VM was paused, or -1 when nothing was recorded
     */
    long record(BootShape shape, VmRow r, ImageInfo img, VmRuntime rt, List<NetRows.NicRow> nics) {
        String name = shape.snapshotName();
        if (!recording.add(name)) return -1;
        boolean background = false;
        try {
            if (store.exists(name) || rt.qmp() == null) return -1;
            dev.vmctl.vmm.GuestProfile profile = dev.vmctl.vmm.GuestProfile.of(img);
            // a VM with a root disk: its overlay as of this moment (consistent with the RAM: both are copied while paused),
            // backed by the image's rootfs
            Snapshotter.Disk disk = profile.rootDisk()
                    ? new Snapshotter.Disk(rt.files().disk(), Path.of(img.rootfs()), img.rootfs().endsWith(".qcow2") ? "qcow2" : "raw")
                    : null;
            var src = new Snapshotter.Source(r.name(), img.name(), Path.of(img.kernel()), img.kernelSha256(), Path.of(img.initrd()),
                    img.initrdSha256(), r.cpus(), r.memoryMiB(), "kvm".equals(shape.accel()), profile.extraCmdline(),
                    nics.stream().map(n -> new SnapshotManifest.Nic(n.index(), n.mac())).toList(), rt.files().ramFile(), disk);
            Snapshotter.Capture c = Snapshotter.capture(store, name, rt.qmp(), src, new Snapshotter.Options(false, true, null, CAPTURE_TIMEOUT));
            background = true;
            log.info("vm {}: boot snapshot {} saved, the vm was paused {} ms", r.name(), name, c.pausedMillis());
            Thread.ofVirtual().name("boot-snapshot " + name).start(() -> commit(c, shape, r.name()));
            return c.pausedMillis();
        } catch (RuntimeException e) {
            log.warn("vm {}: boot snapshot {} not recorded: {}", r.name(), name, e.getMessage());
            return -1;
        } finally {
            if (!background) recording.remove(name);
        }
    }

    private void commit(Snapshotter.Capture c, BootShape shape, String vm) {
        String name = shape.snapshotName();
        try (c) {
            VerifiedSnapshot v = c.commitVerified();
            Optional<ImageInfo> now = images.list().stream().filter(i -> i.name().equals(shape.image())).findFirst();
            if (now.isEmpty() || !BootShape.buildOf(now.get()).equals(shape.build())) {
                discard(name, "image " + shape.image() + " was rebuilt while it was being recorded");
                return;
            }
            verified.put(name, v);
            log.info("boot snapshot {} recorded from vm {} ({})", name, vm, shape.describe());
            events.publish(EventType.IMAGE_PROGRESS, null, shape.image(), null, null,
                    "boot snapshot " + name + " recorded from vm " + vm + " (" + shape.describe() + ")");
        } catch (RuntimeException e) {
            log.warn("boot snapshot {}: commit failed: {}", name, e.getMessage());
        } finally {
            recording.remove(name);
        }
    }

    // ---------------------------------------------------------------- removal

    /** Deletes boot snapshot {@code name} (VMs restored from it keep their links to its files). */
    void discard(String name, String why) {
        verified.remove(name);
        try {
            store.delete(name, null);
            log.info("boot snapshot {} deleted: {}", name, why);
        } catch (VmctlException e) {
            if (e.kind() != VmctlException.Kind.NOT_FOUND) log.warn("boot snapshot {}: delete failed: {}", name, e.getMessage());
        }
    }

    /** After {@code image build NAME}: every boot snapshot of that image goes. Returns their names. */
    public List<String> invalidate(String image) {
        List<String> gone = new ArrayList<>();
        for (SnapshotManifest m : store.list()) {
            if (m.vm().image().equals(image)) {
                discard(m.name(), "image " + image + " was rebuilt");
                gone.add(m.name());
            }
        }
        if (!gone.isEmpty()) {
            events.publish(EventType.IMAGE_PROGRESS, null, image, null, null, "boot snapshots deleted (image rebuilt): " + String.join(", ", gone));
        }
        return gone;
    }

    /**
     * At start-up: unfinished boot snapshots (a crash mid-commit) are removed, and so is every boot snapshot that no
     * longer matches its image (rebuilt or removed), QEMU or device layout.
     */
    void reconcile() {
        for (Path p : store.removeOrphans()) log.info("removed unfinished boot snapshot {}", p);
        List<String> kept = new ArrayList<>();
        for (SnapshotManifest m : store.list()) {
            if (current(m)) kept.add(m.name());
            else discard(m.name(), "it no longer matches its image, QEMU or device layout");
        }
        // checksummed once now, in the background, rather than by the first warm create
        if (!kept.isEmpty()) Thread.ofVirtual().name("boot-snapshots verify").start(() -> kept.forEach(this::usable));
    }

    /** Whether {@code m} is the boot snapshot its shape would be looked up by today. */
    private boolean current(SnapshotManifest m) {
        Optional<ImageInfo> img = images.list().stream().filter(i -> i.name().equals(m.vm().image())).findFirst();
        if (img.isEmpty()) return false;
        long diskMiB = 0;
        if (m.disk() != null) {
            long bytes = dev.vmctl.snapshot.DiskOverlay.qcow2VirtualSize(store.dir(m.name()).resolve(m.disk().file()));
            if (bytes <= 0) return false;
            diskMiB = (bytes + (1 << 20) - 1) >> 20;
        }
        BootShape s = BootShape.of(img.get(), m.vm().cpus(), m.vm().memoryMiB(), m.vm().accel(), m.vm().nics().size(), qemuVersion.get(),
                diskMiB);
        return s.snapshotName().equals(m.name());
    }

    // ---------------------------------------------------------------- views

    /** The boot snapshots of {@code image}, with the VMs running from each. */
    public List<BootSnapshotView> list(String image) {
        List<VmRow> rows = db.all();
        List<BootSnapshotView> out = new ArrayList<>();
        for (SnapshotManifest m : store.list()) {
            if (!m.vm().image().equals(image)) continue;
            List<String> warm = rows.stream()
                    .filter(r -> (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) && m.name().equals(r.bootSnapshot()))
                    .map(VmRow::name).toList();
            out.add(new BootSnapshotView(m.name(), m.vm().image(), m.vm().name(), m.vm().cpus(), m.vm().memoryMiB(), m.vm().accel(),
                    m.vm().nics().size(), m.totalBytes(), m.createdAt(), warm));
        }
        return out;
    }
}
