package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.HealReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "heal", mixinStandardHelpOptions = true,
        description = {"Revert every fault a scenario run still holds (runs still running are aborted first). With --all, also",
                "bring every link up and clear every impairment and partition, also those made by hand. Exit 1 if something",
                "could not be reverted.", "  vmctl heal", "  vmctl heal --topology shop --all"})
final class HealCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--topology", paramLabel = "NAME", description = "only this topology (default: all)")
    String topology;

    @Option(names = "--all", description = "also manual link downs, impairments and partitions")
    boolean all;

    @Mixin
    OutputOption output;

    HealCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        StringBuilder path = new StringBuilder("/api/v1/heal?all=").append(all);
        if (topology != null) path.append("&topology=").append(ApiClient.seg(topology));
        JsonNode json = ctx.api().post(path.toString(), null, Duration.ofMinutes(5));
        HealReport h = Json.as(json, HealReport.class);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            for (String a : h.aborted()) ctx.out().println("aborted run " + a);
            for (String r : h.reverted()) ctx.out().println("reverted " + r);
            for (String f : h.failed()) ctx.out().println("FAILED   " + f);
            if (h.reverted().isEmpty() && h.failed().isEmpty()) ctx.out().println("nothing to heal");
        }
        return h.failed().isEmpty() ? 0 : CliException.FAILED;
    }
}
