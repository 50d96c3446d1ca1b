package dev.vmctl.topology;

import dev.vmctl.topology.TopologyPlan.Action;
import dev.vmctl.topology.TopologyPlan.ChangeVm;
import dev.vmctl.topology.TopologyPlan.CreateVm;
import dev.vmctl.topology.TopologyPlan.DeleteVm;
import dev.vmctl.topology.TopologyPlan.Phase;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TopologyPlanTest {
    static final String SHOP = TopologyParserTest.SHOP;

    static TopologySpec parse(String text) {
        return TopologyParser.parse(text, "shop.yaml");
    }

    /** What the engine would report after deploying the spec (addresses allocated from .2 up per network). */
    static Current deployed(TopologySpec s) {
        List<Current.Network> nets = s.networks().stream().map(n -> new Current.Network(n.name(), n.subnet(), n.vlan())).toList();
        List<Current.Router> routers = s.routers().stream().map(r -> new Current.Router(r.name(), r.networks(), r.routes())).toList();
        List<Current.Vm> vms = new ArrayList<>();
        int host = 2;
        for (TopologySpec.Node n : s.nodes()) {
            for (TopologySpec.Vm v : n.vms()) {
                List<Current.Nic> nics = new ArrayList<>();
                for (TopologySpec.Nic nic : v.nics()) {
                    String prefix = s.network(nic.network()).subnet().replaceAll("\\.0/\\d+$", ".");
                    nics.add(new Current.Nic(nic.network(), nic.ip() != null ? nic.ip() : prefix + (100 + host++)));
                }
                vms.add(new Current.Vm(s.vmName(n.name(), v.name()), n.name(), v.name(), v.role(), v.image(),
                        v.effectiveCpus(), v.memoryMiB(), nics));
            }
        }
        return new Current(nets, routers, vms);
    }

    @Test
    void fromNothingCreatesEverythingInDependencyOrder() {
        TopologyPlan p = TopologyPlan.of(parse(SHOP), Current.EMPTY);
        assertThat(p.topology()).isEqualTo("shop");
        assertThat(p.lines()).containsExactly(
                "create network shop-public 198.18.1.0/24",
                "create network shop-internal 198.18.2.0/24",
                "create vm shop-svc-cache (db-cache) on internal",
                "create vm shop-svc-gateway (external-gw) on public",
                "create vm shop-svc-api (api-handler) on public, internal");
        assertThat(p.summary()).isEqualTo("5 to create");
        assertThat(p.vmCreateWaves()).extracting(w -> w.stream().map(Action::deployedName).toList())
                .containsExactly(List.of("shop-svc-cache", "shop-svc-gateway"), List.of("shop-svc-api"));
        assertThat(p.phase(Phase.CREATE_NETWORKS)).hasSize(2);
        assertThat(p.phase(Phase.DELETE_VMS)).isEmpty();
    }

    /** shop as deployed, plus node svc2: a clone of svc (api and cache) that the file does not list. */
    static Current withClone(TopologySpec s) {
        Current d = deployed(s);
        List<Current.Vm> vms = new ArrayList<>(d.vms());
        vms.add(new Current.Vm("shop-svc2-api", "svc2", "api", "api-handler", "tiny", 1, 128,
                List.of(new Current.Nic("public", "198.18.1.20"), new Current.Nic("internal", "198.18.2.20"))));
        vms.add(new Current.Vm("shop-svc2-cache", "svc2", "cache", "db-cache", "tiny", 1, 128, List.of(new Current.Nic("internal", "198.18.2.21"))));
        return new Current(d.networks(), d.routers(), vms, java.util.Set.of("svc2"));
    }

    @Test
    void aClonedNodeTheFileDoesNotListIsKeptAndNamed() {
        TopologySpec s = parse(SHOP);
        TopologyPlan p = TopologyPlan.of(s, withClone(s));
        assertThat(p.isEmpty()).as(p.lines().toString()).isTrue();
        assertThat(p.keptNodes()).containsExactly("svc2");
        assertThat(TopologyPlan.keepLine("svc2")).isEqualTo("keep node svc2 (made by vmctl node clone; the file does not list it)");
        // a VM of a file node that the file drops is still deleted; the clone stays
        TopologyPlan fewer = TopologyPlan.of(parse(SHOP.replace("      - {name: gateway, role: external-gw, image: tiny, memory: 128M, nics: [public]}\n", "")), withClone(s));
        assertThat(fewer.lines()).containsExactly("delete vm shop-svc-gateway (external-gw)");
        assertThat(fewer.keptNodes()).containsExactly("svc2");
        // teardown removes the clones as well
        assertThat(TopologyPlan.teardown("shop", withClone(s)).phase(Phase.DELETE_VMS)).extracting(Action::deployedName)
                .contains("shop-svc2-api", "shop-svc2-cache");
    }

    @Test
    void aFileThatNamesAClonedNodeTakesItOver() {
        TopologySpec s = parse(SHOP + """
                  - name: svc2
                    vms:
                      - {name: api, role: api-handler, image: tiny, memory: 128M, nics: [public, internal]}
                """);
        TopologyPlan p = TopologyPlan.of(s, withClone(parse(SHOP)));
        assertThat(p.keptNodes()).isEmpty();
        assertThat(p.lines()).containsExactly("delete vm shop-svc2-cache (db-cache)");
    }

    @Test
    void reapplyingIsANoOp() throws Exception {
        TopologySpec s = parse(SHOP);
        TopologyPlan p = TopologyPlan.of(s, deployed(s));
        assertThat(p.isEmpty()).isTrue();
        assertThat(p.lines()).containsExactly("nothing to do");
        assertThat(p.summary()).isEqualTo("nothing to do");
        TopologySpec lab = parse(Files.readString(TopologyParserTest.EXAMPLES.resolve("routed-lab.yaml")));
        assertThat(TopologyPlan.of(lab, deployed(lab)).isEmpty()).isTrue();
    }

    @Test
    void addingAVmCreatesExactlyIt() {
        TopologySpec before = parse(SHOP);
        TopologySpec after = parse(SHOP + "      - {name: worker,  role: batch,       image: tiny, memory: 96M, nics: [internal]}\n");
        TopologyPlan p = TopologyPlan.of(after, deployed(before));
        assertThat(p.lines()).containsExactly("create vm shop-svc-worker (batch) on internal");
        assertThat(p.actions()).singleElement().isInstanceOfSatisfying(CreateVm.class, c -> {
            assertThat(c.node()).isEqualTo("svc");
            assertThat(c.vm().memoryMiB()).isEqualTo(96);
            assertThat(c.stage()).isZero();
        });
    }

    @Test
    void removingAVmDeletesExactlyIt() {
        TopologySpec before = parse(SHOP);
        TopologySpec after = parse(SHOP.replace("      - {name: gateway, role: external-gw, image: tiny, memory: 128M, nics: [public]}\n", ""));
        TopologyPlan p = TopologyPlan.of(after, deployed(before));
        assertThat(p.lines()).containsExactly("delete vm shop-svc-gateway (external-gw)");
        assertThat(p.actions()).singleElement().isInstanceOf(DeleteVm.class);
        assertThat(p.phase(Phase.DELETE_VMS)).hasSize(1);
        assertThat(p.summary()).isEqualTo("1 to delete");
    }

    @Test
    void changingANicIsOneChange() {
        TopologySpec before = parse(SHOP);
        TopologySpec after = parse(SHOP.replace("nics: [public, internal]}", "nics: [public]}"));
        TopologyPlan p = TopologyPlan.of(after, deployed(before));
        assertThat(p.lines()).containsExactly("change vm shop-svc-api (api-handler): nics public (198.18.1.102), internal (198.18.2.103) → public");
        ChangeVm c = (ChangeVm) p.actions().getFirst();
        assertThat(c.old().nics()).hasSize(2);
        assertThat(c.vm().nics()).hasSize(1);
        assertThat(c.stage()).isEqualTo(1);
        // executed as a delete, then a create
        assertThat(p.phase(Phase.DELETE_VMS)).containsExactly(c);
        assertThat(p.phase(Phase.CREATE_VMS)).containsExactly(c);
        assertThat(p.vmDeleteWaves()).containsExactly(List.of(c));
        assertThat(p.summary()).isEqualTo("1 to change");
    }

    @Test
    void anAddressOnlyCountsWhereTheFileGivesOne() {
        TopologySpec before = parse(SHOP);
        Current cur = deployed(before); // gateway got 198.18.1.105
        assertThat(TopologyPlan.of(parse(SHOP.replace("nics: [public]}", "nics: [{network: public, ip: 198.18.1.105}]}")), cur).isEmpty()).isTrue();
        assertThat(TopologyPlan.of(parse(SHOP.replace("nics: [public]}", "nics: [{network: public, ip: 198.18.1.50}]}")), cur).lines())
                .containsExactly("change vm shop-svc-gateway (external-gw): nics public (198.18.1.105) → public (198.18.1.50)");
    }

    @Test
    void cpusMemoryImageAndRoleChanges() {
        TopologySpec before = parse(SHOP);
        TopologySpec after = parse(SHOP.replace("{name: cache,   role: db-cache,    image: tiny, memory: 128M,",
                "{name: cache,   role: redis,    image: alpine, memory: 1G, cpus: 2,"));
        assertThat(TopologyPlan.of(after, deployed(before)).lines()).containsExactly(
                "change vm shop-svc-cache (redis): cpus 1 → 2; memory 128M → 1024M; image tiny → alpine; role db-cache → redis");
    }

    @Test
    void changedSubnetRecreatesTheNetworkAndWhatIsOnIt() {
        TopologySpec before = parse(SHOP);
        TopologySpec after = parse(SHOP.replace("198.18.2.0/24", "198.18.3.0/24"));
        TopologyPlan p = TopologyPlan.of(after, deployed(before));
        assertThat(p.lines()).containsExactly(
                "delete network shop-internal 198.18.2.0/24 (re-created: subnet 198.18.2.0/24 → 198.18.3.0/24)",
                "create network shop-internal 198.18.3.0/24 (re-created: subnet 198.18.2.0/24 → 198.18.3.0/24)",
                "change vm shop-svc-cache (db-cache): network internal is re-created",
                "change vm shop-svc-api (api-handler): network internal is re-created");
        // the changed VMs go before the network is deleted and come back after it is created
        assertThat(p.vmDeleteWaves()).extracting(w -> w.stream().map(Action::deployedName).toList())
                .containsExactly(List.of("shop-svc-api"), List.of("shop-svc-cache"));
    }

    @Test
    void networksAndRoutersComeAndGoInOrder() throws Exception {
        TopologySpec lab = parse(Files.readString(TopologyParserTest.EXAMPLES.resolve("routed-lab.yaml")));
        TopologyPlan create = TopologyPlan.of(lab, Current.EMPTY);
        assertThat(create.actions()).extracting(Action::type)
                .containsExactly("network", "network", "network", "router", "vm", "vm", "vm", "vm", "vm", "vm");
        assertThat(create.lines()).contains("create router lab-core joining seg-a, seg-b",
                "create vm lab-web-web-1 (web) on seg-a (198.18.11.10)",
                "create vm lab-probe-probe (prober) on seg-a, seg-b");
        assertThat(create.vmCreateWaves()).extracting(w -> w.stream().map(Action::deployedName).toList()).containsExactly(
                List.of("lab-web-web-1", "lab-web-web-2", "lab-db-primary", "lab-probe-probe", "lab-quarantine-lone"),
                List.of("lab-db-replica"));

        // teardown: VMs, then routers, then networks
        TopologyPlan down = TopologyPlan.teardown("lab", deployed(lab));
        assertThat(down.actions()).extracting(Action::type)
                .containsExactly("vm", "vm", "vm", "vm", "vm", "vm", "router", "network", "network", "network");
        assertThat(down.actions()).allMatch(a -> a.verb().equals("delete"));
        assertThat(down.lines()).contains("delete router lab-core", "delete network lab-isolated 198.18.13.0/24",
                "delete vm lab-db-replica (db-replica)");
        assertThat(down.phase(Phase.CREATE_VMS)).isEmpty();

        // a router whose networks change is deleted and created again
        TopologySpec oneLeg = parse(Files.readString(TopologyParserTest.EXAMPLES.resolve("routed-lab.yaml"))
                .replace("networks: [seg-a, seg-b]", "networks: [seg-a]"));
        assertThat(TopologyPlan.of(oneLeg, deployed(lab)).lines()).containsExactly(
                "delete router lab-core (changed: networks seg-a, seg-b → seg-a)",
                "create router lab-core joining seg-a (changed: networks seg-a, seg-b → seg-a)");

        // removing the isolated segment and its VM: VM first, network last
        TopologySpec smaller = parse(Files.readString(TopologyParserTest.EXAMPLES.resolve("routed-lab.yaml"))
                .replace("  - {name: isolated, subnet: 198.18.13.0/24}\n", "")
                .replaceAll("(?s)  - name: quarantine\n.*", ""));
        assertThat(TopologyPlan.of(smaller, deployed(lab)).lines()).containsExactly(
                "delete vm lab-quarantine-lone (isolated-host)",
                "delete network lab-isolated 198.18.13.0/24");
    }

    @Test
    void routesAreComparedAsASet() {
        String t = """
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                networks: [{name: a, subnet: 10.1.0.0/24}]
                routers: [{name: r, networks: [a], routes: [{to: 10.8.0.0/16, via: 10.1.0.5}, {to: 10.9.0.0/16, via: 10.1.0.6}]}]
                nodes: [{name: n, vms: [{name: v, role: r, image: tiny, nics: [a]}]}]
                """;
        TopologySpec s = parse(t);
        Current cur = deployed(s);
        Current swapped = new Current(cur.networks(), List.of(new Current.Router("r", List.of("a"),
                List.of(new TopologySpec.Route("10.9.0.0/16", "10.1.0.6"), new TopologySpec.Route("10.8.0.0/16", "10.1.0.5")))), cur.vms());
        assertThat(TopologyPlan.of(s, swapped).isEmpty()).isTrue();
        assertThat(TopologyPlan.of(parse(t.replace("10.1.0.6", "10.1.0.7")), cur).lines()).containsExactly(
                "delete router t-r (changed: routes 10.8.0.0/16 via 10.1.0.5, 10.9.0.0/16 via 10.1.0.6 → 10.8.0.0/16 via 10.1.0.5, 10.9.0.0/16 via 10.1.0.7)",
                "create router t-r joining a; routes 10.8.0.0/16 via 10.1.0.5, 10.9.0.0/16 via 10.1.0.7 (changed: routes 10.8.0.0/16 via 10.1.0.5, "
                        + "10.9.0.0/16 via 10.1.0.6 → 10.8.0.0/16 via 10.1.0.5, 10.9.0.0/16 via 10.1.0.7)");
    }
}
