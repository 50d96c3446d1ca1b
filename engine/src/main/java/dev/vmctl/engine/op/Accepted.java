package dev.vmctl.engine.op;

import dev.vmctl.model.Operation;

/** What a mutating call answers: the operation it started (for Operation-Location) and the resource as it is now. */
public record Accepted<T>(Operation op, T value) {}
