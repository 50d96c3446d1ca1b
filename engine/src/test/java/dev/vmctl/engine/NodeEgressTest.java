package dev.vmctl.engine;

import dev.vmctl.image.ImageCatalog;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.NicView;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.snapshot.SnapshotStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node's {@code resources.egress} and NICs' default {@code rate}: which taps the engine puts into the node's egress
 * group (with their own ceilings), and how the group follows VMs stopping and the file changing. FakeHostNet records
 * what it was asked; EgressGroupTest (net) measures the real tree.
 */
class NodeEgressTest {
    @TempDir
    Path tmp;

    private Store store;
    private FakeHostNet hostNet;
    private FakeQemu qemu;
    private Engine engine;
    private TopologyService topologies;

    @BeforeEach
    void setUp() throws Exception {
        DataDir dir = new DataDir(tmp.resolve("data")).create();
        Files.writeString(dir.imagesDir().resolve("vmlinux"), "kernel");
        Files.writeString(dir.imagesDir().resolve("initrd"), "initrd");
        new ImageCatalog(dir.imagesDir()).put(new ImageInfo("tiny", "test", "0", dir.imagesDir().resolve("vmlinux").toString(), "00",
                dir.imagesDir().resolve("initrd").toString(), "00", null, null, 1, "2026-12-01T00:00:00Z"));
        store = new Store(dir.database());
        EventBus events = new EventBus();
        ImageService images = new ImageService(dir, events);
        hostNet = new FakeHostNet();
        qemu = new FakeQemu();
        engine = new Engine(dir, store, events, images, new AccelService(dir, VmSpec.Accel.TCG), new NetService(store, events, hostNet),
                new SnapshotStore(dir.root().resolve("snapshots")), Duration.ofSeconds(20), qemu);
        engine.reconcile();
        topologies = new TopologyService(store, events, engine, images, Duration.ofSeconds(20));
    }

    @AfterEach
    void tearDown() {
        for (VmView v : engine.vms().list()) engine.vms().destroy(v.id(), true);
        for (var vm : qemu.started) vm.close();
        engine.close();
        store.close();
    }

    private static String file(String egress) {
        return """
                apiVersion: vmctl/v1
                kind: Topology
                name: q
                networks:
                  - {name: lan, subnet: 198.18.70.0/24}
                nodes:
                  - name: n1
                    %s
                    vms:
                      - {name: a, image: tiny, memory: 64M, nics: [{network: lan, ip: 198.18.70.10, rate: 2mbit}]}
                      - {name: b, image: tiny, memory: 64M, nics: [{network: lan, ip: 198.18.70.11}]}
                  - name: n2
                    vms:
                      - {name: c, image: tiny, memory: 64M, nics: [lan]}
                """.formatted(egress == null ? "" : "resources: {egress: " + egress + "}");
    }

    @Test
    void aNodesTapsShareItsEgressGroupAndFollowStopsAndChanges() {
        TopologyReport r = topologies.apply(file("10mbit"), "q.yaml", false, false).value();
        assertThat(r.ok()).as(r.summary()).isTrue();
        var group = hostNet.egressGroups.get("q/n1");
        assertThat(group).as("n1's group").isNotNull();
        assertThat(group.getKey()).isEqualTo(10_000L);
        assertThat(group.getValue()).extracting(HostNet.EgressMember::ipv4).containsExactlyInAnyOrder(List.of("198.18.70.10"), List.of("198.18.70.11"));
        assertThat(group.getValue()).filteredOn(m -> m.ipv4().contains("198.18.70.10")).singleElement()
                .satisfies(m -> assertThat(m.ceilKbit()).as("a's NIC rate is its ceiling").isEqualTo(2_000L));
        assertThat(hostNet.egressGroups).doesNotContainKey("q/n2"); // no limit there
        VmView a = engine.vms().get("q-n1-a");
        NicView nic = a.nics().getFirst();
        assertThat(nic.rateKbit()).isEqualTo(2_000L);
        assertThat(hostNet.toGuestOnly).contains(nic.tap(), engine.vms().get("q-n1-b").nics().getFirst().tap())
                .doesNotContain(engine.vms().get("q-n2-c").nics().getFirst().tap());

        // a stopped VM leaves the group; the last one takes the group with it
        var stop = engine.vms().stop("q-n1-b");
        assertThat(engine.vms().awaitOperation(stop.op(), stop.value().id(), Duration.ofSeconds(20)).state()).isEqualTo(VmState.STOPPED);
        assertThat(hostNet.egressGroups.get("q/n1").getValue()).extracting(HostNet.EgressMember::ipv4).containsExactly(List.of("198.18.70.10"));

        // a new limit in the file: the live taps are shaped for it at once
        assertThat(topologies.apply(file("20mbit"), "q.yaml", false, false).value().ok()).isTrue();
        assertThat(hostNet.egressGroups.get("q/n1").getKey()).isEqualTo(20_000L);
        // the limit gone from the file: the group goes
        assertThat(topologies.apply(file(null), "q.yaml", false, false).value().ok()).isTrue();
        assertThat(hostNet.egressGroups).doesNotContainKey("q/n1");
    }
}
