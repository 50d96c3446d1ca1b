package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.Operation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "wait", mixinStandardHelpOptions = true,
        description = {"Wait until an operation has finished (long-poll); exit 0 when it succeeded, 1 when it failed,",
                "was cancelled or the timeout passed."})
final class OpWaitCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "ID", description = "the operation's id")
    String id;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.Converter.class,
            description = "how long to wait (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    OpWaitCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = OperationWait.await(ctx.api(), "/api/v1/operations/" + ApiClient.seg(id), timeout);
        Operation o = Json.as(json, Operation.class);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else OpShowCommand.print(ctx.out(), o);
        if (!o.finished()) {
            throw CliException.failed("operation " + id + " is still " + o.state() + " after " + Durations.format(timeout), null);
        }
        if (!"succeeded".equals(o.state())) {
            throw CliException.failed("operation " + id + " (" + o.kind() + ") " + o.state(), o.error());
        }
        return 0;
    }
}
