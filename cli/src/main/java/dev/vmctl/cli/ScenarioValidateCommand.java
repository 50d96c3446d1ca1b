package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ScenarioProblem;
import dev.vmctl.model.ScenarioValidation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Check a scenario file: every problem with file:line:column; when its topology is deployed, also every",
                "VM, NIC and node it names. Exit 0 valid, 2 not.", "  vmctl scenario validate -f failover.yaml [--topology shop]"})
final class ScenarioValidateCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "the scenario file (YAML)")
    Path file;

    @Option(names = "--topology", paramLabel = "NAME", description = "check against this deployed topology (default: the file's)")
    String topology;

    @Mixin
    OutputOption output;

    ScenarioValidateCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = validateJson(ctx, file, topology);
        ScenarioValidation v = Json.as(json, ScenarioValidation.class);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else if (ok(v)) {
            ctx.out().println(file + ": valid scenario " + v.name() + " (" + v.steps() + " steps)"
                    + (Boolean.TRUE.equals(v.runnable()) ? ", runnable against topology " + v.topology()
                    : v.topology() == null ? "" : "; topology " + v.topology() + " is not deployed, references not checked"));
        } else {
            printProblems(ctx.err(), v);
        }
        return ok(v) ? 0 : CliException.INVALID;
    }

    static boolean ok(ScenarioValidation v) {
        return v.valid() && !Boolean.FALSE.equals(v.runnable());
    }

    static ScenarioValidation validate(CliContext ctx, Path file, String topology) {
        return Json.as(validateJson(ctx, file, topology), ScenarioValidation.class);
    }

    static JsonNode validateJson(CliContext ctx, Path file, String topology) {
        byte[] body = UpCommand.read(file);
        StringBuilder path = new StringBuilder("/api/v1/scenarios/validate?file=").append(ApiClient.seg(file.toString()));
        if (topology != null) path.append("&topology=").append(ApiClient.seg(topology));
        return ctx.api().postBytes(path.toString(), body, "application/yaml", ApiClient.DEFAULT_TIMEOUT);
    }

    static void printProblems(PrintWriter err, ScenarioValidation v) {
        err.println("error: " + (v.valid() ? "the scenario cannot run against topology " + v.topology() : "invalid scenario file")
                + " (" + v.problems().size() + " problem" + (v.problems().size() == 1 ? "" : "s") + ")");
        for (ScenarioProblem p : v.problems()) err.println("  " + format(p));
        err.flush();
    }

    /** {@code failover.yaml:12:18: steps[3].fault.link.impair.loss: … (allowed: …)}, as topology files print. */
    static String format(ScenarioProblem p) {
        StringBuilder b = new StringBuilder(p.file());
        if (p.line() > 0) b.append(':').append(p.line()).append(':').append(p.column());
        b.append(": ");
        if (p.path() != null && !p.path().isEmpty()) b.append(p.path()).append(": ");
        b.append(p.message());
        if (p.allowed() != null && !p.allowed().isEmpty()) b.append(" (allowed: ").append(p.allowed()).append(')');
        return b.toString();
    }
}
