package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"A run's report: json (the journal), junit (JUnit XML, one testcase per check) or html (one",
                "self-contained file with the timeline and the table of steps).",
                "  vmctl scenario report RUN -o junit > out.xml", "  vmctl scenario report RUN -o html --out report.html"})
final class ScenarioReportCommand implements Callable<Integer> {
    enum Format { json, junit, html }

    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "RUN", description = "the run's id (vmctl scenario runs)")
    String run;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "json", description = "json (default), junit or html")
    Format format;

    @Option(names = "--out", paramLabel = "FILE", description = "write it to FILE instead of stdout")
    Path out;

    ScenarioReportCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        String text = fetch(ctx, run, format.name());
        if (out == null) {
            ctx.out().print(text);
            if (!text.endsWith("\n")) ctx.out().println();
            ctx.out().flush();
        } else {
            save(out, text);
            ctx.err().println("wrote " + out);
        }
        return 0;
    }

    static String fetch(CliContext ctx, String run, String format) {
        String base = "/api/v1/scenario-runs/" + ApiClient.seg(run);
        if (format.equals("json")) {
            JsonNode j = ctx.api().get(base);
            return Json.pretty(j);
        }
        return new String(ctx.api().getBytes(base + "/report." + format, ApiClient.DEFAULT_TIMEOUT), StandardCharsets.UTF_8);
    }

    /** Writes a run's report to {@code file} (nothing when null). */
    static void write(CliContext ctx, String run, String format, Path file) {
        if (file == null) return;
        save(file, fetch(ctx, run, format));
        ctx.err().println("wrote " + format + " report " + file);
        ctx.err().flush();
    }

    private static void save(Path file, String text) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw CliException.failed("cannot write " + file + ": " + e.getMessage(), null, e);
        }
    }
}
