package dev.vmctl.snapshot;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** File helpers of the snapshot store: checksums, sparse copies, hard links, fsync, tree removal. */
public final class SnapshotFiles {
    /** A path we hand to QEMU or put into a socket address: absolute, and only these characters. */
    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9._/+-]*");
    private static final Duration CP_TIMEOUT = Duration.ofMinutes(10);

    private SnapshotFiles() {}

    /**
     * Copies {@code src} to {@code dst} (which must not exist) keeping holes ({@code cp --sparse=always}) and
     * sharing blocks where the file system can ({@code --reflink=auto}: btrfs, xfs). A guest RAM file is
     * mostly holes, so this is much cheaper than its apparent size.
     */
    public static void copySparse(Path src, Path dst) {
        if (Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) {
            throw new VmctlException(VmctlException.Kind.CONFLICT, "copy " + src + ": " + dst + " already exists", null);
        }
        CmdResult r = Cmd.run(List.of("cp", "--reflink=auto", "--sparse=always", "--", src.toString(), dst.toString()),
                null, null, CP_TIMEOUT);
        if (!r.ok()) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "copy " + src + " to " + dst + ": " + r.stderrTail(), null);
        }
    }

    /** Hard-links {@code src} at {@code dst} when both are on one file system, copies it otherwise. */
    static void linkOrCopy(Path src, Path dst) throws IOException {
        try {
            Files.createLink(dst, src);
        } catch (IOException | UnsupportedOperationException e) {
            if (e instanceof NoSuchFileException) throw (NoSuchFileException) e;
            Files.copy(src, dst, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    /** fsync of a file or directory. */
    static void fsync(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                ch.force(true);
            } catch (IOException e) {
                // some file systems refuse fsync on directories; the data is synced anyway
            }
            return;
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    static void deleteTreeQuietly(Path root) {
        try {
            dev.vmctl.host.FileTree.delete(root);
        } catch (IOException | UncheckedIOException e) {
            // best effort: callers report orphans through SnapshotStore.orphans()
        }
    }

    /**
     * Checks that {@code p} is absolute, normalised and made only of {@code [A-Za-z0-9._/+-]}: such a path can
     * be handed to QEMU inside an option string or URI without quoting.
     */
    static Path safePath(String what, Path p) {
        Path abs = p.toAbsolutePath().normalize();
        String s = abs.toString();
        if (!SAFE_PATH.matcher(s).matches() || s.contains("/../") || s.contains("//")) {
            throw VmctlException.invalid(what, "'" + s + "' has characters vmctl does not pass to QEMU",
                    "an absolute path of letters, digits and . _ / + -");
        }
        return abs;
    }
}
