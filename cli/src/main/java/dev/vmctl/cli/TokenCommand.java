package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

@Command(name = "token", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"The caller's own token. The CLI sends VMCTL_TOKEN, else DATA/admin.token when it can read it"
                + " (DATA: VMCTL_DATA_DIR, else the default data dir of vmctl serve), else ~/.config/vmctl/token.",
                "  vmctl token show       # who the token belongs to",
                "  vmctl token rotate     # a new token; the old one stops working"},
        subcommands = {TokenCommand.Show.class, TokenCommand.Rotate.class})
final class TokenCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show the user and role of the token in use, and where it was read.")
    static final class Show implements Callable<Integer> {
        private final CliContext ctx;

        @Mixin
        OutputOption output;

        Show(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            JsonNode json = ctx.api().get("/api/v1/token");
            if (output.json()) {
                OutputOption.printJson(ctx.out(), json);
                return 0;
            }
            TokenSource src = ctx.api().tokenSource();
            ctx.out().println("user " + json.path("name").asText() + " (role " + json.path("role").asText() + "), token from "
                    + (src.file() == null ? TokenSource.ENV : src.file().toString()));
            ctx.out().flush();
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Issue a new token for the caller and print it; the old one stops working at once. The file it was"
                    + " read from is updated (the server rewrites DATA/admin.token itself for the admin).")
    static final class Rotate implements Callable<Integer> {
        private final CliContext ctx;

        @Mixin
        OutputOption output;

        Rotate(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            JsonNode json = ctx.api().post("/api/v1/token/rotate", null, ApiClient.DEFAULT_TIMEOUT);
            String token = json.path("token").asText();
            TokenSource src = ctx.api().tokenSource();
            String note;
            if (src.file() != null && src.file().equals(TokenSource.configFile(ctx.env()))) {
                write(src.file(), token);
                note = "; " + src.file() + " now holds it";
            } else if (src.file() != null) {
                note = "; the server wrote it to " + src.file();
            } else {
                note = "; update VMCTL_TOKEN";
            }
            if (output.json()) {
                OutputOption.printJson(ctx.out(), json);
            } else {
                ctx.out().println(token);
                ctx.out().flush();
                ctx.err().println("new token for user " + json.path("name").asText() + " (the old one no longer works)" + note);
                ctx.err().flush();
            }
            return 0;
        }

        private static void write(Path file, String token) {
            try {
                Path tmp = Files.createTempFile(file.getParent(), ".token", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw CliException.failed("the token was rotated but " + file + " could not be written: " + e.getMessage(),
                        "the new token is " + token + "; put it there yourself");
            }
        }
    }
}
