package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.BootSnapshotView;
import dev.vmctl.model.ImageDetail;
import dev.vmctl.model.ImageInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show one image: its files and checksums, and its boot snapshots (one per VM shape, restored by warm creates).")
final class ImageShowCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the image's name, e.g. tiny")
    String name;

    @Mixin
    OutputOption output;

    ImageShowCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().get("/api/v1/images/" + ApiClient.seg(name));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        ImageDetail d = Json.as(json, ImageDetail.class);
        ImageInfo i = d.image();
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", i.name());
        f.put("os", i.os());
        f.put("kernel", i.kernel() + " (" + i.kernelVersion() + ")");
        f.put("kernel sha256", i.kernelSha256());
        f.put("initrd", i.initrd());
        f.put("initrd sha256", i.initrdSha256());
        if (i.rootfs() != null) {
            f.put("rootfs", i.rootfs() + " (read-only base of each VM's own qcow2 disk)");
            f.put("rootfs sha256", i.rootfsSha256());
        } else {
            f.put("rootfs", "none (boots from its initramfs)");
        }
        f.put("size", Render.bytes(i.sizeBytes()));
        f.put("built", Render.time(i.builtAt()));
        if (i.recipe() != null) f.put("recipe", i.recipe());
        Render.keyValues(ctx.out(), f, "");
        if (d.bootSnapshots().isEmpty()) {
            ctx.out().println("boot snapshots: none (the first cold boot of each VM shape records one)");
            ctx.out().flush();
            return 0;
        }
        ctx.out().println("boot snapshots:");
        Table t = new Table("NAME", "CPUS", "MEMORY", "NICS", "ACCEL", "SIZE", "CREATED", "FROM VM", "WARM VMS");
        for (BootSnapshotView b : d.bootSnapshots()) {
            t.row(b.name(), String.valueOf(b.cpus()), Render.memory(b.memoryMiB()), String.valueOf(b.nics()), b.accel(),
                    Render.bytes(b.sizeBytes()), Render.time(b.createdAt()), b.vm(),
                    b.warmVms().isEmpty() ? "-" : String.join(",", b.warmVms()));
        }
        t.print(ctx.out(), "  ");
        return 0;
    }
}
