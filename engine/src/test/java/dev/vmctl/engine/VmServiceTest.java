package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.image.ImageCatalog;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Operation;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.SnapshotStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The VM lifecycle service with fakes of its small interfaces: {@link FakeHostNet} for the host's
 * networking and {@link FakeQemu} for QEMU (a real process, scripted QMP and agent sockets). Real SQLite,
 * real operations; no VM boots. The same behaviour on real QEMU is in app's OperationsIT and LifecycleIT.
 */
class VmServiceTest {
    @TempDir
    Path tmp;

    private Store store;
    private EventBus events;
    private FakeQemu qemu;
    private Engine engine;
    private VmService vms;
    private final List<VmEvent> seen = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() throws Exception {
        DataDir dir = new DataDir(tmp.resolve("data")).create();
        Files.writeString(dir.imagesDir().resolve("vmlinux"), "kernel");
        Files.writeString(dir.imagesDir().resolve("initrd"), "initrd");
        new ImageCatalog(dir.imagesDir()).put(new ImageInfo("tiny", "test", "0", dir.imagesDir().resolve("vmlinux").toString(), "00",
                dir.imagesDir().resolve("initrd").toString(), "00", null, null, 1, "2026-12-01T00:00:00Z"));
        store = new Store(dir.database());
        events = new EventBus();
        events.subscribe(seen::add);
        ImageService images = new ImageService(dir, events);
        NetService net = new NetService(store, events, new FakeHostNet());
        qemu = new FakeQemu();
        engine = new Engine(dir, store, events, images, new AccelService(dir, VmSpec.Accel.TCG), net,
                new SnapshotStore(dir.root().resolve("snapshots")), Duration.ofSeconds(20), qemu);
        engine.reconcile();
        vms = engine.vms();
    }

    @AfterEach
    void tearDown() {
        for (VmView v : vms.list()) vms.destroy(v.id(), true);
        for (var vm : qemu.started) vm.close();
        engine.close();
        store.close();
        assertThat(Path.of("/dev/shm", dev.vmctl.net.NetNames.fabric(tmp.resolve("data")))).as("tmpfs folder of RAM files").doesNotExist();
    }

    private VmView await(Accepted<VmView> a) {
        return vms.awaitOperation(a.op(), a.value().id(), Duration.ofSeconds(30));
    }

    @Test
    void createStartStopRemoveAsOperations() {
        Accepted<VmView> created = vms.create(new VmService.CreateRequest("a", "tiny", 1, "128M", null, true));
        assertThat(created.value().state()).isEqualTo(VmState.PREPARING);
        assertThat(created.op().kind()).isEqualTo("vm.create");
        VmView running = await(created);
        assertThat(running.state()).isEqualTo(VmState.RUNNING);
        assertThat(engine.ops().get(created.op().id()).state()).isEqualTo("succeeded");
        long pid = running.pid();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
        // every vm.state event of the boot carries the operation
        assertThat(seen).filteredOn(e -> e.type().equals("vm.state") && e.state() == VmState.RUNNING)
                .allMatch(e -> created.op().id().equals(e.operation()));
        // and the VM as it was then: every vm.state event's payload is the VM in the event's state
        assertThat(seen).filteredOn(e -> e.type().equals("vm.state")).isNotEmpty().allSatisfy(e -> {
            assertThat(e.data()).isInstanceOf(VmView.class);
            assertThat(((VmView) e.data()).state()).as(e.toString()).isEqualTo(e.state());
            assertThat(((VmView) e.data()).name()).isEqualTo("a");
        });
        assertThat(seen).filteredOn(e -> e.type().equals("vm.progress")).allMatch(e -> e.data() instanceof VmView);

        VmView stopped = await(vms.stop("a"));
        assertThat(stopped.state()).isEqualTo(VmState.STOPPED);
        assertThat(stopped.pid()).isNull();
        assertThat(qemu.agentCommands).contains("guest-shutdown");
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();

        assertThatThrownBy(() -> vms.stop("a")).isInstanceOf(VmctlException.class)
                .hasMessageContaining("stop: vm a is STOPPED");
        assertThat(vms.destroy("a", false).value().state()).isEqualTo(VmState.DESTROYED);
        assertThat(store.byIdOrName("a")).isEmpty();
    }

