package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmArtifactView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "artifacts", mixinStandardHelpOptions = true,
        description = "What a VM holds: its artifacts, where they are in the guest, their digests and last delivery.")
final class VmArtifactsCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "VM", description = "name or id")
    String vm;

    @Mixin
    OutputOption output;

    VmArtifactsCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/vms/" + ApiClient.seg(vm) + "/artifacts");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        Table t = new Table("PATH", "TYPE", "SIZE", "MODE", "OWNER", "SHA256", "SOURCE", "VIA", "DELIVERED");
        for (VmArtifactView a : Json.listOf(json, VmArtifactView.class)) {
            t.row(a.path(), a.type(), Render.bytes(a.size()), a.mode() == null ? "-" : a.mode(), a.owner() == null ? "-" : a.owner(),
                    a.sha256().substring(0, 12), a.source() + (a.commit() == null ? "" : " (" + a.commit().substring(0, 12) + ")"),
                    a.via() == null ? "-" : a.via(), a.deliveredAt() == null ? "not yet" : Render.time(a.deliveredAt()));
        }
        t.print(ctx.out());
        return 0;
    }
}
