package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ArtifactView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove",
        description = {"Remove an entry of the server's artifact cache (refused while VMs hold it); a later fetch downloads it again.",
                "  vmctl artifact rm 3fa1c2d4e5f6      # the SHA-256 as 'artifact ls' shows it, or any unique prefix of 8+ digits"})
final class ArtifactRemoveCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "SHA256", description = "the entry's SHA-256, or a unique prefix of at least 8 hex digits")
    String sha256;

    @Mixin
    OutputOption output;

    ArtifactRemoveCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        String digest = sha256.toLowerCase(java.util.Locale.ROOT);
        if (!digest.matches("[0-9a-f]{8,64}")) {
            throw CliException.usage("SHA256 '" + sha256 + "': 8 to 64 hex digits (vmctl artifact ls shows them)");
        }
        if (digest.length() < 64) {
            List<String> hits = Json.listOf(ctx.api().get("/api/v1/artifacts"), ArtifactView.class).stream()
                    .map(ArtifactView::sha256).filter(s -> s.startsWith(digest)).toList();
            if (hits.isEmpty()) throw CliException.failed("no artifact in the cache starts with " + digest, "vmctl artifact ls lists them");
            if (hits.size() > 1) throw CliException.usage("SHA256 prefix " + digest + " is not unique: " + String.join(", ", hits));
            sha256 = hits.getFirst();
        } else {
            sha256 = digest;
        }
        JsonNode json = ctx.api().delete("/api/v1/artifacts/" + sha256);
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            ArtifactView a = Json.as(json, ArtifactView.class);
            ctx.out().println("removed artifact " + a.sha256().substring(0, 12) + " (" + a.name() + ")");
        }
        ctx.out().flush();
        return 0;
    }
}