    @Test
    void aStopDuringBootCancelsTheBoot() throws Exception {
        qemu.agentAfter = Duration.ofMinutes(5); // the guest never gets to answer
        Accepted<VmView> created = vms.create(new VmService.CreateRequest("slow", "tiny", 1, "128M", null, true));
        Thread.sleep(300);
        Accepted<VmView> stop = vms.stop("slow");
        VmView end = await(stop);
        assertThat(end.state()).isEqualTo(VmState.STOPPED);
        Operation boot = engine.ops().await(created.op().id(), Duration.ofSeconds(10));
        assertThat(boot.state()).isEqualTo("cancelled");
        assertThat(engine.ops().get(stop.op().id()).state()).isEqualTo("succeeded");
        assertThat(qemu.started).allMatch(vm -> !vm.alive());
        assertThat(store.byIdOrName("slow").orElseThrow().pid()).isNull();
        // and it boots again once the guest answers
        qemu.agentAfter = Duration.ZERO;
        assertThat(await(vms.start("slow")).state()).isEqualTo(VmState.RUNNING);
    }

    @Test
    void callsOnOneVmRunInArrivalOrderAndAQueuedCallChecksItsStateWhenItsTurnComes() {
        VmView a = await(vms.create(new VmService.CreateRequest("q", "tiny", 1, "128M", null, true)));
        assertThat(a.state()).isEqualTo(VmState.RUNNING);
        Accepted<VmView> reboot = vms.reboot("q");
        Accepted<VmView> stop = vms.stop("q");     // pre-empts the reboot's boot
        // queued behind the first stop it finds the VM STOPPED and fails with the 409 message; when the first stop
        // was already over (a fast machine), the lane is idle and the same 409 comes at once — recorded either way
        Accepted<VmView> stop2 = null;
        try {
            stop2 = vms.stop("q");
        } catch (dev.vmctl.model.VmctlException refusedAtOnce) {
            assertThat(refusedAtOnce.getMessage()).contains("is STOPPED");
        }
        Accepted<VmView> start = vms.start("q");   // queued after it: boots again
        assertThat(await(start).state()).isEqualTo(VmState.RUNNING);
        assertThat(engine.ops().get(reboot.op().id()).state()).isIn("cancelled", "succeeded");
        assertThat(engine.ops().get(stop.op().id()).state()).isEqualTo("succeeded");
        if (stop2 != null) {
            Operation second = engine.ops().get(stop2.op().id());
            assertThat(second.state()).isEqualTo("failed");
            assertThat(second.error()).contains("is STOPPED");
        }
        List<Operation> listed = new ArrayList<>(engine.ops().list("vm:" + a.id(), null, null, 50));
        Collections.reverse(listed);
        assertThat(listed).extracting(Operation::kind)
                .containsExactly("vm.create", "vm.reboot", "vm.stop", "vm.stop", "vm.start");
    }

    @Test
    void aQemuThatDiesAtOnceIsAnErrorWithItsReason() {
        qemu.exitAtOnce = true;
        Accepted<VmView> created = vms.create(new VmService.CreateRequest("dies", "tiny", 1, "128M", null, true));
        VmView end = await(created);
        assertThat(end.state()).isEqualTo(VmState.ERROR);
        assertThat(end.error()).containsAnyOf("qemu exited during start-up", "exited unexpectedly");
        Operation op = engine.ops().get(created.op().id());
        assertThat(op.state()).isEqualTo("failed");
        assertThat(op.error()).contains("qemu exited");
    }

    @Test
    void removeForceCancelsWhatIsQueued() {
        qemu.agentAfter = Duration.ofMinutes(5);
        Accepted<VmView> created = vms.create(new VmService.CreateRequest("gone", "tiny", 1, "128M", null, true));
        Accepted<VmView> queuedStart = vms.start("gone");
        Accepted<VmView> rm = vms.destroy("gone", true);
        assertThat(rm.value().state()).isEqualTo(VmState.DESTROYED);
        assertThat(engine.ops().get(created.op().id()).state()).isEqualTo("cancelled");
        Operation q = engine.ops().get(queuedStart.op().id());
        assertThat(q.state()).isEqualTo("cancelled");
        assertThat(q.error()).contains("being removed");
        assertThat(qemu.started).allMatch(vm -> !vm.alive());
    }

