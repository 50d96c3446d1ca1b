package dev.vmctl.model;

import java.util.List;

/**
 * One mutating call as the API shows it. {@code state} is {@link OperationState#wire()}; {@code targets} are
 * {@code kind:id} strings ({@code vm:ID}, {@code network:NAME}, {@code topology:NAME}, {@code node:TOPO/NODE},
 * {@code snapshot:NAME}, {@code image:NAME}, {@code router:NAME}); {@code parent} is the operation that
 * started this one (a topology deploy starting a VM), null for a call from a client.
 */
public record Operation(String id, String kind, List<String> targets, String state, String parent,
                        String createdAt, String startedAt, String finishedAt, String error, String progress) {
    public Operation {
        targets = targets == null ? List.of() : List.copyOf(targets);
    }

    public boolean finished() {
        return state != null && OperationState.parse("state", state).finished();
    }
}
