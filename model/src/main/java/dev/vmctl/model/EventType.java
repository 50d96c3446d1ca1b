package dev.vmctl.model;

import java.util.Locale;

/**
 * Every type of event on the server's stream ({@link VmEvent#type()} is its {@link #wire()} name). The one list:
 * the OpenAPI document's EventType enum is checked against it by a test, and the GUI's types are generated from
 * that. What each type fills in of {@link VmEvent}: {@code vm.*} — vmId, name, state (and from for vm.state),
 * message; {@code snapshot.created} — vmId, name, message; {@code image.*}, {@code network.*}, {@code router.*},
 * {@code segment.*} (created, deleted, and expired: removed at its TTL), {@code topology.progress}, {@code node.*} —
 * name (the image, network, router, segment, topology or TOPO/NODE) and message;
 * {@code operation.*} — name (the targets), vmId for a VM's operation, message (kind and error), operation,
 * data: the {@link Operation} as it is then;
 * {@code scenario.started}, {@code scenario.finished} — name (the run's id), message, data: the run's journal
 * ({@link ScenarioRun}); {@code scenario.step} — name (the run's id), message, data: the step that changed
 * ({@link ScenarioStepResult}); {@code template.created}, {@code template.deleted} — name (the template), message;
 * {@code template.invoked} — name (the template), message (method, path, status, total), data: the {@link InvocationView}.
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
