package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.image.ImageCatalog;
import dev.vmctl.model.EventType;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Operation;
import dev.vmctl.model.SegmentView;
import dev.vmctl.model.SegmentVpnView;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.net.Wireguard;
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
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Segments with the engine's fakes ({@link FakeSegmentHost}, {@link FakeHostNet}, {@link FakeQemu}): places (a segment's
 * namespace or the fabric) of networks, taps and VMs; overlapping subnets; removal of everything in a segment as one
 * operation; TTL expiry; the VPN's peer configuration; start-up reconciliation; bad input. Real namespaces, QEMU and
 * WireGuard: app's SegmentIT.
 */
class SegmentsTest {
    @TempDir
    Path tmp;

    private DataDir dir;
    private Store store;
    private EventBus events;
    private ImageService images;
    private FakeHostNet hostNet;
    private FakeSegmentHost segHost;
    private FakeQemu qemu;
    private Engine engine;
    private Segments segments;
    private final List<VmEvent> seen = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() throws Exception {
        dir = new DataDir(tmp.resolve("data")).create();
        Files.writeString(dir.imagesDir().resolve("vmlinux"), "kernel");
        Files.writeString(dir.imagesDir().resolve("initrd"), "initrd");
        new ImageCatalog(dir.imagesDir()).put(new ImageInfo("tiny", "test", "0", dir.imagesDir().resolve("vmlinux").toString(), "00",
                dir.imagesDir().resolve("initrd").toString(), "00", null, null, 1, "2026-12-01T00:00:00Z"));
        store = new Store(dir.database());
        events = new EventBus();
        events.subscribe(seen::add);
        images = new ImageService(dir, events);
        hostNet = new FakeHostNet();
        segHost = new FakeSegmentHost(hostNet.fabric());
        qemu = new FakeQemu();
        engine = engine(2);
        segments = engine.segments();
    }

    private Engine engine(int pool) {
        Engine e = new Engine(dir, store, events, images, new AccelService(dir, VmSpec.Accel.TCG), new NetService(store, events, hostNet),
                new SnapshotStore(dir.root().resolve("snapshots")), Duration.ofSeconds(20), qemu, segHost, pool);
        e.reconcile();
        return e;
    }

    @AfterEach
    void tearDown() {
        for (SegmentView s : segments.list()) segments.delete(s.name());
        for (VmView v : engine.vms().list()) engine.vms().destroy(v.id(), true);
        for (var vm : qemu.started) vm.close();
        engine.close();
        store.close();
    }

    private static Segments.CreateRequest seg(String name, String subnet) {
        return new Segments.CreateRequest(name, "alice", subnet, null, true);
    }

    private VmView vm(String name, String network, String ip, boolean start) {
        Accepted<VmView> a = engine.vms().create(new VmService.CreateRequest(name, "tiny", 1, "64M", null, start,
                List.of(new NetService.NicRequest(network, ip))));
        return start ? engine.vms().awaitOperation(a.op(), a.value().id(), Duration.ofSeconds(30)) : a.value();
    }

