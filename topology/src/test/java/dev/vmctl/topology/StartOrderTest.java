package dev.vmctl.topology;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StartOrderTest {
    static TopologySpec.Vm vm(String name, String... before) {
        return new TopologySpec.Vm(name, "r", "tiny", null, null, null, null, List.of(before));
    }

    @Test
    void shopStartsTheCacheBeforeTheApi() {
        TopologySpec s = TopologyParser.parse(TopologyParserTest.SHOP, "shop.yaml");
        StartOrder o = StartOrder.of(s.node("svc"));
        assertThat(o.startStages()).containsExactly(List.of("cache", "gateway"), List.of("api"));
        assertThat(o.stopStages()).containsExactly(List.of("api"), List.of("cache", "gateway"));
        assertThat(o.stageOf("api")).isEqualTo(1);
        assertThat(o.stageOf("cache")).isZero();
        assertThat(o.stageOf("nope")).isEqualTo(-1);
        assertThat(o.startSequence()).containsExactly("cache", "gateway", "api");
    }

    @Test
    void stagesFollowTheLongestChainAndKeepFileOrder() {
        // a → b → d, a → c → d, e alone, f → d
        TopologySpec.Node n = new TopologySpec.Node("n", List.of(
                vm("d"), vm("c", "d"), vm("b", "d"), vm("a", "b", "c"), vm("e"), vm("f", "d")));
        assertThat(StartOrder.of(n).stages()).containsExactly(
                List.of("a", "e", "f"), List.of("c", "b"), List.of("d"));
        // a chain: each in its own stage
        TopologySpec.Node chain = new TopologySpec.Node("c", List.of(vm("x3"), vm("x2", "x3"), vm("x1", "x2")));
        assertThat(StartOrder.of(chain).stages()).containsExactly(List.of("x1"), List.of("x2"), List.of("x3"));
        assertThat(StartOrder.of(chain).stopStages()).containsExactly(List.of("x3"), List.of("x2"), List.of("x1"));
    }

    @Test
    void noDependenciesIsOneStage() {
        TopologySpec.Node n = new TopologySpec.Node("n", List.of(vm("a"), vm("b"), vm("c")));
        assertThat(StartOrder.of(n).stages()).containsExactly(List.of("a", "b", "c"));
    }

    @Test
    void everyNodeOfATopology() throws Exception {
        TopologySpec s = TopologyParser.parse(java.nio.file.Files.readString(TopologyParserTest.EXAMPLES.resolve("routed-lab.yaml")), "lab");
        Map<String, StartOrder> all = StartOrder.of(s);
        assertThat(all.keySet()).containsExactly("web", "db", "probe", "quarantine");
        assertThat(all.get("db").stages()).containsExactly(List.of("primary"), List.of("replica"));
        assertThat(all.get("web").stages()).containsExactly(List.of("web-1", "web-2"));
    }

    @Test
    void aCycleIsRefusedAndNamed() {
        TopologySpec.Node n = new TopologySpec.Node("n", List.of(vm("a", "b"), vm("b", "c"), vm("c", "a"), vm("d")));
        assertThatThrownBy(() -> StartOrder.of(n)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("node n: startBefore has a cycle: a → b → c → a");
        assertThat(StartOrder.findCycles(StartOrder.graph(new TopologySpec.Node("m", List.of(
                vm("a", "b"), vm("b", "a"), vm("c", "d"), vm("d", "c"), vm("e", "a"))))))
                .containsExactly(List.of("a", "b", "a"), List.of("c", "d", "c"));
    }
}
