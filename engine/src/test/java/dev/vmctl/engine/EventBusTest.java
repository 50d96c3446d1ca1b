package dev.vmctl.engine;

import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EventBusTest {
    @Test
    void deliversInOrderAndReplaysSinceASequenceNumber() {
        EventBus bus = new EventBus();
        List<VmEvent> got = new ArrayList<>();
        Runnable unsub = bus.subscribe(got::add);
        bus.publish(dev.vmctl.model.EventType.VM_STATE, "id", "web1", null, VmState.REQUESTED, "created");
        VmEvent second = bus.publish(dev.vmctl.model.EventType.VM_STATE, "id", "web1", VmState.REQUESTED, VmState.PREPARING, "booting");
        unsub.run();
        bus.publish(dev.vmctl.model.EventType.VM_STATE, "id", "web1", VmState.PREPARING, VmState.RUNNING, "up");
        assertThat(got).extracting(VmEvent::state).containsExactly(VmState.REQUESTED, VmState.PREPARING);
        assertThat(bus.since(second.seq())).extracting(VmEvent::state).containsExactly(VmState.RUNNING);
    }

    @Test
    void aFailingListenerDoesNotStopOthers() {
        EventBus bus = new EventBus();
        List<VmEvent> got = new ArrayList<>();
        bus.subscribe(e -> { throw new IllegalStateException("client gone"); });
        bus.subscribe(got::add);
        bus.publish(dev.vmctl.model.EventType.VM_STATE, "id", "web1", null, VmState.REQUESTED, "created");
        assertThat(got).hasSize(1);
    }
}
