package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmView;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * start, stop, reboot and restore: {@code POST /api/v1/vms/NAME/ACTION} (202 with the VM), then by
 * default wait until the VM has done it, printing each state change.
 */
abstract sealed class VmActionCommand implements Callable<Integer>
        permits VmStartCommand, VmStopCommand, VmRebootCommand, VmRestoreCommand {
    private final CliContext ctx;
    private final String action;
    private final VmWaiter.Goal goal;
    private final String hint;

    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name or id")
    String name;

    @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "wait until it is done, printing each state (default); --no-wait returns once the server accepted")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s", converter = Durations.Converter.class,
            description = "how long to wait (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    VmActionCommand(CliContext ctx, String action, VmWaiter.Goal goal, String hint) {
        this.ctx = ctx;
        this.action = action;
        this.goal = goal;
        this.hint = hint;
    }

    /** The request's JSON body; null sends none. */
    Object body() {
        return null;
    }

    /** How long the action's request itself may take (the wait afterwards has its own --timeout). */
    Duration requestTimeout() {
        return ApiClient.DEFAULT_TIMEOUT;
    }

    @Override
    public Integer call() {
        long startNanos = System.nanoTime();
        JsonNode json = ctx.api().post("/api/v1/vms/" + ApiClient.seg(name) + "/" + action, body(),
                requestTimeout());
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        if (wait) {
            json = new VmWaiter(ctx.api(), progress, CliContext.POLL_INTERVAL)
                    .await(json, goal, timeout, startNanos, hint);
        } else if (!output.json()) {
            VmView vm = Json.as(json, VmView.class);
            progress.println((vm.name() == null ? name : vm.name()) + "  " + Render.state(vm));
            progress.flush();
        }
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        return 0;
    }
}
