package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import static dev.vmctl.model.VmState.DESTROYED;
import static dev.vmctl.model.VmState.ERROR;
import static dev.vmctl.model.VmState.RUNNING;
import static dev.vmctl.model.VmState.STOPPED;

/**
 * Waits until a VM reaches what an action promised, printing a progress line per state it saw
 * ({@code web1  PREPARING  (booting)}, {@code web1  RUNNING  1.8s}): on the action's operation (one long-poll,
 * {@link OperationWait}), or, with a server that sends no Operation-Location, by reading the VM.
 */
final class VmWaiter {
    /** What the caller waits for, and which states end the wait as a failure. */
    enum Goal {
        /** create --start, start: RUNNING. */
        START(EnumSet.of(ERROR, STOPPED, DESTROYED)),
        /** reboot: out of RUNNING once (or a new updatedAt), then RUNNING. */
        REBOOT(EnumSet.of(ERROR, STOPPED, DESTROYED)),
        /** stop: STOPPED. */
        STOP(EnumSet.of(ERROR, DESTROYED)),
        /**
         * restore: RUNNING from the snapshot. Like REBOOT an answer still showing the old RUNNING VM is
         * not the end (it must leave RUNNING once, or its updatedAt move); like START an old STOPPED or
         * ERROR view is not a failure yet.
         */
        RESTORE(EnumSet.of(ERROR, STOPPED, DESTROYED));

        final Set<VmState> failures;

        Goal(Set<VmState> failures) { this.failures = failures; }

        VmState target() { return this == STOP ? STOPPED : RUNNING; }

        /** An answer that still shows the VM RUNNING is the state before the action, not its result. */
        boolean mustLeaveRunning() { return this == REBOOT || this == RESTORE; }
    }

    private final ApiClient api;
    private final PrintWriter progress;
    private final Duration pollInterval;

    VmWaiter(ApiClient api, PrintWriter progress, Duration pollInterval) {
        this.api = api;
        this.progress = progress;
        this.pollInterval = pollInterval;
    }

    /**
     * @param first     the VM as the action's answer showed it (printed as the first progress line)
     * @param startNanos when the command began, for the elapsed time on the last line
     * @param hint      what PREPARING means here ("booting", "rebooting")
     * @return the VM's JSON as last read
     * @throws CliException on a failure state or when the timeout passes (exit 1)
     */
    JsonNode await(JsonNode first, Goal goal, Duration timeout, long startNanos, String hint) {
        return await(first, goal, timeout, startNanos, hint, api.lastOperation());
    }

    /**
     * With the operation the action started ({@code operation}, its Operation-Location): one long-poll until
     * it has finished, then the VM as it is. Without one (a server older than operations) the VM is polled.
     */
    JsonNode await(JsonNode first, Goal goal, Duration timeout, long startNanos, String hint, String operation) {
        if (operation != null) return awaitOperation(first, goal, timeout, startNanos, hint, operation);
        return poll(first, goal, timeout, startNanos, hint);
    }

    private JsonNode awaitOperation(JsonNode first, Goal goal, Duration timeout, long startNanos, String hint, String operation) {
        VmView initial = Json.as(first, VmView.class);
        String label = initial.name() != null ? initial.name() : initial.id();
        // the goal state is printed once, at the end, with the elapsed time
        boolean printedInitial = initial.state() != goal.target();
        if (printedInitial) print(label, initial, goal, startNanos, hint);
        long left = timeout.toNanos() - (System.nanoTime() - startNanos);
        JsonNode opJson = OperationWait.await(api, operation, Duration.ofNanos(Math.max(left, 1_000_000_000L)));
        dev.vmctl.model.Operation op = Json.as(opJson, dev.vmctl.model.Operation.class);
        if (!op.finished()) {
            throw CliException.failed("timed out after " + Durations.format(timeout) + " waiting for vm " + label + " to be "
                    + goal.target() + " (operation " + op.id() + " is " + op.state() + ")", null);
        }
        JsonNode json;
        try {
            json = api.get("/api/v1/vms/" + ApiClient.seg(initial.id() != null ? initial.id() : initial.name()));
        } catch (CliException gone) {
            throw CliException.failed("vm " + label + " was destroyed while waiting for " + goal.target(), op.error());
        }
        VmView vm = Json.as(json, VmView.class);
        if (vm.state() != initial.state() || vm.state() == goal.target() || !printedInitial) print(label, vm, goal, startNanos, hint);
        if (vm.state() == goal.target() && "succeeded".equals(op.state())) return json;
        if (goal.failures.contains(vm.state()) || vm.state() != goal.target()) {
            if (vm.state() == ERROR) throw failure(label, vm, goal);
            throw CliException.failed("vm " + label + " is " + vm.state() + ", not " + goal.target()
                    + " (operation " + op.id() + " " + op.kind() + " " + op.state() + ")", op.error());
        }
        return json;
    }

