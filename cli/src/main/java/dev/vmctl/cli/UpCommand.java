package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.TopologyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Deploy a topology file: create what is missing, change what differs, remove what the file"
                + " no longer has; shows progress, then every step. Exits 1 when a step failed.",
                "  vmctl up -f shop.yaml",
                "  vmctl up -f shop.yaml --dry-run",
                "  vmctl up -f shop.yaml --rollback-on-error",
                "  vmctl up -f shop.yaml --segment lab1"})
final class UpCommand implements Callable<Integer> {
    /** The first top-level {@code name:} of a YAML file (a cheap look, not a parse). */
    private static final Pattern YAML_NAME = Pattern.compile("^(?:name|\"name\"|'name')\\s*:(.*)$");

    private final CliContext ctx;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE",
            description = "the topology file (YAML or JSON); sent to the server as it is")
    Path file;

    @Option(names = "--dry-run", description = "only show what would be done; changes nothing")
    boolean dryRun;

    @Option(names = "--rollback-on-error",
            description = "when a step fails, remove what this run created (default: keep it; vmctl down removes everything)")
    boolean rollbackOnError;

    @Option(names = "--segment", paramLabel = "NAME",
            description = "deploy the whole topology inside this isolated segment (vmctl segment create NAME first)")
    String segment;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m", converter = Durations.Converter.class,
            description = "how long to wait for the server to finish (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    UpCommand(CliContext ctx) { this.ctx = ctx; }

    /** {@code /api/v1/topologies?file=shop.yaml[&dryRun=true][&rollbackOnError=true][&segment=NAME]}. */
    String path() {
        Path base = file.getFileName();
        StringBuilder b = new StringBuilder("/api/v1/topologies?file=")
                .append(ApiClient.seg(base == null ? file.toString() : base.toString()));
        // relative artifact paths (src, git) in the file are relative to its directory
        Path dir = file.toAbsolutePath().normalize().getParent();
        if (dir != null) b.append("&base=").append(ApiClient.seg(dir.toString()));
        if (dryRun) b.append("&dryRun=true");
        if (rollbackOnError) b.append("&rollbackOnError=true");
        if (segment != null) b.append("&segment=").append(ApiClient.seg(segment));
        return b.toString();
    }

    @Override
    public Integer call() {
        byte[] body = read(file);
        String name = topologyName(new String(body, StandardCharsets.UTF_8));
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        progress.println((dryRun ? "planning" : "applying") + " topology " + (name == null ? "" : name + " ")
                + "from " + file + (dryRun ? " (dry run)" : "") + "…");
        progress.flush();
        JsonNode json;
        try (ProgressFollower ignored = dryRun ? ProgressFollower.none()
                : ProgressFollower.start(ctx.api(), progress, e -> progressLine(e, name))) {
            json = ctx.api().postBytes(path(), body, "application/yaml", timeout);
        }
        return printReport(ctx, output, json);
    }

    /** Prints a report as asked; 0 when every step succeeded, 1 otherwise (also under -o json). */
    static int printReport(CliContext ctx, OutputOption output, JsonNode json) {
        TopologyReport report = Json.as(json, TopologyReport.class);
        if (output.json()) OutputOption.printJson(ctx.out(), json);
        else Render.report(ctx.out(), report);
        return report.ok() ? 0 : CliException.FAILED;
    }

    /**
     * A {@code topology.progress} event of topology {@code name} (of any topology when the name is not
     * known) as a progress line; null for every other event.
     */
    static String progressLine(JsonNode event, String name) {
        if (!"topology.progress".equals(event.path("type").asText())) return null;
        if (name != null && !name.equals(event.path("name").asText())) return null;
        String message = event.path("message").asText("");
        if (message.isBlank()) return null;
        return "  " + (name == null ? event.path("name").asText("?") + ": " : "") + message.strip().replace('\n', ' ');
    }

    /** The file's bytes, exactly; a file that cannot be read is an error (exit 1) before anything is sent. */
    static byte[] read(Path file) {
        if (Files.isDirectory(file)) throw CliException.failed("cannot read " + file + ": it is a directory", null);
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw CliException.failed("cannot read " + file + ": no such file", null, e);
        } catch (IOException e) {
            throw CliException.failed("cannot read " + file + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()), null, e);
        }
    }

    /**
     * The topology's name as the file declares it, looked up cheaply (the server parses the file): the
     * {@code name} of a JSON object, or the first top-level {@code name:} line of YAML. Null when not found
     * (progress then shows every topology's events).
     */
    static String topologyName(String text) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        if (t.strip().startsWith("{")) {
            try {
                JsonNode n = Json.parse(t).path("name");
                if (n.isTextual() && !n.asText().isBlank()) return n.asText().strip();
            } catch (IOException | RuntimeException notJson) {
                // YAML flow style: look at the lines below
            }
        }
        for (String line : t.split("\\R")) {
            if (line.equals("---") || line.startsWith("#")) continue;
            Matcher m = YAML_NAME.matcher(line);
            if (!m.matches()) continue;
            String v = m.group(1).strip();
            if (v.startsWith("\"") || v.startsWith("'")) {
                int end = v.indexOf(v.charAt(0), 1);
                v = end < 0 ? "" : v.substring(1, end);
            } else {
                int comment = v.indexOf(" #");
                if (comment >= 0) v = v.substring(0, comment);
                if (v.startsWith("#")) v = "";
            }
            v = v.strip();
            if (v.isEmpty() || "{[|>&*!".indexOf(v.charAt(0)) >= 0) return null;
            return v;
        }
        return null;
    }
}
