package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Operation;

import java.time.Duration;

/** Waiting on an operation: one long-poll ({@code GET …/operations/ID?wait=S}) per up to 60 s, never a polling loop. */
final class OperationWait {
    private static final long MAX_POLL_SECONDS = 60;

    private OperationWait() {}

    /** Returns the operation's JSON once it has finished, or as it is when the timeout passed. */
    static JsonNode await(ApiClient api, String location, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000_000L);
            long wait = Math.min(MAX_POLL_SECONDS, Math.max(1, left));
            long asked = System.nanoTime();
            JsonNode json = api.get(location + (location.contains("?") ? "&" : "?") + "wait=" + wait, Duration.ofSeconds(wait + 30));
            Operation o = Json.as(json, Operation.class);
            if (o.finished() || System.nanoTime() - deadline >= 0) return json;
            // a server that answers before the wait is over without the operation having finished: don't spin
            if (System.nanoTime() - asked < 500_000_000L) pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(250);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.failed("interrupted while waiting", null, e);
        }
    }
}
