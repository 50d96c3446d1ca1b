package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a snapshot to one file (a tar.zst) that 'vmctl snapshot import' takes on this or"
                + " another host.",
                "  vmctl snapshot export web1-warm -o web1-warm.tar.zst"})
final class SnapshotExportCommand implements Callable<Integer> {
    /** The server packs the archive before it answers, then sends it. */
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the snapshot's name")
    String name;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "where to write the archive (written to FILE.part, renamed when complete)")
    Path file;

    @Option(names = {"-f", "--force"}, description = "overwrite FILE if it exists")
    boolean force;

    SnapshotExportCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        if (Files.isDirectory(file)) {
            throw CliException.failed("cannot export to " + file + ": it is a directory", "give a file name, e.g. "
                    + file.resolve(name + ".tar.zst"));
        }
        if (!force && Files.exists(file)) {
            throw CliException.failed(file + " already exists", "use --force to overwrite it");
        }
        Path part = file.resolveSibling(file.getFileName() + ".part");
        long bytes;
        try {
            bytes = ctx.api().download("/api/v1/snapshots/" + ApiClient.seg(name) + "/export", "application/zstd",
                    part, TIMEOUT);
            move(part, file);
        } catch (RuntimeException e) {
            deleteQuietly(part);
            throw e;
        }
        ctx.out().println("exported snapshot " + name + " to " + file + ": " + bytes + " bytes ("
                + Render.bytes(bytes) + ")");
        ctx.out().flush();
        return 0;
    }

    private void move(Path from, Path to) {
        try {
            if (force) {
                try {
                    Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
                }
            } else {
                Files.move(from, to);
            }
        } catch (FileAlreadyExistsException e) {
            throw CliException.failed(to + " already exists", "use --force to overwrite it", e);
        } catch (IOException e) {
            throw CliException.failed("cannot rename " + from + " to " + to + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()), null, e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the error being reported matters more
        }
    }
}