    @Test
    void segmentsAreNamespacesOfTheirOwnAndMayShareSubnetsAndAddresses() {
        Accepted<SegmentView> a = segments.create(seg("sa", "198.18.50.0/24"));
        assertThat(a.op().kind()).isEqualTo("segment.create");
        assertThat(a.op().targets()).containsExactly("segment:sa");
        SegmentView sa = a.value();
        SegmentView sb = segments.create(seg("sb", "198.18.50.0/24")).value();
        assertThat(sa.netns()).startsWith(hostNet.fabric() + "-s").isNotEqualTo(sb.netns());
        assertThat(sa.owner()).isEqualTo("alice");
        assertThat(sa.networks()).containsExactly("sa");
        assertThat(sa.gateway()).isEqualTo("198.18.50.1");
        assertThat(segHost.gateways).containsEntry(sa.netns(), "198.18.50.1/24").containsEntry(sb.netns(), "198.18.50.1/24");
        assertThat(engine.networks().net().network("sa").segment()).isEqualTo("sa");
        // the fabric may use the same subnet too; inside one segment subnets may not overlap
        engine.networks().createNetwork("front", "198.18.50.0/24", null);
        assertThat(engine.networks().net().network("front").segment()).isNull();
        VmctlException overlap = catchThrowableOfType(VmctlException.class,
                () -> engine.networks().createNetwork("sa-more", "198.18.50.128/25", null, "sa"));
        assertThat(overlap.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
        assertThat(overlap.getMessage()).contains("overlaps network sa").contains("in segment sa");
        engine.networks().createNetwork("sa-more", "198.18.51.0/24", null, "sa");
        assertThat(segments.get("sa").networks()).containsExactly("sa", "sa-more");

        // the same address in two segments; each VM's taps (and its QEMU) in its segment's namespace
        VmView va = vm("va", "sa", "198.18.50.10", true);
        VmView vb = vm("vb", "sb", "198.18.50.10", true);
        assertThat(va.state()).isEqualTo(VmState.RUNNING);
        assertThat(vb.state()).isEqualTo(VmState.RUNNING);
        assertThat(engine.networks().net().namespaceOfVm(va.id())).isEqualTo(sa.netns());
        assertThat(engine.networks().net().namespaceOfVm(vb.id())).isEqualTo(sb.netns());
        assertThat(hostNet.children.get(sa.netns()).links).contains(va.nics().getFirst().tap());
        assertThat(hostNet.children.get(sb.netns()).links).contains(vb.nics().getFirst().tap());
        assertThat(hostNet.links).doesNotContain(va.nics().getFirst().tap(), vb.nics().getFirst().tap());
        assertThat(segments.get("sa").vms()).containsExactly("va");
    }

    @Test
    void aVmsNicsAreInOnePlace() {
        segments.create(seg("sa", "198.18.50.0/24"));
        engine.networks().createNetwork("front", "198.18.10.0/24", null);
        VmctlException mixed = catchThrowableOfType(VmctlException.class, () -> engine.vms().create(new VmService.CreateRequest("x", "tiny",
                1, "64M", null, false, List.of(new NetService.NicRequest("sa", null), new NetService.NicRequest("front", null)))));
        assertThat(mixed.kind()).isEqualTo(VmctlException.Kind.INVALID);
        assertThat(mixed.getMessage()).startsWith("invalid nics:").contains("segment sa").contains("the default fabric");
        assertThat(store.byIdOrName("x")).isEmpty();
        // a running VM cannot move its QEMU to another namespace; a NIC on another place's network is refused
        VmView v = vm("f1", "front", null, true);
        VmctlException add = catchThrowableOfType(VmctlException.class, () -> engine.nics().add("f1", "sa", null));
        assertThat(add.kind()).isEqualTo(VmctlException.Kind.INVALID);
        VmctlException move = catchThrowableOfType(VmctlException.class,
                () -> engine.nics().patch("f1", "eth0", new NicService.NicPatch(null, "sa", null, false, null)));
        assertThat(move.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
        assertThat(move.getMessage()).contains("QEMU runs in namespace " + hostNet.fabric());
        assertThat(engine.vms().get(v.id()).nics().getFirst().network()).isEqualTo("front");
    }

    @Test
    void removingASegmentRemovesEverythingInItAsOneOperation() {
        SegmentView sa = segments.create(seg("sa", "198.18.50.0/24")).value();
        VmView va = vm("va", "sa", null, true);
        vm("vb", "sa", null, false);
        Accepted<SegmentView> gone = segments.delete("sa");
        assertThat(gone.op().kind()).isEqualTo("segment.delete");
        assertThat(gone.value().vms()).containsExactlyInAnyOrder("va", "vb");
        assertThat(store.byIdOrName("va")).isEmpty();
        assertThat(store.byIdOrName("vb")).isEmpty();
        assertThat(store.network("sa")).isEmpty();
        assertThat(segments.exists("sa")).isFalse();
        assertThat(segHost.namespaces).doesNotContainKey(sa.netns());
        List<Operation> children = engine.ops().list(null, null, "vm.destroy", 10);
        assertThat(children).hasSize(2).allSatisfy(o -> assertThat(o.parent()).isEqualTo(gone.op().id()));
        assertThat(seen).anyMatch(e -> e.type().equals(EventType.SEGMENT_DELETED.wire()) && "sa".equals(e.name()));
        assertThat(qemu.started).anyMatch(q -> !q.alive());
        assertThat(va.id()).isNotBlank();
    }

    @Test
    void aSegmentIsRemovedAtItsTtlWithAnEvent() throws Exception {
        SegmentView st = segments.create(new Segments.CreateRequest("st", null, null, "1s", false)).value();
        assertThat(st.ttlSeconds()).isEqualTo(1);
        assertThat(st.expiresAt()).isNotNull();
        assertThat(st.subnet()).isEqualTo("198.18.0.0/24");
        assertThat(st.gateway()).isNull();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (segments.exists("st") && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(segments.exists("st")).isFalse();
        assertThat(segHost.namespaces).doesNotContainKey(st.netns());
        List<String> types = seen.stream().filter(e -> "st".equals(e.name())).map(VmEvent::type).toList();
        assertThat(types).containsSubsequence("segment.created", "segment.expired", "segment.deleted");
        // each carries the segment as it was (the deleted one as it was last seen); the network the same
        assertThat(seen).filteredOn(e -> "st".equals(e.name()) && e.type().startsWith("segment."))
                .allSatisfy(e -> assertThat(((SegmentView) e.data()).subnet()).isEqualTo("198.18.0.0/24"));
        assertThat(seen).filteredOn(e -> "st".equals(e.name()) && e.type().startsWith("network."))
                .extracting(VmEvent::type).containsExactly("network.created", "network.deleted");
        assertThat(seen).filteredOn(e -> "st".equals(e.name()) && e.type().startsWith("network."))
                .allSatisfy(e -> assertThat(((dev.vmctl.model.NetworkView) e.data()).subnet()).isEqualTo("198.18.0.0/24"));
    }

    @Test
    void theVpnLetsPeersIntoThisSegmentOnly() {
        segments.create(new Segments.CreateRequest("sa", null, "198.18.50.0/24", null, false));
        segHost.busyPorts.add(51820);
        String peer = Wireguard.generateKeys().publicKey();
        Accepted<SegmentVpnView> a = segments.vpn("sa", peer);
        assertThat(a.op().kind()).isEqualTo("segment.vpn");
        SegmentVpnView v = a.value();
        assertThat(v.allowedIps()).containsExactly("198.18.50.0/24");
        assertThat(v.clientAddress()).isEqualTo("198.19.255.2/32");
        assertThat(v.endpoint()).isEqualTo("192.0.2.1:51821");  // 51820 is taken on the edge
        assertThat(v.config()).contains("Address = 198.19.255.2/32").contains("AllowedIPs = 198.18.50.0/24")
                .contains("Endpoint = 192.0.2.1:51821").contains("PublicKey = " + v.serverPublicKey());
        SegmentView s = segments.get("sa");
        assertThat(s.router()).as("the namespace became the gateway").isTrue();
        assertThat(segHost.gateways).containsValue("198.18.50.1/24");
        assertThat(segHost.peers.get(segHost.vpnInterface(s.id()))).containsEntry(peer, "198.19.255.2/32");
        assertThat(segments.vpn("sa", peer).value().clientAddress()).as("the same peer again").isEqualTo("198.19.255.2/32");
        String other = Wireguard.generateKeys().publicKey();
        assertThat(segments.vpn("sa", other).value().clientAddress()).isEqualTo("198.19.255.3/32");
        assertThat(segments.get("sa").vpn().peers()).hasSize(2);
        segments.delete("sa");
        assertThat(segHost.vpns).isEmpty();
    }

    @Test
    void aTopologyDeploysInsideASegment() {
        SegmentView sb = segments.create(seg("sb", "198.18.51.0/24")).value();
        TopologyService topologies = new TopologyService(store, events, engine, images, Duration.ofSeconds(20));
        String topo = """
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                networks:
                  - {name: lan, subnet: 198.18.50.0/24}
                nodes:
                  - name: n
                    vms:
                      - {name: web, image: tiny, memory: 64M, nics: [{network: lan, ip: 198.18.50.10}]}
                """;
        TopologyReport r = topologies.apply(topo, "t.yaml", null, false, false, "sb").value();
        assertThat(r.ok()).as(r.summary()).isTrue();
        assertThat(engine.networks().net().network("t-lan").segment()).isEqualTo("sb");
        String web = store.byIdOrName("t-n-web").orElseThrow().id();
        assertThat(engine.networks().net().namespaceOfVm(web)).isEqualTo(sb.netns());
        assertThat(segments.get("sb").topologies()).containsExactly("t");
        // again without --segment: it stays there; with another segment: 409
        assertThat(topologies.apply(topo, "t.yaml", false, false).value().summary()).contains("nothing to do");
        segments.create(seg("sc", "198.18.52.0/24"));
        VmctlException moved = catchThrowableOfType(VmctlException.class, () -> topologies.apply(topo, "t.yaml", null, false, false, "sc"));
        assertThat(moved.kind()).isEqualTo(VmctlException.Kind.CONFLICT);
        assertThat(moved.getMessage()).contains("deployed in segment sb");
        VmctlException unknown = catchThrowableOfType(VmctlException.class, () -> topologies.apply(topo, "t.yaml", null, true, false, "nope"));
        assertThat(unknown.getMessage()).startsWith("invalid segment:");
        segments.delete("sb");
        assertThat(store.byIdOrName("t-n-web")).isEmpty();
        assertThat(store.topologies()).isEmpty();
    }

    @Test
    void startUpRemovesUnknownNamespacesAndRemakesMissingOnes() {
        SegmentView sa = segments.create(seg("sa", "198.18.50.0/24")).value();
        engine.close();
        segHost.namespaces.put(hostNet.fabric() + "-sdeadbeef", "vbdeadbeef");           // a segment no row knows
        segHost.namespaces.put(hostNet.fabric() + "-sdeadbeef-r01234567", "");           // and its router
        segHost.namespaces.remove(sa.netns());                                           // a known one is gone
        engine = engine(0);
        segments = engine.segments();
        assertThat(segHost.namespaces.keySet()).containsExactly(sa.netns());
        assertThat(segHost.gateways).containsEntry(sa.netns(), "198.18.50.1/24");
        assertThat(segments.get("sa").name()).isEqualTo("sa");
    }

    @Test
    void theCreatePathTakesAPreparedNamespace() throws Exception {
        segments.create(seg("s1", "198.18.50.0/24"));   // the first create starts the pool
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (segments.pooled() < 2 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(segments.pooled()).isEqualTo(2);
        Set<String> ready = Set.copyOf(segHost.namespaces.keySet());
        SegmentView s2 = segments.create(seg("s2", "198.18.50.0/24")).value();
        assertThat(ready).contains(s2.netns());
    }

    @Test
    void badInputNamesTheFieldAndChangesNothing() {
        record Case(Segments.CreateRequest req, String field) {}
        for (Case c : List.of(
                new Case(new Segments.CreateRequest("Bad Name", null, null, null, null), "name"),
                new Case(new Segments.CreateRequest("ok", null, "198.18.50.5/24", null, null), "subnet"),
                new Case(new Segments.CreateRequest("ok", null, null, "soon", null), "ttl"),
                new Case(new Segments.CreateRequest("ok", null, null, "0s", null), "ttl"),
                new Case(new Segments.CreateRequest("ok", null, null, "31d", null), "ttl"),
                new Case(new Segments.CreateRequest("ok", "no spaces", null, null, null), "owner"))) {
            VmctlException e = catchThrowableOfType(VmctlException.class, () -> segments.create(c.req()));
            assertThat(e.kind()).as(c.toString()).isEqualTo(VmctlException.Kind.INVALID);
            assertThat(e.getMessage()).as(c.toString()).startsWith("invalid " + c.field() + ":");
        }
        assertThat(catchThrowableOfType(VmctlException.class, () -> segments.create(new Segments.CreateRequest("ok", null, null, "soon", null)))
                .detail()).contains("30s, 10m, 2h");
        assertThat(segments.list()).isEmpty();
        segments.create(seg("sa", "198.18.50.0/24"));
        assertThat(catchThrowableOfType(VmctlException.class, () -> segments.create(seg("sa", "198.18.60.0/24"))).kind())
                .isEqualTo(VmctlException.Kind.CONFLICT);
        engine.networks().createNetwork("taken", "198.18.10.0/24", null);
        assertThat(catchThrowableOfType(VmctlException.class, () -> segments.create(seg("taken", "198.18.60.0/24"))).getMessage())
                .contains("a network named taken exists");
        assertThat(catchThrowableOfType(VmctlException.class, () -> segments.vpn("sa", "not-a-key")).getMessage()).startsWith("invalid peer:");
        assertThat(catchThrowableOfType(VmctlException.class, () -> segments.get("nope")).kind()).isEqualTo(VmctlException.Kind.NOT_FOUND);
        assertThat(catchThrowableOfType(VmctlException.class, () -> engine.networks().deleteNetwork("sa")).getMessage())
                .contains("it is the network of segment sa");
    }
}
