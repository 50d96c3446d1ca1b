package dev.vmctl.engine;

import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.VmFiles;

import java.util.concurrent.CompletableFuture;

/**
 * The live side of one VM: its QEMU process, QMP and guest-agent connections. Exists from process
 * start until the process is gone. {@code process} is null after a server restart (QEMU is then no
 * longer our child); {@code handle} always works.
 */
final class VmRuntime {
    final String id;
    final VmFiles files;
    final long pid;
    final long pidStart;
    final Process process;            // null when re-attached after a server restart
    final ProcessHandle handle;
    final CompletableFuture<Void> exited = new CompletableFuture<>();
    volatile QmpClient qmp;
    volatile GuestAgentClient agent;
    /** Set before vmctl itself ends the process, so its exit is not reported as a crash. */
    volatile boolean expectedExit;
    /** Set when QMP reported a guest-initiated shutdown (the guest powered itself off). */
    volatile boolean guestShutdown;
    volatile String shutdownReason;

    private final java.util.List<java.util.Map.Entry<java.util.function.Predicate<com.fasterxml.jackson.databind.JsonNode>,
            CompletableFuture<com.fasterxml.jackson.databind.JsonNode>>> waiters = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A future completed by the next QMP event matching the predicate (register before causing it). */
    CompletableFuture<com.fasterxml.jackson.databind.JsonNode> awaitEvent(
            java.util.function.Predicate<com.fasterxml.jackson.databind.JsonNode> p) {
        CompletableFuture<com.fasterxml.jackson.databind.JsonNode> f = new CompletableFuture<>();
        waiters.add(java.util.Map.entry(p, f));
        return f;
    }

    void dispatch(com.fasterxml.jackson.databind.JsonNode event) {
        for (var w : waiters) {
            if (w.getKey().test(event)) {
                w.getValue().complete(event);
                waiters.remove(w);
            }
        }
    }

    VmRuntime(String id, VmFiles files, long pid, long pidStart, Process process, ProcessHandle handle) {
        this.id = id;
        this.files = files;
        this.pid = pid;
        this.pidStart = pidStart;
        this.process = process;
        this.handle = handle;
    }

    boolean alive() {
        return !exited.isDone() && handle.isAlive();
    }

    String exitDescription() {
        if (process != null && !process.isAlive()) {
            int code = process.exitValue();
            return code > 128 ? "killed by signal " + (code - 128) : "exit code " + code;
        }
        return shutdownReason != null ? "shutdown reason " + shutdownReason : "exit status unknown (not our child)";
    }

    void closeClients() {
        QmpClient q = qmp;
        GuestAgentClient g = agent;
        if (q != null) try { q.close(); } catch (RuntimeException ignored) { /* already closed */ }
        if (g != null) try { g.close(); } catch (RuntimeException ignored) { /* already closed */ }
    }
}
