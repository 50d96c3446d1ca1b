package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ImageInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import a kernel and a root file system as an image (checked: the kernel is an x86-64 vmlinux with a PVH entry"
                + " or a bzImage; the rootfs an ext4 image, or a qcow2 holding one, with an init and qemu-ga).")
final class ImageImportCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the new image's name")
    String name;

    @Option(names = "--kernel", required = true, paramLabel = "FILE", description = "vmlinux (ELF, PVH) or bzImage")
    Path kernel;

    @Option(names = "--rootfs", required = true, paramLabel = "FILE", description = "ext4 file system image (raw) or qcow2")
    Path rootfs;

    @Option(names = "--initrd", paramLabel = "FILE", description = "an initramfs of your own (default: vmctl's, which mounts the"
            + " disk and switch_root's to /sbin/init)")
    Path initrd;

    @Option(names = "--os", paramLabel = "TEXT", description = "what the image is, for image ls/show (default: imported)")
    String os;

    @Mixin
    OutputOption output;

    ImageImportCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        Map<String, Object> body = new LinkedHashMap<>();
        // the server reads the files: paths are made absolute here (the CLI and the server share the host)
        body.put("kernel", kernel.toAbsolutePath().normalize().toString());
        body.put("rootfs", rootfs.toAbsolutePath().normalize().toString());
        if (initrd != null) body.put("initrd", initrd.toAbsolutePath().normalize().toString());
        if (os != null) body.put("os", os);
        JsonNode json = ctx.api().post("/api/v1/images/" + ApiClient.seg(name) + "/import", body, Duration.ofMinutes(30));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ctx.out().println("imported image " + name);
            Render.image(ctx.out(), Json.as(json, ImageInfo.class));
        }
        ctx.out().flush();
        return 0;
    }
}
