package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "cp", mixinStandardHelpOptions = true,
        description = {"Copy a file into or out of a running VM: in, small files through its guest agent, larger ones streamed"
                + " and copied in over the VM's 9p share (a temporary name, then renamed); out, through the agent.",
                "  vmctl vm cp ./app.conf web1:/etc/app.conf",
                "  vmctl vm cp web1:/var/log/app.log ./app.log"})
final class VmCopyCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "SRC", description = "a local path, or VM:/guest/path")
    String src;

    @Parameters(index = "1", paramLabel = "DST", description = "a local path, or VM:/guest/path")
    String dst;

    VmCopyCommand(CliContext ctx) { this.ctx = ctx; }

    /** "web1:/etc/x" → {"web1", "/etc/x"}; a local path → null. */
    static String[] remote(String s) {
        int i = s.indexOf(':');
        if (i <= 0 || s.startsWith("/") || s.startsWith(".")) return null;
        return new String[]{s.substring(0, i), s.substring(i + 1)};
    }

    @Override
    public Integer call() throws IOException {
        String[] from = remote(src), to = remote(dst);
        if ((from == null) == (to == null)) {
            throw CliException.usage("exactly one of SRC and DST must be VM:/path (got '" + src + "' and '" + dst + "')");
        }
        if (to != null) {
            Path file = Path.of(src);
            if (!Files.isRegularFile(file)) throw CliException.failed("cannot read " + src + ": not a file", null);
            long size = Files.size(file);
            ctx.api().putFile("/api/v1/vms/" + ApiClient.seg(to[0]) + "/files?path=" + ApiClient.seg(to[1]), file, TIMEOUT);
            ctx.out().println("copied " + size + " bytes to " + dst);
        } else {
            byte[] data = ctx.api().getBytes("/api/v1/vms/" + ApiClient.seg(from[0]) + "/files?path=" + ApiClient.seg(from[1]), TIMEOUT);
            Files.write(Path.of(dst), data);
            ctx.out().println("copied " + data.length + " bytes from " + src);
        }
        ctx.out().flush();
        return 0;
    }
}