    private JsonNode poll(JsonNode first, Goal goal, Duration timeout, long startNanos, String hint) {
        VmView initial = Json.as(first, VmView.class);
        String label = initial.name() != null ? initial.name() : initial.id();
        String path = "/api/v1/vms/" + ApiClient.seg(initial.id() != null ? initial.id() : initial.name());
        long deadline = startNanos + timeout.toNanos();

        JsonNode json = first;
        VmView vm = initial;
        boolean leftRunning = initial.state() != RUNNING;
        print(label, vm, goal, startNanos, hint);
        while (true) {
            boolean moved = vm.state() != initial.state() || !Objects.equals(vm.updatedAt(), initial.updatedAt());
            if (vm.state() == goal.target()
                    && (!goal.mustLeaveRunning() || leftRunning || moved)) {
                return json;
            }
            // A start answered with the old STOPPED/ERROR view has not been acted on yet: keep polling
            // until the server moves it (or the timeout says it never did).
            if (goal.failures.contains(vm.state()) && (moved || !startable(goal, initial.state()))) {
                throw failure(label, vm, goal);
            }
            if (System.nanoTime() - deadline > 0) {
                throw CliException.failed("timed out after " + Durations.format(timeout) + " waiting for vm "
                        + label + " to be " + goal.target() + " (it is " + Render.state(vm) + ")", vm.error());
            }
            sleep();
            json = api.get(path);
            VmView next = Json.as(json, VmView.class);
            if (next.state() != vm.state()) print(label, next, goal, startNanos, hint);
            if (next.state() != RUNNING) leftRunning = true;
            vm = next;
        }
    }

    /**
     * Waits for several new VMs at once (clones): polls each one that has not settled, printing one line
     * per state change per VM, until every one is RUNNING or in a failure state (ERROR, STOPPED,
     * DESTROYED), or the timeout passes. Never throws for a VM that failed or is still on its way: the
     * caller shows them all and then reports.
     *
     * @param first the VMs as the server's answer showed them (one progress line each)
     * @return each VM's JSON as last read, in the order given
     */
    List<JsonNode> awaitAll(List<JsonNode> first, Duration timeout, long startNanos, String hint) {
        String operation = api.lastOperation();
        if (operation != null) {
            for (JsonNode j : first) {
                VmView vm = Json.as(j, VmView.class);
                print(label(vm), vm, Goal.START, startNanos, hint);
            }
            long left = timeout.toNanos() - (System.nanoTime() - startNanos);
            OperationWait.await(api, operation, Duration.ofNanos(Math.max(left, 1_000_000_000L)));
            List<JsonNode> out = new ArrayList<>();
            for (JsonNode j : first) {
                VmView vm = Json.as(j, VmView.class);
                JsonNode next;
                try {
                    next = api.get("/api/v1/vms/" + ApiClient.seg(vm.id() != null ? vm.id() : vm.name()));
                } catch (CliException gone) {
                    next = j;
                }
                VmView v = Json.as(next, VmView.class);
                if (v.state() != vm.state()) print(label(vm), v, Goal.START, startNanos, hint);
                out.add(next);
            }
            return out;
        }
        int n = first.size();
        List<JsonNode> json = new ArrayList<>(first);
        List<VmView> vms = new ArrayList<>(n);
        for (JsonNode j : first) vms.add(Json.as(j, VmView.class));
        long deadline = startNanos + timeout.toNanos();
        for (VmView vm : vms) print(label(vm), vm, Goal.START, startNanos, hint);
        while (true) {
            boolean pending = false;
            for (VmView vm : vms) pending |= !settled(vm);
            if (!pending || System.nanoTime() - deadline > 0) return json;
            sleep();
            for (int i = 0; i < n; i++) {
                VmView vm = vms.get(i);
                if (settled(vm)) continue;
                JsonNode next = api.get("/api/v1/vms/" + ApiClient.seg(vm.id() != null ? vm.id() : vm.name()));
                VmView v = Json.as(next, VmView.class);
                if (v.state() != vm.state()) print(label(vm), v, Goal.START, startNanos, hint);
                json.set(i, next);
                vms.set(i, v);
            }
        }
    }

    /** RUNNING, or a state a new VM does not come back from by itself. */
    static boolean settled(VmView vm) {
        return vm.state() == RUNNING || Goal.START.failures.contains(vm.state());
    }

    private static String label(VmView vm) {
        return vm.name() != null ? vm.name() : vm.id();
    }

    private static boolean startable(Goal goal, VmState s) {
        return (goal == Goal.START || goal == Goal.RESTORE) && (s == STOPPED || s == ERROR);
    }

    private static CliException failure(String label, VmView vm, Goal goal) {
        return switch (vm.state()) {
            case ERROR -> CliException.failed("vm " + label + " failed", vm.error());
            case DESTROYED -> CliException.failed("vm " + label + " was destroyed while waiting for "
                    + goal.target(), vm.error());
            default -> CliException.failed("vm " + label + " is " + vm.state() + ", not " + goal.target(),
                    vm.error());
        };
    }

    /** {@code web1  PREPARING  (booting)}; the goal state carries the time since the command began. */
    private void print(String label, VmView vm, Goal goal, long startNanos, String hint) {
        String suffix = vm.state() == goal.target() ? Durations.elapsed(System.nanoTime() - startNanos)
                : vm.state() == VmState.PREPARING ? "(" + hint + ")"
                : "";
        progress.println((label + "  " + Render.state(vm) + (suffix.isEmpty() ? "" : "  " + suffix)).stripTrailing());
        progress.flush();
    }

    private void sleep() {
        try {
            Thread.sleep(pollInterval);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.failed("interrupted while waiting", null, e);
        }
    }
}
