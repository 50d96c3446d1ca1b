package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ExecResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Run a command in a VM through its guest agent.",
                "The guest's stdout and stderr are copied verbatim; vmctl exits with the guest command's exit code"
                        + " (124 when it timed out)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "*:the guest command's exit code",
                "124:the command timed out",
                "1:the server refused or failed the request",
                "2:usage error",
                "3:the server cannot be reached"})
final class VmExecCommand implements Callable<Integer> {
    static final int TIMED_OUT = 124;
    /** The HTTP request outlives the guest command by this much, so a timeout comes back as a result. */
    private static final Duration REQUEST_MARGIN = Duration.ofSeconds(30);

    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name or id")
    String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "the command and its arguments (put -- before it)")
    List<String> argv;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.Converter.class,
            description = "kill the command after this long (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = "--stdin", description = "send vmctl's stdin to the command")
    boolean stdin;

    @Mixin
    OutputOption output;

    VmExecCommand(CliContext ctx) { this.ctx = ctx; }

    Map<String, Object> body() throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("argv", argv);
        body.put("timeoutSec", Durations.ceilSeconds(timeout));
        if (stdin) body.put("stdin", new String(ctx.in().readAllBytes(), StandardCharsets.UTF_8));
        return body;
    }

    @Override
    public Integer call() throws IOException {
        JsonNode json = ctx.api().post("/api/v1/vms/" + ApiClient.seg(name) + "/exec", body(),
                timeout.plus(REQUEST_MARGIN));
        ExecResult r = Json.as(json, ExecResult.class);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            if (r.stdout() != null) ctx.out().print(r.stdout());
            ctx.out().flush();
            if (r.stderr() != null) ctx.err().print(r.stderr());
            ctx.err().flush();
        }
        if (r.timedOut()) {
            ctx.err().println("error: " + String.join(" ", argv) + ": timed out after " + Durations.format(timeout)
                    + " in vm " + name);
            ctx.err().flush();
            return TIMED_OUT;
        }
        return r.exitCode();
    }
}
