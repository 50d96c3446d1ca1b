package dev.vmctl.engine;

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
 * Node clone with the engine's fakes ({@link FakeQemu}, {@link FakeHostNet}): what is refused before anything
 * happens, what is removed when a clone fails, and what a re-apply of the file does with a cloned node. A clone
 * that boots needs a real QEMU to load the snapshot: app's NodeCloneIT.
 */
class NodeCloneTest {
    static final String LAB = """
            apiVersion: vmctl/v1
            kind: Topology
            name: lab
            networks:
              - {name: net, subnet: 198.18.40.0/24}
            nodes:
              - name: svc
                vms:
                  - {name: api, image: tiny, memory: 64M, nics: [net]}
                  - {name: db,  image: tiny, memory: 64M, nics: [net], startBefore: [api]}
            """;

    @TempDir
    Path tmp;

    private Store store;
    private FakeQemu qemu;
    private Engine engine;
    private TopologyService topologies;
    private SnapshotStore snapshots;

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
        NetService net = new NetService(store, events, new FakeHostNet());
        qemu = new FakeQemu();
        snapshots = new SnapshotStore(dir.root().resolve("snapshots"));
        engine = new Engine(dir, store, events, images, new AccelService(dir, VmSpec.Accel.TCG), net, snapshots, Duration.ofSeconds(20), qemu);
        engine.reconcile();
        topologies = new TopologyService(store, events, engine, images, Duration.ofSeconds(20));
        TopologyReport r = topologies.apply(LAB, "lab.yaml", false, false).value();
        assertThat(r.ok()).as(r.summary()).isTrue();
        engine.networks().createNetwork("other", "198.18.41.0/24", null);
        // a node snapshot as node snapshot writes it: one VM snapshot per VM (here files, not a saved QEMU)
        Map<String, String> members = new LinkedHashMap<>();
        for (String vm : List.of("api", "db")) {
            fakeSnapshot("warm-" + vm, store.nics(store.byIdOrName("lab-svc-" + vm).orElseThrow().id()).getFirst().mac());
            members.put(vm, "warm-" + vm);
        }
        store.saveNodeSnapshot(new NodeSnapshotView("warm", "lab", "svc", members, Instant.now().toString()));
    }

    private void fakeSnapshot(String name, String mac) throws Exception {
        try (SnapshotStore.Draft d = snapshots.begin(name)) {
            for (String f : List.of(SnapshotManifest.STATE_FILE, SnapshotManifest.KERNEL_FILE, SnapshotManifest.INITRD_FILE)) {
                Files.writeString(d.path(f), f);
            }
            d.commit(new SnapshotManifest(SnapshotManifest.FORMAT_VERSION, name, Instant.now().toString(), null,
                    new SnapshotManifest.Vm("lab-svc-x", "tiny", "/k", null, "/i", null, 1, 64, "tcg", null,
                            List.of(new SnapshotManifest.Nic(0, mac))),
                    new SnapshotManifest.State(SnapshotManifest.STATE_FILE, false, SnapshotManifest.RamMode.STREAM, null), null, List.of()));
        }
    }

    @AfterEach
    void tearDown() {
        for (VmView v : engine.vms().list()) engine.vms().destroy(v.id(), true);
        for (var vm : qemu.started) vm.close();
        engine.close();
        store.close();
    }

    private VmctlException refused(String snapshot, String name, Map<String, String> nets) {
        return catchThrowableOfType(VmctlException.class, () -> topologies.cloneNode("lab", "svc",
                new TopologyService.CloneNodeRequest(snapshot, name, nets), Duration.ofSeconds(30)));
    }

    @Test
    void badRequestsAreRefusedNamingTheFieldAndNothingIsCreated() {
        int vms = engine.vms().list().size();
        VmctlException e = refused(null, "svc2", null);
        assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
        assertThat(e.getMessage()).isEqualTo("invalid snapshot: missing");
        assertThat(e.detail()).isEqualTo("allowed: node snapshots of lab/svc: warm");
        assertThat(refused("cold", "svc2", null).kind()).isEqualTo(VmctlException.Kind.NOT_FOUND);
        store.saveNodeSnapshot(new NodeSnapshotView("elsewhere", "lab", "db", Map.of("x", "y"), Instant.now().toString()));
        e = refused("elsewhere", "svc2", null);
        assertThat(e.getMessage()).isEqualTo("invalid snapshot: node snapshot elsewhere belongs to lab/db");
        e = refused("warm", "Svc_2", null);
        assertThat(e.getMessage()).startsWith("invalid name: 'Svc_2' is not a valid name");
        e = refused("warm", "svc", null);
        assertThat(e.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
        assertThat(e.getMessage()).isEqualTo("node lab/svc already exists");
        e = refused("warm", "svc2", Map.of("nope", "other"));
        assertThat(e.getMessage()).isEqualTo("invalid nets: 'nope' is not a network of node lab/svc");
        assertThat(e.detail()).isEqualTo("allowed: networks of the node: net (lab-net)");
        e = refused("warm", "svc2", Map.of("net", "nowhere"));
        assertThat(e.getMessage()).isEqualTo("invalid nets.net: unknown network 'nowhere'");
        assertThat(e.detail()).contains("lab-net", "other");

        assertThat(engine.vms().list()).hasSize(vms);
        assertThat(store.nodeNames("lab")).containsExactly("svc");
        assertThat(engine.ops().list(null, null, "node.clone", 10)).as("refused before any operation").isEmpty();
    }

    @Test
    void aCloneThatFailsToBootLeavesNoHalfNode() {
        qemu.exitAtOnce = true; // every clone's QEMU dies at once
        VmctlException e = refused("warm", "svc2", Map.of("net", "other"));
        assertThat(e.getMessage()).startsWith("clone node lab/svc as lab/svc2: ").endsWith("; removed what was created");
        assertThat(engine.vms().list()).extracting(VmView::name).containsExactlyInAnyOrder("lab-svc-api", "lab-svc-db");
        assertThat(store.nodeNames("lab")).containsExactly("svc");
        assertThat(topologies.view("lab").nodes()).hasSize(1);
        assertThat(store.nics().stream().filter(n -> n.networkId().equals(store.network("other").orElseThrow().id()))).isEmpty();

        Operation clone = engine.ops().list(null, null, "node.clone", 10).getFirst();
        assertThat(clone.state()).isEqualTo("failed");
        assertThat(clone.targets()).containsExactly("node:lab/svc2");
        List<Operation> boots = engine.ops().list(null, null, "vm.clone", 10);
        assertThat(boots).as("db starts before api: api is never booted").hasSize(1);
        assertThat(boots.getFirst().parent()).isEqualTo(clone.id());
    }

    @Test
    void aReapplyLeavesACloneTheFileDoesNotList() {
        // a cloned node as node clone records it (its VM not booted: the fakes cannot load a snapshot)
        VmView v = engine.vms().create(new VmService.CreateRequest("lab-svc9-api", "tiny", 1, "64M", null, false,
                List.of(new NetService.NicRequest("lab-net", null)))).value();
        store.insertClonedNode("lab", "svc9", "warm", List.of(List.of("api")));
        store.label(new Store.Label("vm", v.id(), "lab", "svc9", "api", "api"));

        TopologyReport dry = topologies.apply(LAB, "lab.yaml", true, false).value();
        assertThat(dry.steps()).extracting(s -> s.verb() + " " + s.type() + " " + s.name() + " " + s.status())
                .containsExactly("keep node lab/svc9 planned");
        assertThat(dry.summary()).isEqualTo("topology lab is up to date: nothing to do; cloned node(s) svc9 left as they are");
        TopologyReport applied = topologies.apply(LAB.replace("subnet: 198.18.40.0/24", "subnet: 198.18.40.0/24}\n  - {name: more, subnet: 198.18.42.0/24"),
                "lab.yaml", false, false).value();
        assertThat(applied.ok()).as(applied.summary()).isTrue();
        assertThat(applied.steps()).extracting(s -> s.verb() + " " + s.name()).containsExactly("create lab-more", "keep lab/svc9");
        assertThat(engine.vms().get("lab-svc9-api")).isNotNull();
        // the file would delete the network under the clone: refused, naming it
        VmctlException e = catchThrowableOfType(VmctlException.class,
                () -> topologies.apply(LAB.replace("198.18.40.0/24", "198.18.43.0/24"), "lab.yaml", true, false));
        assertThat(e.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
        assertThat(e.getMessage()).contains("network net (vm lab-svc9-api of cloned node svc9)");
        // node rm removes it (its row too)
        topologies.removeNode("lab", "svc9");
        assertThat(store.nodeNames("lab")).containsExactly("svc");
    }
}