    @Test
    void aServerRestartReattachesARunningVm() {
        VmView a = await(vms.create(new VmService.CreateRequest("keep", "tiny", 1, "128M", null, true)));
        engine.close(); // the server goes away; the VM's process stays
        assertThat(ProcessHandle.of(a.pid()).map(ProcessHandle::isAlive)).contains(true);
        Engine again = new Engine(new DataDir(tmp.resolve("data")), store, events,
                new ImageService(new DataDir(tmp.resolve("data")), events), new AccelService(new DataDir(tmp.resolve("data")), VmSpec.Accel.TCG),
                new NetService(store, events, new FakeHostNet()), new SnapshotStore(tmp.resolve("data/snapshots")), Duration.ofSeconds(20), qemu);
        again.reconcile();
        assertThat(again.vms().get("keep").state()).isEqualTo(VmState.RUNNING);
        assertThat(again.vms().get("keep").pid()).isEqualTo(a.pid());
        assertThat(again.vms().exec("keep", List.of("true"), null, Duration.ofSeconds(5)).exitCode()).isZero();
        again.vms().destroy("keep", true);
        again.close();
    }

    /** Artifacts are fetched before the VM exists (a bad one creates nothing) and recorded with it (SQLite, migration 11). */
    @Test
    void artifactsAreFetchedBeforeTheVmExistsAndRecordedWithIt() throws Exception {
        Path app = tmp.resolve("app.bin");
        Files.writeString(app, "binary");
        List<dev.vmctl.model.ArtifactSpec> bad = List.of(dev.vmctl.model.ArtifactSpec.parse("src=" + tmp.resolve("missing") + ",dest=/opt/x"));
        assertThatThrownBy(() -> vms.create(new VmService.CreateRequest("art", "tiny", 1, "128M", null, false, List.of(), bad, null)))
                .isInstanceOf(VmctlException.class)
                .hasMessageContaining("create vm art: artifacts[0]: artifact src=" + tmp.resolve("missing") + ": no such file");
        assertThat(store.byIdOrName("art")).isEmpty();
        assertThat(engine.ops().list(null, "failed", "artifact.fetch", 10)).hasSize(1);
        assertThatThrownBy(() -> vms.create(new VmService.CreateRequest("art", "tiny", 1, "128M", null, false, List.of(),
                List.of(dev.vmctl.model.ArtifactSpec.parse("src=" + app + ",dest=/opt/app")), List.of())))
                .hasMessageContaining("invalid run");

        List<dev.vmctl.model.ArtifactSpec> good = List.of(dev.vmctl.model.ArtifactSpec.parse("src=" + app + ",dest=/opt/bin/,mode=0755"));
        VmView v = vms.create(new VmService.CreateRequest("art", "tiny", 1, "128M", null, false, List.of(), good,
                List.of("/opt/bin/app.bin", "--serve"))).value();
        List<dev.vmctl.model.VmArtifactView> held = engine.artifacts().ofVm("art");
        assertThat(held).hasSize(1);
        assertThat(held.getFirst().path()).isEqualTo("/opt/bin/app.bin");
        assertThat(held.getFirst().sha256()).isEqualTo(dev.vmctl.artifact.Digests.ofText("binary"));
        assertThat(held.getFirst().mode()).isEqualTo("0755");
        assertThat(held.getFirst().deliveredAt()).as("not booted yet").isNull();
        assertThat(engine.artifacts().list()).hasSize(1);
        // the rows go with the VM
        vms.destroy(v.id(), false);
        assertThatThrownBy(() -> engine.artifacts().ofVm("art")).hasMessageContaining("vm not found");
        int left = store.read("count", db -> {
            try (var st = db.createStatement(); var rs = st.executeQuery("SELECT (SELECT count(*) FROM vm_artifacts) + (SELECT count(*) FROM vm_run)")) {
                return rs.getInt(1);
            }
        });
        assertThat(left).isZero();
    }
}
