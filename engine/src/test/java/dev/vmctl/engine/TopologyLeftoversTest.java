package dev.vmctl.engine;

import dev.vmctl.model.VmState;

import dev.vmctl.image.ImageCatalog;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.NodeSnapshotView;
import dev.vmctl.model.Operation;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.SnapshotManifest;
import dev.vmctl.snapshot.SnapshotStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A deploy interrupted by a crash leaves VMs REQUESTED (created, never started): a re-apply of the unchanged file starts
 * them instead of answering "nothing to do", and a dry run lists them. With the engine's fakes ({@link FakeQemu}).
 */
class TopologyLeftoversTest {
    static final String LAB = NodeCloneTest.LAB;

    @TempDir
    Path tmp;

    @Test
    void aReApplyStartsTheVmsAnInterruptedDeployLeftRequested() throws Exception {
        DataDir dir = new DataDir(tmp.resolve("data")).create();
        Files.writeString(dir.imagesDir().resolve("vmlinux"), "kernel");
        Files.writeString(dir.imagesDir().resolve("initrd"), "initrd");
        new ImageCatalog(dir.imagesDir()).put(new ImageInfo("tiny", "test", "0", dir.imagesDir().resolve("vmlinux").toString(), "00",
                dir.imagesDir().resolve("initrd").toString(), "00", null, null, 1, "2026-12-01T00:00:00Z"));
        Store store = new Store(dir.database());
        EventBus events = new EventBus();
        ImageService images = new ImageService(dir, events);
        NetService net = new NetService(store, events, new FakeHostNet());
        try (Engine engine = new Engine(dir, store, events, images, new AccelService(dir, VmSpec.Accel.TCG), net,
                new SnapshotStore(dir.root().resolve("snapshots")), Duration.ofSeconds(20), new FakeQemu())) {
            engine.reconcile();
            TopologyService topologies = new TopologyService(store, events, engine, images, Duration.ofSeconds(20));
            assertThat(topologies.apply(LAB, "lab.yaml", false, false).value().ok()).isTrue();
            // the view of one topology gives the file's text back as applied (the designer opens it); the list leaves it out
            assertThat(topologies.view("lab").spec()).isEqualTo(LAB);
            assertThat(topologies.view("lab").file()).isEqualTo("lab.yaml");
            assertThat(topologies.topologies()).singleElement().satisfies(t -> assertThat(t.spec()).isNull());
            // what a kill -9 during the deploy leaves: a VM created, never started
            var stop = engine.vms().stop("lab-svc-api");
            engine.vms().awaitOperation(stop.op(), "lab-svc-api", Duration.ofSeconds(20));
            VmRow r = store.byIdOrName("lab-svc-api").orElseThrow();
            store.update(r.withState(VmState.REQUESTED, null, VmCore.now()).withProcess(null, null, null));
            assertThat(engine.vms().get("lab-svc-api").state()).isEqualTo(VmState.REQUESTED);

            TopologyReport dry = topologies.apply(LAB, "lab.yaml", true, false).value();
            assertThat(dry.steps()).anySatisfy(s -> {
                assertThat(s.verb()).isEqualTo("start");
                assertThat(s.name()).isEqualTo("lab-svc-api");
                assertThat(s.status()).isEqualTo("planned");
            });
            assertThat(engine.vms().get("lab-svc-api").state()).as("a dry run changes nothing").isEqualTo(VmState.REQUESTED);

            TopologyReport again = topologies.apply(LAB, "lab.yaml", false, false).value();
            assertThat(again.ok()).as(again.summary()).isTrue();
            assertThat(again.summary()).contains("1 of 1 VM(s) left unstarted or in ERROR started");
            assertThat(again.steps()).singleElement().satisfies(s -> {
                assertThat(s.verb()).isEqualTo("start");
                assertThat(s.status()).isEqualTo("done");
            });
            assertThat(engine.vms().get("lab-svc-api").state()).isEqualTo(VmState.RUNNING);
            assertThat(topologies.apply(LAB, "lab.yaml", false, false).value().summary()).contains("nothing to do");
        }
    }
}
