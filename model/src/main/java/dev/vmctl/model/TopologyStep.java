package dev.vmctl.model;

/**
 * One element's outcome in a {@link TopologyReport}.
 *
 * @param verb        create, delete or change; keep for a node the plan leaves as it is (made by node clone, not in the file)
 * @param type        network, router or vm; node for keep
 * @param description what the step does, e.g. {@code create vm shop-svc-api (api-handler) on public, internal}
 * @param status      planned, done, failed or skipped
 * @param error       why a failed or skipped step did not happen, else null
 * @param millis      how long a done step took, else null
 */
public record TopologyStep(String verb, String type, String name, String description, String status, String error,
                           Long millis) {}
