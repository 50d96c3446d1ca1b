package dev.vmctl.model;

import java.util.Locale;

/** Where an operation is: {@code queued → running → succeeded | failed | cancelled} (a queued one may be cancelled). */
public enum OperationState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** The lower-case word the API uses. */
    public String wire() { return name().toLowerCase(Locale.ROOT); }

    public boolean finished() { return this == SUCCEEDED || this == FAILED || this == CANCELLED; }

    public static OperationState parse(String field, String s) {
        for (OperationState v : values()) if (v.wire().equals(s)) return v;
        throw VmctlException.invalid(field, "'" + s + "' is not an operation state", "queued, running, succeeded, failed, cancelled");
    }
}
