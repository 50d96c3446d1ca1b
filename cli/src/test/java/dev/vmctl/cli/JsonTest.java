package dev.vmctl.cli;

import dev.vmctl.model.NetworkView;
import dev.vmctl.model.NicView;
import dev.vmctl.model.NodeSnapshotView;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.NodeVm;
import dev.vmctl.model.Operation;
import dev.vmctl.model.RouterView;
import dev.vmctl.model.SnapshotView;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.TopologyView;
import dev.vmctl.model.VmView;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Collection;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI reads the server's answers into the model's records, tolerantly: unknown fields ignored, missing ones empty. */
class JsonTest {
    @ParameterizedTest
    @ValueSource(classes = {VmView.class, NicView.class, NetworkView.class, RouterView.class, SnapshotView.class,
            TopologyReport.class, TopologyView.class, NodeView.class, NodeVm.class, NodeSnapshotView.class, Operation.class})
    void aRecordReadsFromAnObjectWithOnlyAnUnknownField(Class<?> type) throws Exception {
        assertThat(Json.as(Json.parse("{\"futureField\":{\"x\":1}}"), type)).isInstanceOf(type);
    }

    /** NicView is not here: its {@code mechanisms} is null in the API when nothing is impaired. */
    @ParameterizedTest
    @ValueSource(classes = {VmView.class, NetworkView.class, RouterView.class, SnapshotView.class, TopologyReport.class,
            TopologyView.class, NodeView.class, NodeVm.class, NodeSnapshotView.class, Operation.class})
    void missingListsAndMapsReadAsEmpty(Class<?> type) throws Exception {
        Record r = (Record) Json.as(Json.parse("{}"), type);
        for (var c : type.getRecordComponents()) {
            if (Collection.class.isAssignableFrom(c.getType()) || Map.class.isAssignableFrom(c.getType())) {
                assertThat(c.getAccessor().invoke(r)).as(type.getSimpleName() + "." + c.getName()).isNotNull();
            }
        }
    }
}
