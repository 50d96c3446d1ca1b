package dev.vmctl.model;

/** The outcome of a command run in a guest. exitCode is -1 when it timed out. */
public record ExecResult(int exitCode, String stdout, String stderr, boolean timedOut, long durationMs) {
}
