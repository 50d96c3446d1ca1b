package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.ArtifactView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "fetch", mixinStandardHelpOptions = true,
        description = {"Fetch an artifact into the server's cache (once: a cached release, URL or commit is not fetched again).",
                "  vmctl artifact fetch maven=org.apache.commons:commons-lang3:3.17.0",
                "  vmctl artifact fetch url=https://example.org/tool.tar.gz,sha256=…",
                "  vmctl artifact fetch git=./cfg.git,ref=v1.2",
                "  vmctl artifact fetch src=./build/app"})
final class ArtifactFetchCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "SPEC", converter = ArtifactOptions.Converter.class,
            description = "src=PATH | url=URL,sha256=HEX | maven=G:A[:EXT[:CLASSIFIER]]:V | git=URL|PATH[,ref=REF]")
    ArtifactSpec spec;

    @Option(names = "--maven-repo", paramLabel = "URL", description = "the Maven repository to resolve from (default: Maven Central)")
    String mavenRepo;

    @Mixin
    OutputOption output;

    ArtifactFetchCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        JsonNode json = ctx.api().post("/api/v1/artifacts", ArtifactOptions.json(spec, mavenRepo), Duration.ofMinutes(30));
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        ArtifactView a = Json.as(json, ArtifactView.class);
        ctx.out().println("fetched " + spec.describe() + ": " + a.type() + " " + a.name() + " (" + Render.bytes(a.size())
                + (a.files() > 1 ? ", " + a.files() + " files" : "") + ") sha256 " + a.sha256()
                + (a.commit() == null ? "" : " commit " + a.commit()));
        ctx.out().flush();
        return 0;
    }
}
