package dev.vmctl.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Process identity from /proc: a PID plus its start time (field 22 of /proc/PID/stat) names one process
 * for its whole life, so a recycled PID is never mistaken for a VM's QEMU.
 */
public final class Procs {
    private Procs() {}

    public static OptionalLong startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // comm may contain spaces and parentheses: fields start after the last ')'
            String rest = stat.substring(stat.lastIndexOf(')') + 2);
            String[] f = rest.trim().split(" ");
            return OptionalLong.of(Long.parseLong(f[19])); // field 22 overall
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    public static Optional<List<String>> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            if (raw.length == 0) return Optional.empty();
            String s = new String(raw, StandardCharsets.UTF_8);
            return Optional.of(Arrays.asList(s.split("\0")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** True when the process exists, is not a zombie and still has the recorded start time. */
    public static boolean isSame(long pid, long start) {
        OptionalLong st = startTime(pid);
        if (st.isEmpty() || st.getAsLong() != start) return false;
        return !isZombie(pid);
    }

    public static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String rest = stat.substring(stat.lastIndexOf(')') + 2);
            return rest.startsWith("Z") || rest.startsWith("X");
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** All PIDs whose argv contains every one of the given strings. */
    public static List<Long> findByArgs(String... needles) {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : ds) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (pid == ProcessHandle.current().pid()) continue;
                cmdline(pid).ifPresent(args -> {
                    for (String n : needles) if (args.stream().noneMatch(a -> a.contains(n))) return;
                    out.add(pid);
                });
            }
        } catch (IOException ignored) {
            // /proc always exists on Linux
        }
        return out;
    }

    /** SIGTERM, then SIGKILL after the grace period; returns when the process is gone (or after grace×2). */
    public static void terminate(long pid, Duration grace) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty()) return;
        h.get().destroy();
        if (waitGone(pid, grace)) return;
        h.get().destroyForcibly();
        waitGone(pid, grace);
    }

    public static boolean waitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty() || !h.get().isAlive() || isZombie(pid)) return true;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
