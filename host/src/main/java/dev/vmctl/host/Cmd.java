package dev.vmctl.host;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one door for OS commands: an argv array in (never a shell string), {exit, stdout, stderr} out.
 * Never builds a shell command line from its arguments.
 */
public final class Cmd {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private Cmd() {}

    public static CmdResult run(String... argv) {
        return run(List.of(argv), null, null, DEFAULT_TIMEOUT);
    }

    public static CmdResult run(List<String> argv) {
        return run(argv, null, null, DEFAULT_TIMEOUT);
    }

    /** Runs argv and throws {@link CmdException} when it exits non-zero. */
    public static CmdResult check(String... argv) {
        return run(argv).orThrow();
    }

    public static CmdResult check(List<String> argv) {
        return run(argv).orThrow();
    }

    /**
     * @param stdin   bytes written to the command's stdin (null: none)
     * @param stdout  when not null, stdout is written to this file instead of captured
     */
    public static CmdResult run(List<String> argv, byte[] stdin, Path stdout, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(argv);
        if (stdout != null) pb.redirectOutput(stdout.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new CmdResult(List.copyOf(argv), 127, "", "cannot start: " + e.getMessage());
        }
        CompletableFuture<String> out = stdout == null ? drain(p.getInputStream()) : CompletableFuture.completedFuture("");
        CompletableFuture<String> err = drain(p.getErrorStream());
        try (var in = p.getOutputStream()) {
            if (stdin != null) in.write(stdin);
        } catch (IOException ignored) {
            // the command may exit without reading its input
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                return new CmdResult(List.copyOf(argv), 124, out.join(), err.join() + "\n(timed out after " + timeout + ")");
            }
            return new CmdResult(List.copyOf(argv), p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CmdException(String.join(" ", argv) + ": interrupted", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (in) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                in.transferTo(buf);
                f.complete(buf.toString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return f;
    }

    /** True when an executable with this name is on PATH or is an absolute path that exists. */
    public static boolean available(String program) {
        if (program.startsWith("/")) return Path.of(program).toFile().canExecute();
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Path.of(dir, program).toFile().canExecute()) return true;
        }
        return false;
    }
}
