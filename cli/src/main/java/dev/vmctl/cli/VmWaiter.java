package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

import static dev.vmctl.model.VmState.DESTROYED;
import static dev.vmctl.model.VmState.ERROR;
import static dev.vmctl.model.VmState.RUNNING;
import static dev.vmctl.model.VmState.STOPPED;

/**
 * Polls {@code GET /api/v1/vms/{id}} until a VM reaches what an action promised, printing one progress
 * line per state change ({@code web1  PREPARING  (booting)}, {@code web1  RUNNING  1.8s}).
 */
final class VmWaiter {
    /** What the caller waits for, and which states end the wait as a failure. */
    enum Goal {
        /** create --start, start: RUNNING. */
        START(EnumSet.of(ERROR, STOPPED, DESTROYED)),
        /** reboot: out of RUNNING once (or a new updatedAt), then RUNNING. */
        REBOOT(EnumSet.of(ERROR, STOPPED, DESTROYED)),
        /** stop: STOPPED. */
        STOP(EnumSet.of(ERROR, DESTROYED));

        final Set<VmState> failures;

        Goal(Set<VmState> failures) { this.failures = failures; }

        VmState target() { return this == STOP ? STOPPED : RUNNING; }
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
                    && (goal != Goal.REBOOT || leftRunning || moved)) {
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

    private static boolean startable(Goal goal, VmState s) {
        return goal == Goal.START && (s == STOPPED || s == ERROR);
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
