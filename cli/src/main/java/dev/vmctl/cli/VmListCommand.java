package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.NicView;
import dev.vmctl.model.VmView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, aliases = "list", description = "List the VMs.")
final class VmListCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    OutputOption output;

    VmListCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/vms");
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        List<VmView> vms = Json.listOf(json, VmView.class);
        boolean errors = vms.stream().anyMatch(v -> v.error() != null && !v.error().isBlank());
        // the IPS column only once some VM has a NIC, like ERROR only once some VM has an error
        boolean ips = vms.stream().anyMatch(v -> !v.nics().isEmpty());
        List<String> headers = new ArrayList<>(List.of("NAME", "ID", "STATE", "IMAGE", "CPUS", "MEMORY"));
        if (ips) headers.add("IPS");
        headers.add("CREATED");
        if (errors) headers.add("ERROR");
        Table t = new Table(headers);
        for (int i = 0; i < vms.size(); i++) {
            VmView v = vms.get(i);
            List<Object> row = new ArrayList<>(List.of(nz(v.name()), nz(v.id()), Render.state(v), nz(v.image()),
                    v.cpus(), Render.memory(v.memoryMiB())));
            if (ips) row.add(Render.joined(v.nics().stream().map(NicView::ip).toList()));
            row.add(Render.time(v.createdAt()));
            if (errors) row.add(v.error() == null || v.error().isBlank() ? "" : v.error());
            t.row(row);
        }
        t.print(ctx.out());
        return 0;
    }

    private static String nz(String s) {
        return s == null ? "-" : s;
    }
}
