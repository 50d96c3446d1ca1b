package dev.vmctl.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * CPU and memory limits for processes through cgroups: v2 where the host's unified hierarchy has the {@code cpu} and
 * {@code memory} controllers, else v1 (one hierarchy per controller, e.g. this project's hosts: a v1/v2 hybrid with a
 * controller-less {@code unified} mount). Every group vmctl makes lies below the server's <em>own</em> cgroup (from
 * {@code /proc/self/cgroup}), in a folder {@code <prefix>} of its own, never elsewhere; groups are named by relative
 * paths such as {@code node-shop-svc/vm-1a2b3c}. Plain file writes, no process spawned.
 */
public final class Cgroups {
    public enum Mode { V2, V1, NONE }

    /** How this host does it and where vmctl's groups go (one folder per hierarchy; v2 uses {@code cpu} for both). */
    public record Layout(Mode mode, Path cpu, Path memory, String detail) {}

    public static final long PERIOD_US = 100_000;
    private final Layout layout;

    public Cgroups(Layout layout) {
        this.layout = layout;
    }

    public Layout layout() { return layout; }

    public boolean available() { return layout.mode() != Mode.NONE; }

    /** This host's layout for a folder {@code prefix} below the server's own cgroup. */
    public static Layout detect(String prefix) {
        String self;
        try {
            self = Files.readString(Path.of("/proc/self/cgroup"));
        } catch (IOException e) {
            return new Layout(Mode.NONE, null, null, "no /proc/self/cgroup: " + e.getMessage());
        }
        return detect(self, Path.of("/sys/fs/cgroup"), prefix);
    }

    /**
     * The layout from the text of /proc/self/cgroup and the cgroup mount root: v2 when {@code root/cgroup.controllers}
     * lists cpu and memory (vmctl's folder below the v2 path of line {@code 0::PATH}); else v1 when
     * {@code root/cpu} and {@code root/memory} are hierarchies (below the paths of the lines naming those controllers).
     */
    public static Layout detect(String procSelfCgroup, Path root, String prefix) {
        Map<String, String> v1 = new LinkedHashMap<>();
        String v2 = null;
        for (String line : procSelfCgroup.split("\n")) {
            String[] f = line.trim().split(":", 3);
            if (f.length < 3) continue;
            if (f[1].isEmpty()) v2 = f[2];
            else for (String c : f[1].split(",")) v1.put(c, f[2]);
        }
        Path controllers = root.resolve("cgroup.controllers");
        if (v2 != null && Files.isRegularFile(controllers)) {
            Set<String> have = Set.of(read(controllers).trim().split("\\s+"));
            if (have.contains("cpu") && have.contains("memory")) {
                Path dir = below(root, v2).resolve(prefix);
                return new Layout(Mode.V2, dir, dir, "cgroup v2 (" + root + ", controllers " + String.join(" ", have.stream().sorted().toList())
                        + "): vmctl's groups in " + dir);
            }
        }
        Path cpuRoot = root.resolve("cpu"), memRoot = root.resolve("memory");
        if (Files.isRegularFile(cpuRoot.resolve("cpu.cfs_quota_us")) && Files.isRegularFile(memRoot.resolve("memory.limit_in_bytes"))
                && v1.containsKey("cpu") && v1.containsKey("memory")) {
            Path cpu = below(cpuRoot, v1.get("cpu")).resolve(prefix);
            Path mem = below(memRoot, v1.get("memory")).resolve(prefix);
            String why = Files.isRegularFile(controllers) ? "the v2 hierarchy lacks the cpu and memory controllers"
                    : Files.isDirectory(root.resolve("unified")) ? "a v1/v2 hybrid whose unified mount has no controllers" : "no v2 hierarchy";
            return new Layout(Mode.V1, cpu, mem, "cgroup v1 (" + why + "): vmctl's groups in " + cpu + " and " + mem);
        }
        return new Layout(Mode.NONE, null, null, "no usable cgroup hierarchy with cpu and memory controllers under " + root);
    }

    private static Path below(Path hierarchy, String ownPath) {
        String rel = ownPath.startsWith("/") ? ownPath.substring(1) : ownPath;
        return rel.isEmpty() ? hierarchy : hierarchy.resolve(rel);
    }

    // ---------------------------------------------------------------- groups

