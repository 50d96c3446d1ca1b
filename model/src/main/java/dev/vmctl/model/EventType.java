package dev.vmctl.model;

import java.util.Locale;

/**
 * Every type of event on the server's stream ({@link VmEvent#type()} is its {@link #wire()} name). The one list:
 * the OpenAPI document's EventType enum is checked against it by a test, and the GUI's types are generated from
 * that. What each type fills in of {@link VmEvent} — and its typed payload {@code data}, the resource as it is at
 * that moment:
 * <ul>
 * <li>{@code vm.state} (from, state), {@code vm.progress}, {@code vm.nic} — vmId, name, state, message; data: the {@link VmView};</li>
 * <li>{@code snapshot.created} — vmId, name (the VM), message; data: the {@link SnapshotView} with its pause and total times;</li>
 * <li>{@code image.built} — name, message; data: the {@link ImageInfo}; {@code image.progress}, {@code image.failed} — name, message;</li>
 * <li>{@code network.*}, {@code router.*} — name, message; data: the {@link NetworkView} / {@link RouterView} (a deleted
 *     one as it was last);</li>
 * <li>{@code segment.*} (created, deleted, and expired: removed at its TTL) — name, message; data: the {@link SegmentView};</li>
 * <li>{@code topology.progress} — name (the topology), message; {@code node.state} — name (TOPO/NODE), message; data: the
 *     {@link NodeView}; {@code node.snapshot} — data: the {@link NodeSnapshotView};</li>
 * <li>{@code operation.*} — name (the targets), vmId for a VM's operation, message (kind and error), operation;
 *     data: the {@link Operation} as it is then;</li>
 * <li>{@code scenario.started}, {@code scenario.finished} — name (the run's id), message; data: the run's journal
 *     ({@link ScenarioRun}); {@code scenario.step} — data: the step that changed ({@link ScenarioStepResult});</li>
 * <li>{@code template.created}, {@code template.deleted} — name (the template), message; data: the {@link TemplateView};
 *     {@code template.invoked} — message (method, path, status, total); data: the {@link InvocationView}.</li>
 * </ul>
 */
public enum EventType {
    VM_STATE, VM_PROGRESS, VM_NIC,
    SNAPSHOT_CREATED,
    IMAGE_PROGRESS, IMAGE_BUILT, IMAGE_FAILED,
    NETWORK_CREATED, NETWORK_DELETED, ROUTER_CREATED, ROUTER_DELETED,
    SEGMENT_CREATED, SEGMENT_DELETED, SEGMENT_EXPIRED,
    TOPOLOGY_PROGRESS, NODE_STATE, NODE_SNAPSHOT,
    OPERATION_QUEUED, OPERATION_RUNNING, OPERATION_SUCCEEDED, OPERATION_FAILED, OPERATION_CANCELLED,
    SCENARIO_STARTED, SCENARIO_STEP, SCENARIO_FINISHED,
    TEMPLATE_CREATED, TEMPLATE_DELETED, TEMPLATE_INVOKED;

    /** The name on the wire: {@code VM_STATE} → {@code vm.state}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT).replaceFirst("_", ".");
    }

    /** The event announcing that an operation reached {@code state}. */
    public static EventType of(OperationState state) {
        return valueOf("OPERATION_" + state.name());
    }
}
