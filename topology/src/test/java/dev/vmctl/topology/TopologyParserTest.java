package dev.vmctl.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class TopologyParserTest {
    static final Path EXAMPLES = Path.of("..", "examples");

    /** The example of issue 4, exactly as written there. */
    static final String SHOP = """
            apiVersion: vmctl/v1
            kind: Topology
            name: shop
            networks:
              - {name: public, subnet: 198.18.1.0/24}
              - {name: internal, subnet: 198.18.2.0/24}
            nodes:
              - name: svc
                vms:
                  - {name: api,     role: api-handler, image: tiny, memory: 128M, nics: [public, internal]}
                  - {name: cache,   role: db-cache,    image: tiny, memory: 128M, nics: [internal], startBefore: [api]}
                  - {name: gateway, role: external-gw, image: tiny, memory: 128M, nics: [public]}
            """;

    static TopologyException fail(String text) {
        return catchThrowableOfType(TopologyException.class, () -> TopologyParser.parse(text, "shop.yaml"));
    }

    // ---- the examples

    @Test
    void theIssuesExampleIsAcceptedAsWritten() {
        TopologySpec s = TopologyParser.parse(SHOP, "shop.yaml");
        assertThat(s.apiVersion()).isEqualTo("vmctl/v1");
        assertThat(s.kind()).isEqualTo("Topology");
        assertThat(s.name()).isEqualTo("shop");
        assertThat(s.networks()).containsExactly(new TopologySpec.Network("public", "198.18.1.0/24", null),
                new TopologySpec.Network("internal", "198.18.2.0/24", null));
        assertThat(s.routers()).isEmpty();
        TopologySpec.Node svc = s.node("svc");
        assertThat(svc.vms()).extracting(TopologySpec.Vm::name).containsExactly("api", "cache", "gateway");
        TopologySpec.Vm api = svc.vm("api");
        assertThat(api.role()).isEqualTo("api-handler");
        assertThat(api.image()).isEqualTo("tiny");
        assertThat(api.memoryMiB()).isEqualTo(128);
        assertThat(api.effectiveCpus()).isEqualTo(1);
        assertThat(api.effectiveAccel()).isEqualTo(VmSpec.Accel.AUTO);
        assertThat(api.nics()).containsExactly(new TopologySpec.Nic("public", null), new TopologySpec.Nic("internal", null));
        assertThat(svc.vm("cache").startBefore()).containsExactly("api");
        assertThat(s.vmName("svc", "api")).isEqualTo("shop-svc-api");
        assertThat(s.networkName("public")).isEqualTo("shop-public");
    }

    @Test
    void examplesShopIsTheIssuesExample() throws Exception {
        assertThat(Files.readString(EXAMPLES.resolve("shop.yaml"))).isEqualTo(SHOP);
    }

    @Test
    void examplesRoutedLabParsesAndValidates() throws Exception {
        TopologySpec s = TopologyParser.parse(Files.readString(EXAMPLES.resolve("routed-lab.yaml")), "routed-lab.yaml");
        assertThat(s.networks()).extracting(TopologySpec.Network::subnet)
                .containsExactly("198.18.11.0/24", "198.18.12.0/24", "198.18.13.0/24");
        assertThat(s.routers()).singleElement().satisfies(r -> assertThat(r.networks()).containsExactly("seg-a", "seg-b"));
        List<TopologySpec.Vm> vms = s.nodes().stream().flatMap(n -> n.vms().stream()).toList();
        assertThat(vms).hasSizeBetween(5, 7);
        assertThat(vms).allSatisfy(v -> {
            assertThat(v.image()).isEqualTo("tiny");
            assertThat(v.memoryMiB()).isBetween(96, 128);
        });
        assertThat(s.nodes()).hasSizeGreaterThanOrEqualTo(3);
        // the isolated segment has a VM and no router
        assertThat(s.routers()).noneMatch(r -> r.networks().contains("isolated"));
        assertThat(vms).anyMatch(v -> v.networkNames().equals(List.of("isolated")));
        assertThat(StartOrder.of(s.node("db")).stages()).containsExactly(List.of("primary"), List.of("replica"));
    }

    @Test
    void jsonIsYamlToo() {
        TopologySpec s = TopologyParser.parse("""
                {"apiVersion": "vmctl/v1", "kind": "Topology", "name": "j",
                 "networks": [{"name": "n1", "subnet": "10.20.0.0/16", "vlan": 7}],
                 "nodes": [{"name": "a", "vms": [{"name": "v", "role": "r", "image": "tiny", "cpus": 2, "memory": 256,
                            "accel": "tcg", "nics": [{"network": "n1", "ip": "10.20.0.9"}]}]}]}
                """, "j.json");
        TopologySpec.Vm v = s.nodes().getFirst().vms().getFirst();
        assertThat(v.effectiveCpus()).isEqualTo(2);
        assertThat(v.memoryMiB()).isEqualTo(256);
        assertThat(v.effectiveAccel()).isEqualTo(VmSpec.Accel.TCG);
        assertThat(v.nics()).containsExactly(new TopologySpec.Nic("n1", "10.20.0.9"));
        assertThat(s.networks().getFirst().vlan()).isEqualTo(7);
    }

    @Test
    void theRecordsSerialiseBackToAnEquivalentFile() throws Exception {
        TopologySpec s = TopologyParser.parse(Files.readString(EXAMPLES.resolve("routed-lab.yaml")), "routed-lab.yaml");
        String json = new ObjectMapper().writeValueAsString(s);
        assertThat(json).doesNotContain("null").doesNotContain("effective").doesNotContain("memoryMiB");
        assertThat(TopologyParser.parse(json, "echo.json")).isEqualTo(s);
    }

    // ---- error format: exact messages with lines

    @Test
    void syntaxErrorNamesLineAndColumn() {
        TopologyException e = fail("""
                apiVersion: vmctl/v1
                kind: Topology
                name: shop
                networks:
                  - {name: public, subnet: 198.18.1.0/24
                nodes:
                  - name: svc
                """);
        assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
        assertThat(e.getMessage()).isEqualTo("shop.yaml:6:6: YAML syntax error: expected ',' or '}', but got :; "
                + "while parsing a flow mapping at line 5, column 5");
        assertThat(e.problems()).hasSize(1);
    }

    @Test
    void badIndentationIsASyntaxError() {
        assertThat(fail("""
                apiVersion: vmctl/v1
                kind: Topology
                name: shop
                  networks: []
                """).getMessage()).isEqualTo("shop.yaml:4:11: YAML syntax error: mapping values are not allowed here");
    }

    @Test
    void nodeResourcesAndCpuLimit() {
        TopologySpec s = TopologyParser.parse(SHOP.replace("  - name: svc\n", "  - name: svc\n    resources: {cpu: 0.5, memory: 1G}\n")
                .replace("nics: [public]}", "nics: [public], cpuLimit: 0.25}"), "shop.yaml");
        assertThat(s.nodes().getFirst().resources()).isEqualTo(new TopologySpec.Resources(0.5, "1G"));
        assertThat(s.nodes().getFirst().vm("gateway").cpuLimit()).isEqualTo(0.25);
        assertThat(s.nodes().getFirst().vm("api").cpuLimit()).isNull();
        // out of range, not a number, too little memory for the node's VMs (3 × (128 + 64) MiB)
        assertThat(fail(SHOP.replace("  - name: svc\n", "  - name: svc\n    resources: {cpu: 0}\n")).getMessage())
                .contains("nodes[0].resources.cpu: 0.0 is out of range (allowed: cores, a number from 0.01 to 64");
        assertThat(fail(SHOP.replace("  - name: svc\n", "  - name: svc\n    resources: {memory: 512M}\n")).getMessage())
                .contains("nodes[0].resources.memory: node 'svc' has 3 VM(s) that need 576 MiB")
                .contains("(allowed: at least 576M, or fewer or smaller VMs)");
        assertThat(fail(SHOP.replace("nics: [public]}", "nics: [public], cpuLimit: lots}")).getMessage())
                .contains("nodes[0].vms[2].cpuLimit: expected a number");
        assertThat(fail(SHOP.replace("  - name: svc\n", "  - name: svc\n    resources: {cpus: 1}\n")).getMessage())
                .contains("unknown field 'cpus' in a node's resources (allowed: cpu, memory, egress)");
    }

    @Test
    void nicRatesAndNodeEgress() {
        TopologySpec s = TopologyParser.parse(SHOP.replace("  - name: svc\n", "  - name: svc\n    resources: {egress: 100mbit}\n")
                .replace("nics: [public]}", "nics: [{network: public, rate: 10mbit}]}"), "shop.yaml");
        assertThat(s.nodes().getFirst().resources()).isEqualTo(new TopologySpec.Resources(null, null, "100mbit"));
        assertThat(s.nodes().getFirst().vm("gateway").nics()).containsExactly(new TopologySpec.Nic("public", null, "10mbit"));
        assertThat(fail(SHOP.replace("nics: [public]}", "nics: [{network: public, rate: fast}]}")).getMessage())
                .contains("nodes[0].vms[2].nics[0].rate: 'fast' is not a rate (allowed: a rate: 8kbit..10gbit in tc units");
        assertThat(fail(SHOP.replace("nics: [public]}", "nics: [{network: public, rate: 4kbit}]}")).getMessage())
                .contains("nodes[0].vms[2].nics[0].rate: 4kbit is out of range");
        assertThat(fail(SHOP.replace("  - name: svc\n", "  - name: svc\n    resources: {egress: 20gbit}\n")).getMessage())
                .contains("nodes[0].resources.egress: 20gbit is out of range");
        assertThat(fail(SHOP.replace("nics: [public]}", "nics: [{network: public, speed: 1mbit}]}")).getMessage())
                .contains("unknown field 'speed' in a NIC (allowed: network, ip, rate)");
    }

    /** disk: a size for images with a root disk; checked like memory, and refused for tiny (which has no disk). */
    @Test
    void vmDisk() {
        String deb = SHOP.replace("role: db-cache,    image: tiny, memory: 128M", "role: db-cache,    image: debian-12, memory: 128M, disk: 4G");
        TopologySpec s = TopologyParser.parse(deb, "shop.yaml");
        assertThat(s.nodes().getFirst().vm("cache").disk()).isEqualTo("4G");
        assertThat(s.nodes().getFirst().vm("api").disk()).isNull();
        assertThat(fail(deb.replace("disk: 4G", "disk: lots")).getMessage())
                .contains("nodes[0].vms[1].disk: 'lots' is not a size (allowed: a size from 64M to 1048576M");
        assertThat(fail(deb.replace("disk: 4G", "disk: 2048G")).getMessage())
                .contains("nodes[0].vms[1].disk: 2048G (2097152 MiB) is out of range");
        assertThat(fail(SHOP.replace("role: db-cache,    image: tiny, memory: 128M", "role: db-cache,    image: tiny, memory: 128M, disk: 4G"))
                .getMessage()).contains("nodes[0].vms[1].disk: image tiny has no root disk to size (allowed:").contains("not tiny");
    }

    @Test
    void unknownFieldListsTheAllowedOnes() {
        TopologyException e = fail(SHOP.replace("memory: 128M, nics: [public]}", "memry: 128M, nics: [public]}"));
        assertThat(e.getMessage()).isEqualTo("shop.yaml:12:57: nodes[0].vms[2].memry: unknown field 'memry' in a VM "
                + "(allowed: name, role, image, cpus, memory, accel, nics, startBefore, artifacts, run, cpuLimit, disk)");
        assertThat(fail(SHOP + "labels: {a: b}\n").getMessage()).isEqualTo("shop.yaml:13:1: labels: unknown field 'labels' "
                + "in a topology (allowed: apiVersion, kind, name, networks, routers, nodes)");
        assertThat(fail(SHOP.replace("startBefore", "startbefore")).getMessage()).isEqualTo("shop.yaml:11:89: "
                + "nodes[0].vms[1].startbefore: unknown field 'startbefore' in a VM (did you mean 'startBefore'?) "
                + "(allowed: name, role, image, cpus, memory, accel, nics, startBefore, artifacts, run, cpuLimit, disk)");
    }

    @Test
    void badMemory() {
        TopologyException e = fail(SHOP.replace("role: db-cache,    image: tiny, memory: 128M", "role: db-cache,    image: tiny, memory: 12X"));
        assertThat(e.getMessage()).isEqualTo("shop.yaml:11:65: nodes[0].vms[1].memory: '12X' is not a size (allowed: 64M..16384M, e.g. 128M)");
        assertThat(fail(SHOP.replace("memory: 128M, nics: [public]}", "memory: 32M, nics: [public]}")).getMessage())
                .isEqualTo("shop.yaml:12:65: nodes[0].vms[2].memory: 32M (32 MiB) is out of range (allowed: 64M..16384M, e.g. 128M)");
    }

    @Test
    void unknownNetworkInANic() {
        TopologyException e = fail(SHOP.replace("nics: [public, internal]", "nics: [public, intern]"));
        assertThat(e.getMessage()).isEqualTo("shop.yaml:10:86: nodes[0].vms[0].nics[1]: unknown network 'intern' "
                + "(allowed: names of declared networks: public, internal)");
        TopologyException m = fail(SHOP.replace("nics: [public]}", "nics: [{network: dmz, ip: 10.0.0.5}]}"));
        assertThat(m.getMessage()).isEqualTo("shop.yaml:12:88: nodes[0].vms[2].nics[0].network: unknown network 'dmz' "
                + "(allowed: names of declared networks: public, internal)");
    }

    @Test
    void cycleInStartBeforeIsNamed() {
        TopologyException e = fail(SHOP.replace("nics: [public, internal]}", "nics: [public, internal], startBefore: [gateway]}")
                .replace("nics: [public]}", "nics: [public], startBefore: [cache]}"));
        assertThat(e.getMessage()).isEqualTo("shop.yaml:10:110: nodes[0].vms[0].startBefore: startBefore forms a cycle: "
                + "api → gateway → cache → api (allowed: startBefore entries without a cycle; remove one of them)");
        assertThat(e.problems()).hasSize(1);
    }

    @Test
    void overlappingSubnets() {
        TopologyException e = fail(SHOP.replace("198.18.2.0/24", "198.18.0.0/16"));
        assertThat(e.getMessage()).isEqualTo("shop.yaml:6:30: networks[1].subnet: 198.18.0.0/16 overlaps 198.18.1.0/24 of "
                + "network 'public' (networks[0]) (allowed: a subnet that shares no address with the other networks of the topology)");
    }

    @Test
    void nameTooLongOncePrefixed() {
        String node = "n".repeat(30), vm = "v".repeat(30);
        TopologyException e = fail(SHOP.replace("- name: svc", "- name: " + node).replace("{name: gateway,", "{name: " + vm + ","));
        String deployed = "shop-" + node + "-" + vm;
        assertThat(deployed).hasSize(66);
        assertThat(e.getMessage()).isEqualTo("shop.yaml:12:16: nodes[0].vms[2].name: the deployed VM name '" + deployed
                + "' (<topology>-<node>-<vm>) is 66 characters long (allowed: at most 63 characters; shorten the topology, node or VM name by 3)");
        assertThat(e.problems()).hasSize(1);
        TopologyException n = fail(SHOP.replace("{name: public,", "{name: " + "p".repeat(60) + ","));
        assertThat(n.getMessage()).startsWith("shop.yaml:5:12: networks[0].name: the deployed network name 'shop-ppp")
                .endsWith("' (<topology>-<network>) is 65 characters long (allowed: at most 63 characters; shorten the topology or network name by 2)");
    }

    @Test
    void deployedNamesMustNotCollide() {
        TopologyException e = fail("""
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                nodes:
                  - {name: a, vms: [{name: b-c, role: x, image: tiny}]}
                  - {name: a-b, vms: [{name: c, role: x, image: tiny}]}
                """);
        assertThat(e.getMessage()).isEqualTo("shop.yaml:6:30: nodes[1].vms[0].name: the deployed VM name 't-a-b-c' is also "
                + "that of nodes[0].vms[0] (allowed: node and VM names whose <topology>-<node>-<vm> differ)");
    }

    @Test
    void roleIsOptionalAndDefaultsToTheVmsName() {
        TopologySpec spec = TopologyParser.parse("""
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                nodes:
                  - {name: n, vms: [{name: web, image: tiny}, {name: db, role: db-primary, image: tiny}]}
                """, "t.yaml", java.util.List.of("tiny"));
        assertThat(spec.node("n").vms().get(0).effectiveRole()).isEqualTo("web");
        assertThat(spec.node("n").vms().get(1).effectiveRole()).isEqualTo("db-primary");
    }

    @Test
    void aTopologyWithoutANameIsAProblemNotACrash() {
        TopologyException e = fail("""
                apiVersion: vmctl/v1
                kind: Topology
                nodes: []
                """);
        assertThat(e.getMessage()).contains("name");
        // nameless networks, routers, nodes and VMs: problems too, never a crash
        TopologyException all = fail("""
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                networks:
                  - {subnet: 198.18.1.0/24}
                routers:
                  - {networks: [a]}
                nodes:
                  - {vms: [{image: tiny}]}
                  - {name: n, vms: [{image: tiny, nics: [{ip: 198.18.1.5}]}]}
                """);
        assertThat(all.detail()).contains("networks[0].name").contains("routers[0].name").contains("nodes[0].name")
                .contains("nodes[1].vms[0].name").contains("nodes[1].vms[0].nics[0].network");
    }

    @Test
    void aMissingFieldIsReportedOnce() {
        TopologyException e = fail("""
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                nodes:
                  - {name: n, vms: [{name: web}]}
                """);
        assertThat(e.detail().lines().filter(l -> l.contains("image")).toList()).hasSize(1);
        assertThat(e.getMessage()).contains("nodes[0].vms[0].image: required field is missing");
    }

    @Test
    void everyProblemIsListedInFileOrderInTheDetail() {
        TopologyException e = fail("""
                apiVersion: vmctl/v2
                kind: Topology
                name: Shop
                networks:
                  - {name: public, subnet: 198.18.1.5/24, vlan: 5000}
                nodes:
                  - name: svc
                    vms:
                      - {name: api, role: api, image: tiny, cpus: two, accel: xen}
                      - {name: db, image: tiny, nics: [public, public, public, public, public, public, public, public, public]}
                """);
        assertThat(e.getMessage()).isEqualTo("shop.yaml:1:13: apiVersion: 'vmctl/v2' is not a supported version (allowed: vmctl/v1)");
        assertThat(e.detail().lines().toList()).containsExactly(
                "shop.yaml:1:13: apiVersion: 'vmctl/v2' is not a supported version (allowed: vmctl/v1)",
                "shop.yaml:3:7: name: 'Shop' is not a valid topology name (allowed: lower-case letters, digits and '-', "
                        + "starting with a letter or digit, 1-63 characters ([a-z0-9][a-z0-9-]{0,62}))",
                "shop.yaml:5:28: networks[0].subnet: '198.18.1.5/24' is not a network address (did you mean 198.18.1.0/24?) "
                        + "(allowed: an IPv4 network in CIDR form, prefix /8 to /30, written with its network address, e.g. 198.18.10.0/24)",
                "shop.yaml:5:49: networks[0].vlan: 5000 is out of range (allowed: 1..4094)",
                "shop.yaml:9:51: nodes[0].vms[0].cpus: expected an integer, found a string 'two' (allowed: 1..16)",
                "shop.yaml:9:63: nodes[0].vms[0].accel: 'xen' is not an accelerator (allowed: auto, kvm, tcg)",
                "shop.yaml:10:39: nodes[0].vms[1].nics: 9 NICs are too many (allowed: at most 8 NICs per VM)");
        assertThat(e.problems().get(4)).isEqualTo(new Problem("shop.yaml", 9, 51, "nodes[0].vms[0].cpus",
                "expected an integer, found a string 'two'", "1..16"));
    }

    @Test
    void missingRequiredFieldsAndWrongTypes() {
        TopologyException e = fail("""
                apiVersion: vmctl/v1
                name: t
                networks: {name: a}
                nodes:
                  - name: n
                    vms:
                      - just-a-string
                      - name: [a]
                        role: r
                        image: tiny
                        nics: public
                """);
        assertThat(e.detail().lines().toList()).containsExactly(
                "shop.yaml:1:1: kind: required field is missing (allowed: Topology)",
                "shop.yaml:3:11: networks: expected a list, found a mapping (allowed: a list of networks: {name, subnet, vlan?})",
                "shop.yaml:7:9: nodes[0].vms[0]: expected a mapping (a VM), found a string 'just-a-string' "
                        + "(allowed: name, role, image, cpus, memory, accel, nics, startBefore, artifacts, run, cpuLimit, disk)",
                "shop.yaml:8:15: nodes[0].vms[1].name: expected a single value, found a list (allowed: lower-case letters, "
                        + "digits and '-', starting with a letter or digit, 1-63 characters ([a-z0-9][a-z0-9-]{0,62}))",
                "shop.yaml:11:15: nodes[0].vms[1].nics: expected a list, found a string 'public' (allowed: a list of at most 8 NICs: "
                        + "a network name, or {network: <name>, ip: <address>, rate: <rate>})");
    }

    @Test
    void duplicateFieldsAndAliasesAndSecondDocuments() {
        TopologyException e = fail(SHOP.replace("name: shop\n", "name: shop\nname: shop2\n") + "---\nname: x\n");
        assertThat(e.detail().lines().toList()).containsExactly(
                "shop.yaml:4:1: name: duplicate field 'name' (first at line 3) (allowed: each field once)",
                "shop.yaml:15:1: a second YAML document ('---') follows; a topology file holds exactly one");
        assertThat(fail(SHOP.replace("name: shop", "name: &t shop").replace("- name: svc", "- name: *t")).getMessage())
                .isEqualTo("shop.yaml:8:11: nodes[0].name: YAML aliases (*t) are not supported (allowed: the value written out)");
    }

    @Test
    void emptyFileAndWrongRoot() {
        assertThat(fail("").getMessage()).startsWith("shop.yaml:1:1: the file holds no YAML document (allowed: a topology: "
                + "apiVersion: vmctl/v1, kind: Topology");
        assertThat(fail("- a\n").getMessage()).isEqualTo("shop.yaml:1:1: expected a mapping (a topology), found a list "
                + "(allowed: apiVersion, kind, name, networks, routers, nodes)");
    }

    @Test
    void wrongApiVersionAndKindListTheAllowed() {
        assertThat(fail(SHOP.replace("kind: Topology", "kind: Node")).getMessage())
                .isEqualTo("shop.yaml:2:7: kind: 'Node' is not a supported kind (allowed: Topology)");
    }

    // ---- semantic rules

    @Test
    void duplicateNamesPerList() {
        TopologyException e = fail(SHOP.replace("{name: internal,", "{name: public,").replace("nics: [public, internal]", "nics: [public]")
                .replace("nics: [internal]", "nics: [public]").replace("{name: gateway,", "{name: api,"));
        assertThat(e.detail().lines().toList()).containsExactly(
                "shop.yaml:6:12: networks[1].name: duplicate network name 'public' (also networks[0]) (allowed: a name used once per list)",
                "shop.yaml:12:16: nodes[0].vms[2].name: duplicate VM name 'api' (also nodes[0].vms[0]) (allowed: a name used once per list)");
    }

    @Test
    void nicAddresses() {
        String base = """
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                networks:
                  - {name: a, subnet: 10.1.0.0/24}
                nodes:
                  - name: n
                    vms:
                      - {name: v1, role: r, image: tiny, nics: [{network: a, ip: IP1}]}
                      - {name: v2, role: r, image: tiny, nics: [{network: a, ip: IP2}]}
                """;
        String allowed = " (allowed: 10.1.0.2 to 10.1.0.254)";
        assertThat(fail(base.replace("IP1", "10.1.0.1").replace("IP2", "10.1.0.2")).getMessage()).isEqualTo(
                "shop.yaml:9:66: nodes[0].vms[0].nics[0].ip: 10.1.0.1 is the gateway address of 10.1.0.0/24 of network 'a' (a router's port)" + allowed);
        assertThat(fail(base.replace("IP1", "10.1.0.0").replace("IP2", "10.1.0.2")).getMessage()).isEqualTo(
                "shop.yaml:9:66: nodes[0].vms[0].nics[0].ip: 10.1.0.0 is the network address of 10.1.0.0/24 of network 'a'" + allowed);
        assertThat(fail(base.replace("IP1", "10.1.0.255").replace("IP2", "10.1.0.2")).getMessage()).isEqualTo(
                "shop.yaml:9:66: nodes[0].vms[0].nics[0].ip: 10.1.0.255 is the broadcast address of 10.1.0.0/24 of network 'a'" + allowed);
        assertThat(fail(base.replace("IP1", "10.2.0.5").replace("IP2", "10.1.0.2")).getMessage()).isEqualTo(
                "shop.yaml:9:66: nodes[0].vms[0].nics[0].ip: 10.2.0.5 is outside the subnet 10.1.0.0/24 of network 'a'" + allowed);
        assertThat(fail(base.replace("IP1", "10.1.0.300").replace("IP2", "10.1.0.2")).getMessage()).isEqualTo(
                "shop.yaml:9:66: nodes[0].vms[0].nics[0].ip: '10.1.0.300' is not an IPv4 address" + allowed);
        assertThat(fail(base.replace("IP1", "10.1.0.7").replace("IP2", "10.1.0.7")).getMessage()).isEqualTo(
                "shop.yaml:10:66: nodes[0].vms[1].nics[0].ip: 10.1.0.7 is already the address of nodes[0].vms[0].nics[0] "
                        + "(allowed: an address no other NIC has)");
        assertThat(TopologyParser.parse(base.replace("IP1", "10.1.0.7").replace("IP2", "10.1.0.254"), "ok.yaml").nodes()).hasSize(1);
    }

    @Test
    void startBeforeReferences() {
        TopologyException e = fail(SHOP.replace("startBefore: [api]", "startBefore: [cache, apii]"));
        assertThat(e.detail().lines().toList()).containsExactly(
                "shop.yaml:11:103: nodes[0].vms[1].startBefore[0]: 'cache' is the VM itself (allowed: names of the other VMs of node 'svc': api, gateway)",
                "shop.yaml:11:110: nodes[0].vms[1].startBefore[1]: unknown VM 'apii' in node 'svc' (allowed: names of the other VMs of node 'svc': api, gateway)");
    }

    @Test
    void routers() {
        String base = """
                apiVersion: vmctl/v1
                kind: Topology
                name: t
                networks:
                  - {name: a, subnet: 10.1.0.0/24}
                  - {name: b, subnet: 10.2.0.0/24}
                routers:
                  - {name: r1, networks: [a, b], routes: [{to: 10.9.0.0/16, via: VIA}]}
                  - {name: r2, networks: NETS}
                nodes:
                  - {name: n, vms: [{name: v, role: r, image: tiny, nics: [a]}]}
                """;
        TopologySpec ok = TopologyParser.parse(base.replace("VIA", "10.2.0.9").replace("NETS", "[]").replace("  - {name: r2, networks: []}\n", ""), "ok.yaml");
        assertThat(ok.routers().getFirst().routes()).containsExactly(new TopologySpec.Route("10.9.0.0/16", "10.2.0.9"));
        assertThat(fail(base.replace("VIA", "10.2.0.9").replace("NETS", "[b, c]")).detail().lines().toList()).containsExactly(
                "shop.yaml:9:27: routers[1].networks[0]: network 'b' already has router 'r1' (routers[0]) at its gateway "
                        + "(allowed: at most one router per network; join that router instead)",
                "shop.yaml:9:30: routers[1].networks[1]: unknown network 'c' (allowed: names of declared networks: a, b)");
        assertThat(fail(base.replace("VIA", "10.3.0.9").replace("NETS", "[]")).detail().lines().toList()).containsExactly(
                "shop.yaml:8:66: routers[0].routes[0].via: 10.3.0.9 is not on a network of router 'r1' "
                        + "(allowed: an address in 10.1.0.0/24, 10.2.0.0/24 other than the router's own (.1))",
                "shop.yaml:9:26: routers[1].networks: a router joins at least one network (allowed: names of declared networks: a, b)");
        assertThat(fail(base.replace("VIA", "10.1.0.1").replace("  - {name: r2, networks: NETS}\n", "")).getMessage()).isEqualTo(
                "shop.yaml:8:66: routers[0].routes[0].via: 10.1.0.1 is the router's own address on 10.1.0.0/24 "
                        + "(allowed: an address in 10.1.0.0/24, 10.2.0.0/24 other than the router's own (.1))");
        assertThat(fail(base.replace("10.9.0.0/16", "10.9.0.0/33").replace("VIA", "10.1.0.5").replace("  - {name: r2, networks: NETS}\n", ""))
                .getMessage()).isEqualTo("shop.yaml:8:48: routers[0].routes[0].to: prefix /33 of '10.9.0.0/33' is out of range "
                + "(allowed: a destination network in CIDR form, prefix /8 to /30, e.g. 198.18.30.0/24)");
    }

    @Test
    void imagesAreCheckedWhenTheCatalogIsGiven() {
        assertThat(TopologyParser.parse(SHOP, "shop.yaml", List.of("tiny", "alpine")).name()).isEqualTo("shop");
        TopologyException e = catchThrowableOfType(TopologyException.class, () -> TopologyParser.parse(
                SHOP.replace("role: db-cache,    image: tiny", "role: db-cache,    image: tiny2"), "shop.yaml", List.of("tiny", "alpine")));
        assertThat(e.getMessage()).isEqualTo("shop.yaml:11:51: nodes[0].vms[1].image: unknown image 'tiny2' "
                + "(allowed: images of the catalog: alpine, tiny)");
        assertThat(catchThrowableOfType(TopologyException.class, () -> TopologyParser.parse(SHOP, "shop.yaml", List.of())).detail()
                .lines().toList()).hasSize(3).allMatch(l -> l.endsWith("image: unknown image 'tiny' (allowed: no image is built yet; run 'vmctl image build tiny')"));
    }

    @Test
    void aSpecBuiltInCodeIsValidatedWithoutLines() {
        TopologySpec s = new TopologySpec("vmctl/v1", "Topology", "t", List.of(new TopologySpec.Network("a", "10.0.0.0/8", null)), null,
                List.of(new TopologySpec.Node("n", List.of(new TopologySpec.Vm("v", "r", "tiny", 99, null, null,
                        List.of(new TopologySpec.Nic("b", null)), null)))));
        assertThatThrownBy(() -> TopologyParser.validate(s, "request body"))
                .isInstanceOf(TopologyException.class)
                .hasMessage("request body: nodes[0].vms[0].cpus: 99 is out of range (allowed: 1..16)")
                .satisfies(x -> assertThat(((TopologyException) x).detail()).isEqualTo(
                        "request body: nodes[0].vms[0].cpus: 99 is out of range (allowed: 1..16)\n"
                                + "request body: nodes[0].vms[0].nics[0]: unknown network 'b' (allowed: names of declared networks: a)"));
        TopologySpec noNodes = new TopologySpec("vmctl/v1", "Topology", "t", null, null, null);
        assertThatThrownBy(() -> TopologyParser.validate(noNodes, "api"))
                .hasMessage("api: nodes: a topology has at least one node (allowed: a list of nodes: {name, vms})");
    }

    @Test
    void artifactsAndRunAreReadAndCheckedAtTheirLines() {
        String yaml = """
                apiVersion: vmctl/v1
                kind: Topology
                name: art
                nodes:
                  - name: web
                    vms:
                      - name: srv
                        image: tiny
                        artifacts:
                          - {src: /srv/site, dest: /www/}
                          - url: http://127.0.0.1:1/x.tgz
                            dest: opt/x.tgz
                          - {maven: "org.apache.commons:commons-lang3:3.17.0", dest: /opt/lib/, mode: "0644", colour: red}
                          - {git: /srv/cfg.git, ref: v1.2, dest: /etc/app, owner: "1000:1000", mode: "9"}
                          - {dest: /nothing}
                          - {src: /a}
                        run: [httpd, -f, -p, "8080", -h, /www]
                """;
        TopologyException e = catchThrowableOfType(TopologyException.class, () -> TopologyParser.parse(yaml, "art.yaml", List.of("tiny")));
        assertThat(e.detail().lines().toList()).containsExactly(
                "art.yaml:11:13: nodes[0].vms[0].artifacts[1].sha256: missing: a url artifact needs the SHA-256 of its content (allowed: " + dev.vmctl.model.ArtifactSpec.SHA256 + ")",
                "art.yaml:12:19: nodes[0].vms[0].artifacts[1].dest: 'opt/x.tgz' is not an absolute path (allowed: " + dev.vmctl.model.ArtifactSpec.DEST + ")",
                "art.yaml:13:95: nodes[0].vms[0].artifacts[2].colour: unknown field 'colour' in an artifact (allowed: src, url, maven, git, dest, mode, owner, sha256, ref, repo)",
                "art.yaml:14:86: nodes[0].vms[0].artifacts[3].mode: '9' is not an octal mode (allowed: " + dev.vmctl.model.ArtifactSpec.MODE + ")",
                "art.yaml:15:13: nodes[0].vms[0].artifacts[4].src: no source: give one of src, url, maven, git (allowed: " + dev.vmctl.model.ArtifactSpec.SOURCES + ")",
                "art.yaml:16:13: nodes[0].vms[0].artifacts[5].dest: required field is missing (allowed: " + dev.vmctl.model.ArtifactSpec.DEST + ")");
        String good = """
                apiVersion: vmctl/v1
                kind: Topology
                name: art
                nodes:
                  - name: web
                    vms:
                      - name: srv
                        image: tiny
                        artifacts:
                          - {src: /srv/site, dest: /www/}
                          - url: http://127.0.0.1:1/x.tgz
                            sha256: %s
                            dest: /opt/x.tgz
                          - {maven: "org.apache.commons:commons-lang3:3.17.0", dest: /opt/lib/, mode: "0644"}
                          - {git: /srv/cfg.git, ref: v1.2, dest: /etc/app, owner: "1000:1000", mode: "0750"}
                        run: [httpd, -f, -p, "8080", -h, /www]
                """.formatted("a".repeat(64));
        TopologySpec ok = TopologyParser.parse(good, "art.yaml", List.of("tiny"));
        TopologySpec.Vm v = ok.node("web").vm("srv");
        assertThat(v.artifacts()).hasSize(4);
        assertThat(v.artifacts().get(3).ref()).isEqualTo("v1.2");
        assertThat(v.artifacts().get(3).owner()).isEqualTo("1000:1000");
        assertThat(v.run()).containsExactly("httpd", "-f", "-p", "8080", "-h", "/www");
    }
}
