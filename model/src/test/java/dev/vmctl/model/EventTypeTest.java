package dev.vmctl.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EventTypeTest {
    @Test
    void wireNames() {
        assertThat(EventType.VM_STATE.wire()).isEqualTo("vm.state");
        assertThat(EventType.TOPOLOGY_PROGRESS.wire()).isEqualTo("topology.progress");
        assertThat(EventType.SNAPSHOT_CREATED.wire()).isEqualTo("snapshot.created");
        for (OperationState s : OperationState.values()) {
            assertThat(EventType.of(s).wire()).isEqualTo("operation." + s.wire());
        }
    }
}
