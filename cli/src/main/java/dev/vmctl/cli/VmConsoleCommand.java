package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Callable;

@Command(name = "console", mixinStandardHelpOptions = true, description = "Print a VM's serial console; with --follow keep printing until it stops.")
final class VmConsoleCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name or id")
    String name;

    @Option(names = {"-n", "--tail"}, paramLabel = "N", description = "only the last N lines (server default if omitted)")
    Integer tail;

    @Option(names = {"-f", "--follow"}, description = "keep the stream open and copy new output as it comes")
    boolean follow;

    VmConsoleCommand(CliContext ctx) { this.ctx = ctx; }

    String path() {
        StringBuilder q = new StringBuilder();
        if (tail != null) q.append("tail=").append(tail);
        if (follow) q.append(q.isEmpty() ? "" : "&").append("follow=true");
        return "/api/v1/vms/" + ApiClient.seg(name) + "/console" + (q.isEmpty() ? "" : "?" + q);
    }

    @Override
    public Integer call() throws IOException {
        try (InputStream in = ctx.api().stream(path(), "text/plain", follow ? null : ApiClient.DEFAULT_TIMEOUT)) {
            Streams.copy(in, ctx.out());
        }
        return 0;
    }
}
