package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NicView;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * down, up, impair, clear and move: {@code PATCH /api/v1/vms/VM/nics/NIC} with a JSON body, answered
 * with the NIC (200). The subclass says what to send and how to report the answer.
 */
abstract sealed class LinkPatchCommand implements Callable<Integer>
        permits LinkDownCommand, LinkUpCommand, LinkImpairCommand, LinkClearCommand, LinkMoveCommand {
    final CliContext ctx;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VM", description = "the VM's name or id")
    String vm;

    @Parameters(index = "1", paramLabel = "NIC", description = "the NIC's name: eth0, eth1, …")
    String nic;

    @Mixin
    OutputOption output;

    LinkPatchCommand(CliContext ctx) { this.ctx = ctx; }

    /** The PATCH body; a usage error (exit 2) when the options do not make one. */
    abstract Map<String, Object> body();

    /** How the answer is shown in table form. */
    abstract void print(PrintWriter out, NicView answer);

    Duration timeout() {
        return ApiClient.DEFAULT_TIMEOUT;
    }

    /** {@code a/eth0}, as the answer names the NIC. */
    String label(NicView answer) {
        return vm + "/" + (answer.name() == null ? nic : answer.name());
    }

    static String path(String vm, String nic) {
        return "/api/v1/vms/" + ApiClient.seg(vm) + "/nics/" + ApiClient.seg(nic);
    }

    @Override
    public Integer call() {
        Map<String, Object> body = body();
        JsonNode json = ctx.api().patch(path(vm, nic), body, timeout());
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            print(ctx.out(), Json.as(json, NicView.class));
            ctx.out().flush();
        }
        return 0;
    }
}