    /** Creates the group (and its parents below vmctl's folder); on v2 enables cpu and memory for its children. */
    public void create(String group) {
        require();
        for (Path dir : dirs(group)) {
            try {
                if (layout.mode() == Mode.V2) {
                    // each level below the server's own group must hand the controllers down
                    Path p = layout.cpu();
                    Files.createDirectories(p);
                    for (String part : group.split("/")) {
                        enableControllers(p);
                        p = p.resolve(part);
                        Files.createDirectories(p);
                    }
                } else {
                    Files.createDirectories(dir);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cgroup create " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    private static void enableControllers(Path dir) {
        try {
            Files.writeString(dir.resolve("cgroup.subtree_control"), "+cpu +memory");
        } catch (IOException e) {
            throw new UncheckedIOException("cgroup " + dir + ": enable cpu and memory for its children: " + e.getMessage()
                    + " (a v2 group with processes of its own cannot hand controllers down)", e);
        }
    }

    /** CPU limit in cores (0.5 = half a core), null for none. */
    public void setCpu(String group, Double cores) {
        require();
        Path dir = layout.cpu().resolve(group);
        if (layout.mode() == Mode.V2) {
            write(dir.resolve("cpu.max"), cores == null ? "max " + PERIOD_US : quota(cores) + " " + PERIOD_US);
        } else {
            write(dir.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_US));
            write(dir.resolve("cpu.cfs_quota_us"), cores == null ? "-1" : Long.toString(quota(cores)));
        }
    }

    /** Memory limit in bytes, null for none. */
    public void setMemory(String group, Long bytes) {
        require();
        Path dir = layout.memory().resolve(group);
        if (layout.mode() == Mode.V2) write(dir.resolve("memory.max"), bytes == null ? "max" : Long.toString(bytes));
        else write(dir.resolve("memory.limit_in_bytes"), bytes == null ? "-1" : Long.toString(bytes));
    }

    /** Moves a process (all its threads) into the group. */
    public void attach(String group, long pid) {
        require();
        for (Path dir : dirs(group)) write(dir.resolve("cgroup.procs"), Long.toString(pid));
    }

    /** The PIDs in the group (empty when it does not exist). */
    public List<Long> pids(String group) {
        if (!available()) return List.of();
        Path f = layout.cpu().resolve(group).resolve("cgroup.procs");
        if (!Files.isRegularFile(f)) return List.of();
        List<Long> out = new ArrayList<>();
        for (String l : read(f).split("\n")) if (!l.isBlank()) out.add(Long.parseLong(l.trim()));
        return out;
    }

    /** The CPU limit as written in the group, in cores (null: none or no group) — for doctor and the tests. */
    public Double cpuLimit(String group) {
        if (!available()) return null;
        Path dir = layout.cpu().resolve(group);
        try {
            if (layout.mode() == Mode.V2) {
                String[] f = read(dir.resolve("cpu.max")).trim().split("\\s+");
                return f[0].equals("max") ? null : Long.parseLong(f[0]) / (double) Long.parseLong(f[1]);
            }
            long q = Long.parseLong(read(dir.resolve("cpu.cfs_quota_us")).trim());
            return q < 0 ? null : q / (double) Long.parseLong(read(dir.resolve("cpu.cfs_period_us")).trim());
        } catch (UncheckedIOException e) {
            return null;
        }
    }

    public boolean exists(String group) {
        return available() && Files.isDirectory(layout.cpu().resolve(group));
    }

    /** Removes the group and the groups below it (each must be empty of processes); absent is fine. */
    public void remove(String group) {
        if (!available()) return;
        if (group.isEmpty()) { // vmctl's whole folder
            rmdirTree(layout.cpu());
            if (!layout.memory().equals(layout.cpu())) rmdirTree(layout.memory());
            return;
        }
        for (Path dir : dirs(group)) rmdirTree(dir);
    }

    /** The groups directly below {@code parent} ("" for vmctl's folder), in either hierarchy. */
    public List<String> children(String parent) {
        if (!available()) return List.of();
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (Path base : new java.util.LinkedHashSet<>(List.of(layout.cpu(), layout.memory()))) {
            Path dir = parent.isEmpty() ? base : base.resolve(parent);
            if (!Files.isDirectory(dir)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
                for (Path p : ds) out.add(parent.isEmpty() ? p.getFileName().toString() : parent + "/" + p.getFileName());
            } catch (IOException e) {
                throw new UncheckedIOException("cgroup list " + dir + ": " + e.getMessage(), e);
            }
        }
        return new ArrayList<>(out);
    }

    private static void rmdirTree(Path dir) {
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path p : ds) rmdirTree(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cgroup remove " + dir + ": " + e.getMessage(), e);
        }
        try {
            Files.delete(dir); // rmdir: the kernel's control files go with it
        } catch (IOException e) {
            throw new UncheckedIOException("cgroup remove " + dir + ": " + e.getMessage(), e);
        }
    }

    private List<Path> dirs(String group) {
        if (group == null || group.isBlank() || group.contains("..") || group.startsWith("/")) {
            throw new IllegalArgumentException("cgroup: '" + group + "' is no group below vmctl's folder");
        }
        Path cpu = layout.cpu().resolve(group);
        Path mem = layout.memory().resolve(group);
        return cpu.equals(mem) ? List.of(cpu) : List.of(cpu, mem);
    }

    private void require() {
        if (!available()) throw new IllegalStateException("cgroups: " + layout.detail());
    }

    static long quota(double cores) {
        return Math.max(1000, Math.round(cores * PERIOD_US)); // the kernel's minimum quota is 1 ms
    }

    private static void write(Path f, String value) {
        try {
            Files.writeString(f, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cgroup write " + value + " to " + f + ": " + e.getMessage(), e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cgroup read " + f + ": " + e.getMessage(), e);
        }
    }

    /** "0.5 cores" for messages. */
    public static String cores(double c) {
        return String.format(Locale.ROOT, "%.2f cores", c);
    }
}
