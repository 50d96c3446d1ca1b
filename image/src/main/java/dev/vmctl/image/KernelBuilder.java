package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.FileTree;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the vmctl guest kernel, or finds it in its cache: Debian's {@code linux-source-6.1},
 * {@code make ARCH=x86_64 tinyconfig}, the config fragment (resource {@code kernel/microvm.fragment}:
 * everything built in, no modules), {@code make olddefconfig}, a check that every fragment line holds
 * in the final {@code .config}, then {@code make -j$(nproc) vmlinux}.
 *
 * <p>The result is cached by {@link #key()}, the hash of (build recipe, source package version,
 * fragment), in a cache directory that belongs to no vmctl data directory ({@link #defaultCacheDir()}),
 * so tests, CI and a second data directory reuse it. Layout:
 * <pre>
 * CACHE/KEY/vmlinux          the kernel (ELF, direct PVH boot)
 * CACHE/KEY/config           its final .config; also fragment, release ("6.1.192-vmctl"), source, build.log
 * CACHE/KEY.lock             held while KEY is built (other processes and threads wait for it)
 * CACHE/KEY.failed.log       full log of the last failed build of KEY
 * CACHE/.build-KEY-RANDOM/   work directory of a build in progress (object files, log)
 * CACHE/src/linux-source-6.1_VERSION/   the extracted source tree, shared by every KEY of that version
 * </pre>
 * {@code CACHE/KEY} appears only complete, by an atomic rename; a build killed half way leaves a
 * work directory that the next build of the same key deletes.
 */
public final class KernelBuilder {
    public static final String SOURCE_PACKAGE = "linux-source-6.1";
    public static final Path SOURCE_TARBALL = Path.of("/usr/src/linux-source-6.1.tar.xz");
    /** Environment variable that overrides the cache directory. */
    public static final String CACHE_ENV = "VMCTL_KERNEL_CACHE";
    public static final String FRAGMENT_RESOURCE = "kernel/microvm.fragment";
    public static final String VMLINUX = "vmlinux";
    /** Part of the cache key: bump it when the build steps change what they produce. */
    static final int RECIPE = 1;

    /**
     * A change to one file of the kernel source, made on a copy of that file in the build's object directory
     * (kbuild finds a source file there before the shared, never modified source tree: VPATH): {@code from}
     * must occur exactly once in the original.
     */
    public record SourceEdit(String path, String from, String to, String why) {}

    /** The edits of vmctl's kernel (part of the cache key). */
    public static final List<SourceEdit> SOURCE_EDITS = List.of(new SourceEdit("arch/x86/pci/init.c",
            "printk(KERN_ERR\n\t\t\"PCI: Fatal: No config space access function found\\n\");",
            "printk(KERN_INFO\n\t\t\"PCI: no conf1/conf2 or MCFG config space access yet (microvm: ECAM comes from ACPI)\\n\");",
            "microvm has no PCI I/O ports and no MCFG table: the root bridge's ECAM is found later through ACPI, so the "
                    + "'PCI: Fatal' line on every boot is no error (it cost nothing measurable; this only keeps the console clean)"));
    /** The compile step count of the default fragment (for a percentage before any build has run here). */
    static final int DEFAULT_COMPILE_STEPS = 1750;

    private static final Pattern FRAGMENT_SET = Pattern.compile("(CONFIG_[A-Za-z0-9_]+)=(y|n|m|-?[0-9]+|0x[0-9a-fA-F]+|\"[^\"\\\\]*\")");
    private static final Pattern FRAGMENT_UNSET = Pattern.compile("# (CONFIG_[A-Za-z0-9_]+) is not set");
    private static final Pattern COMPILE_STEP = Pattern.compile("^  [A-Z][A-Z0-9_]* +\\S");
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();
    /** Commands running for a build; killed (with their children) if the JVM exits meanwhile. */
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Process p : RUNNING) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }, "vmctl-kernel-build-cleanup"));
    }
    private static final List<String> MAKE_ENV_DROP = List.of("ARCH", "SUBARCH", "CROSS_COMPILE", "O", "KBUILD_OUTPUT",
            "KCONFIG_CONFIG", "KCONFIG_ALLCONFIG", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "CC", "LD", "LLVM",
            "CFLAGS", "KCFLAGS", "KAFLAGS", "INSTALL_PATH", "LOCALVERSION", "KBUILD_EXTRA_SYMBOLS");

    /**
     * A built kernel.
     *
     * @param vmlinux  {@code CACHE/KEY/vmlinux}
     * @param release  what {@code uname -r} says in the guest, e.g. "6.1.192-vmctl"
     * @param key      the cache key
     * @param cacheHit true when the kernel was already in the cache (nothing was compiled)
     * @param dir      {@code CACHE/KEY}
     */
    public record Kernel(Path vmlinux, String release, String key, boolean cacheHit, Path dir) {
        /** The upstream version, e.g. "6.1.192" for release "6.1.192-vmctl". */
        public String version() {
            int dash = release.indexOf('-');
            return dash < 0 ? release : release.substring(0, dash);
        }
    }

    private final Path cacheDir;
    private final String fragment;
    private final List<SourceEdit> edits;
    private final Path tarball;
    private final boolean checkTools;
    private final Supplier<String> versionLookup;
    private volatile String sourceVersion;

    /** The default fragment, built in {@link #defaultCacheDir()}. */
    public KernelBuilder() {
        this(defaultCacheDir(), defaultFragment());
    }

    public KernelBuilder(Path cacheDir) {
        this(cacheDir, defaultFragment());
    }

    /** @param fragment config fragment text (see the resource {@value #FRAGMENT_RESOURCE} for the format) */
    public KernelBuilder(Path cacheDir, String fragment) {
        this(cacheDir, fragment, SOURCE_EDITS, SOURCE_TARBALL, KernelBuilder::installedSourceVersion, true);
    }

    /**
     * @param versionLookup the source package version (dpkg-query in production); throws UNAVAILABLE when
     *                      the package is not installed
     * @param checkTools    check that the compiler and friends are installed before building (tests with a
     *                      stand-in source tarball skip it)
     */
    KernelBuilder(Path cacheDir, String fragment, Path tarball, Supplier<String> versionLookup, boolean checkTools) {
        this(cacheDir, fragment, List.of(), tarball, versionLookup, checkTools);
    }

    KernelBuilder(Path cacheDir, String fragment, List<SourceEdit> edits, Path tarball, Supplier<String> versionLookup, boolean checkTools) {
        this.cacheDir = cacheDir.toAbsolutePath().normalize();
        this.fragment = fragment;
        this.edits = List.copyOf(edits);
        this.tarball = tarball;
        this.versionLookup = versionLookup;
        this.checkTools = checkTools;
    }

    /**
     * {@code $VMCTL_KERNEL_CACHE} if set; else {@code /var/cache/vmctl/kernels} for root;
     * else {@code $XDG_CACHE_HOME/vmctl/kernels}, or {@code ~/.cache/vmctl/kernels}.
     */
    public static Path defaultCacheDir() {
        return defaultCacheDir(System.getenv(), isRoot(), System.getProperty("user.home"));
    }

    static Path defaultCacheDir(Map<String, String> env, boolean root, String home) {
        String override = env.get(CACHE_ENV);
        if (override != null && !override.isBlank()) return Path.of(override).toAbsolutePath().normalize();
        if (root) return Path.of("/var/cache/vmctl/kernels");
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && xdg.startsWith("/")) return Path.of(xdg, "vmctl", "kernels");
        return Path.of(home, ".cache", "vmctl", "kernels");
    }

    private static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return Integer.valueOf(0).equals(uid);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** The resource with what systemd guests need beyond {@link #defaultFragment()} (the Debian images' kernel). */
    public static final String SYSTEMD_FRAGMENT_RESOURCE = "kernel/systemd.fragment";

    /**
     * The fragment of the kernel for systemd guests: {@link #defaultFragment()} followed by the resource
     * {@value #SYSTEMD_FRAGMENT_RESOURCE}. Its own cache key, so the busybox image's kernel (and its boot snapshots) stay.
     */
    public static String systemdFragment() {
        try (InputStream in = KernelBuilder.class.getResourceAsStream(SYSTEMD_FRAGMENT_RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + SYSTEMD_FRAGMENT_RESOURCE + " missing from the vmctl-image jar");
            return defaultFragment() + "\n" + new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fragment kept in the repository (resource {@value #FRAGMENT_RESOURCE}). */
    public static String defaultFragment() {
        try (InputStream in = KernelBuilder.class.getResourceAsStream(FRAGMENT_RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + FRAGMENT_RESOURCE + " missing from the vmctl-image jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path cacheDir() {
        return cacheDir;
    }

    public String fragment() {
        return fragment;
    }

    /** The installed version of {@value #SOURCE_PACKAGE} ("6.1.192-3"); UNAVAILABLE when it is not installed. */
    public String sourceVersion() {
        String v = sourceVersion;
        if (v != null) return v;
        v = versionLookup.get();
        sourceVersion = v;
        return v;
    }

    private static String installedSourceVersion() {
        if (!Cmd.available("dpkg-query")) throw missing("no dpkg-query to find the version of " + SOURCE_PACKAGE, "dpkg");
        CmdResult r = Cmd.run(List.of("dpkg-query", "-W", "-f=${Status}\t${Version}", SOURCE_PACKAGE));
        String[] f = r.stdout().split("\t", 2);
        if (!r.ok() || f.length < 2 || !f[0].endsWith(" installed") || f[1].isBlank()) {
            throw missing(SOURCE_PACKAGE + " is not installed", SOURCE_PACKAGE);
        }
        return f[1].strip();
    }

    /** The cache key: 16 hex digits of SHA-256 over the recipe version, the source package version and the fragment. */
    public String key() {
        return key(RECIPE, sourceVersion(), fragment + editsText(edits));
    }

    /** The edits as text for the cache key (nothing when there are none, so keys without edits stay as they were). */
    static String editsText(List<SourceEdit> edits) {
        StringBuilder sb = new StringBuilder();
        for (SourceEdit e : edits) sb.append("\n# source edit ").append(e.path()).append('\n').append(e.from()).append('\n').append(e.to());
        return sb.toString();
    }

    static String key(int recipe, String sourceVersion, String fragment) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            String head = "vmctl-kernel recipe=" + recipe + " arch=x86_64 source=" + SOURCE_PACKAGE + " " + sourceVersion + "\n";
            md.update(head.getBytes(StandardCharsets.UTF_8));
            md.update(fragment.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cached kernel for this fragment and source version, if it has been built. */
    public Optional<Kernel> cached() {
        String key = key();
        return readCached(key, cacheDir.resolve(key));
    }

    /** The newest cached kernel built from this fragment, whatever the source version. */
    private Optional<Kernel> cachedFromAnySource() {
        if (!Files.isDirectory(cacheDir)) return Optional.empty();
        Kernel best = null;
        long bestTime = Long.MIN_VALUE;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(cacheDir, "[0-9a-f]*")) {
            for (Path d : ds) {
                Path f = d.resolve("fragment");
                if (!d.getFileName().toString().matches("[0-9a-f]{16}") || !Files.isRegularFile(f)) continue;
                if (!Files.readString(f).equals(fragment)) continue;
                Path e = d.resolve("source-edits");
                String editsThere = Files.isRegularFile(e) ? Files.readString(e) : "";
                if (!editsThere.equals(edits.isEmpty() ? "" : editsText(edits).strip() + "\n")) continue;
                Optional<Kernel> k = readCached(d.getFileName().toString(), d);
                if (k.isEmpty()) continue;
                long t = Files.getLastModifiedTime(d.resolve(VMLINUX)).toMillis();
                if (t > bestTime) {
                    best = k.get();
                    bestTime = t;
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.ofNullable(best);
    }

    private static Optional<Kernel> readCached(String key, Path dir) {
        Path vmlinux = dir.resolve(VMLINUX);
        Path release = dir.resolve("release");
        if (!Files.isRegularFile(vmlinux) || !Files.isRegularFile(release)) return Optional.empty();
        try {
            return Optional.of(new Kernel(vmlinux, Files.readString(release).strip(), key, true, dir));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Returns the cached kernel, or builds it (minutes) and caches it. Concurrent builds of the same key,
     * in this JVM or another process, wait for each other and build once.
     *
     * @param progress receives lines such as "kernel 1f2e...: found in cache /var/cache/vmctl/kernels/1f2e...",
     *                 "kernel: configuring", "kernel: compiling vmlinux: 40% (760 steps, 62 s)"; may be null
     * @throws VmctlException UNAVAILABLE when a build tool or the source package is missing (the message names
     *                        the Debian package); INTERNAL when a step fails: the message names the step and the
     *                        full log ({@code CACHE/KEY.failed.log}), the detail holds the log's last lines
     */
    public Kernel build(Consumer<String> progress) {
        Consumer<String> say = progress == null ? s -> { } : progress;
        String version;
        try {
            version = sourceVersion();
        } catch (VmctlException e) {
            // no linux-source-6.1 (e.g. a machine that only runs VMs): a kernel built here earlier from the
            // same fragment still serves
            Optional<Kernel> any = cachedFromAnySource();
            if (any.isEmpty()) throw e;
            say.accept("kernel " + any.get().key() + ": found in cache " + any.get().dir() + " (" + SOURCE_PACKAGE
                    + " is not installed: using the kernel built earlier from the same fragment)");
            return any.get();
        }
        String key = key();
        Path dir = cacheDir.resolve(key);
        Optional<Kernel> hit = readCached(key, dir);
        if (hit.isPresent()) {
            say.accept("kernel " + key + ": found in cache " + dir);
            return hit.get();
        }
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "kernel cache " + cacheDir + ": cannot create it: " + e.getMessage(),
                    "set " + CACHE_ENV + " to a writable directory", e);
        }
        try (Locked ignored = lock(cacheDir.resolve(key + ".lock"), say, "another build of kernel " + key)) {
            hit = readCached(key, dir);
            if (hit.isPresent()) { // built by whoever held the lock
                say.accept("kernel " + key + ": found in cache " + dir);
                return hit.get();
            }
            say.accept("kernel " + key + ": not in cache " + cacheDir + ", building it from " + SOURCE_PACKAGE + " " + version
                    + " (a few minutes)");
            return buildLocked(key, version, dir, say);
        }
    }

    private Kernel buildLocked(String key, String version, Path dir, Consumer<String> say) {
        checkTools();
        long t0 = System.nanoTime();
        Path failedLog = cacheDir.resolve(key + ".failed.log");
        Path work;
        try {
            deleteStale(key);
            Files.deleteIfExists(failedLog);
            work = Files.createTempDirectory(cacheDir, ".build-" + key + "-");
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "kernel " + key + ": cannot create a work directory in " + cacheDir
                    + ": " + e.getMessage(), null, e);
        }
        Path logFile = work.resolve("build.log");
        boolean done = false;
        try (Log log = new Log(logFile)) {
            log.line("vmctl kernel build " + key + ": " + SOURCE_PACKAGE + " " + version + ", recipe " + RECIPE);
            Path src = step("extract", log, failedLog, () -> extractSource(version, say, log));
            Path obj = work.resolve("obj");
            step("configure", log, failedLog, () -> {
                say.accept("kernel: configuring (tinyconfig + fragment + olddefconfig)");
                Map<String, String> wanted = parseFragment(fragment);
                Files.createDirectories(obj);
                make(src, obj, List.of("tinyconfig"), log, null, 600);
                Path config = obj.resolve(".config");
                Files.writeString(config, "\n# ---- vmctl fragment ----\n" + fragment + "\n", StandardOpenOption.APPEND);
                make(src, obj, List.of("olddefconfig"), log, null, 600);
                List<String> problems = checkConfig(wanted, Files.readAllLines(config));
                if (!problems.isEmpty()) {
                    for (String p : problems) log.line("vmctl: " + p);
                    throw new StepFailure("the fragment does not hold after olddefconfig (an unknown option, or one "
                            + "whose dependencies are off): " + String.join("; ", problems));
                }
                return null;
            });
            if (!edits.isEmpty()) {
                step("edit", log, failedLog, () -> {
                    for (SourceEdit e : edits) {
                        String text = Files.readString(src.resolve(e.path()));
                        int at = text.indexOf(e.from());
                        if (at < 0 || text.indexOf(e.from(), at + 1) >= 0) {
                            throw new StepFailure("source edit of " + e.path() + ": the text to change occurs "
                                    + (at < 0 ? "nowhere" : "more than once") + " in " + SOURCE_PACKAGE + " " + version);
                        }
                        Path copy = obj.resolve(e.path());
                        Files.createDirectories(copy.getParent());
                        Files.writeString(copy, text.substring(0, at) + e.to() + text.substring(at + e.from().length()));
                        log.line("vmctl: edited " + e.path() + " (in the object directory): " + e.why());
                    }
                    return null;
                });
            }
            int jobs = Math.max(1, Runtime.getRuntime().availableProcessors());
            String release = step("compile", log, failedLog, () -> {
                say.accept("kernel: compiling vmlinux with " + jobs + " jobs");
                int estimate = readEstimate();
                long c0 = System.nanoTime();
                int[] lastTenth = {0};
                long[] lastSaid = {System.nanoTime()};
                int steps = make(src, obj, List.of("-j" + jobs, VMLINUX), log, n -> {
                    long now = System.nanoTime();
                    double secs = (now - c0) / 1e9;
                    if (estimate > 0) {
                        int pct = Math.min(99, (int) (100L * n / estimate));
                        if (pct / 10 > lastTenth[0]) {
                            lastTenth[0] = pct / 10;
                            say.accept(String.format(Locale.ROOT, "kernel: compiling vmlinux: %d%% (%d steps, %.0f s)", pct, n, secs));
                        }
                    } else if (now - lastSaid[0] > TimeUnit.SECONDS.toNanos(15)) {
                        lastSaid[0] = now;
                        say.accept(String.format(Locale.ROOT, "kernel: compiling vmlinux: %d steps, %.0f s", n, secs));
                    }
                }, 3 * 3600);
                writeEstimate(steps);
                Path rel = obj.resolve("include/config/kernel.release");
                if (!Files.isRegularFile(obj.resolve(VMLINUX)) || !Files.isRegularFile(rel)) {
                    throw new StepFailure("make succeeded but left no vmlinux or kernel.release");
                }
                return Files.readString(rel).strip();
            });
            step("install", log, failedLog, () -> {
                Path out = Files.createDirectory(work.resolve("out"));
                Files.move(obj.resolve(VMLINUX), out.resolve(VMLINUX));
                Files.copy(obj.resolve(".config"), out.resolve("config"));
                Files.writeString(out.resolve("fragment"), fragment);
                if (!edits.isEmpty()) Files.writeString(out.resolve("source-edits"), editsText(edits).strip() + "\n");
                Files.writeString(out.resolve("release"), release + "\n");
                Files.writeString(out.resolve("source"), SOURCE_PACKAGE + " " + version + "\n");
                log.line(String.format(Locale.ROOT, "vmctl: built %s in %.0f s", release, (System.nanoTime() - t0) / 1e9));
                log.close();
                Files.move(logFile, out.resolve("build.log"));
                Files.move(out, dir, StandardCopyOption.ATOMIC_MOVE);
                return null;
            });
            done = true;
            say.accept(String.format(Locale.ROOT, "kernel %s: built %s in %.0f s, cached in %s", key, release,
                    (System.nanoTime() - t0) / 1e9, dir));
            return new Kernel(dir.resolve(VMLINUX), release, key, false, dir);
        } catch (IOException e) { // closing the log
            throw new VmctlException(Kind.INTERNAL, "kernel " + key + ": " + e.getMessage(), null, e);
        } finally {
            if (!done && Files.exists(logFile)) {
                try {
                    Files.move(logFile, failedLog, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException ignored) {
                    // the message already named the log; best effort
                }
            }
            try {
                FileTree.delete(work);
            } catch (IOException ignored) {
                // a leftover work directory is deleted by the next build of this key
            }
        }
    }

    // ---- steps ----

    private void checkTools() {
        if (!Files.isRegularFile(tarball)) throw missing("no " + tarball, SOURCE_PACKAGE);
        if (!checkTools) return;
        for (String[] t : new String[][] {{"make", "make"}, {"gcc", "gcc"}, {"ld", "binutils"}, {"bison", "bison"},
                {"flex", "flex"}, {"bc", "bc"}, {"tar", "tar"}, {"xz", "xz-utils"}}) {
            if (!Cmd.available(t[0])) throw missing("no " + t[0] + " (needed to build the vmctl kernel)", t[1]);
        }
        if (!Files.isRegularFile(Path.of("/usr/include/stdio.h"))) throw missing("no C library headers", "libc6-dev");
        if (!Files.isRegularFile(Path.of("/usr/include/gelf.h"))) throw missing("no libelf headers (objtool needs them)", "libelf-dev");
    }

    /** Extracts the source tarball once per package version into CACHE/src (shared by every key). */
    private Path extractSource(String version, Consumer<String> say, Log log) throws Exception {
        Path srcRoot = cacheDir.resolve("src");
        Files.createDirectories(srcRoot);
        String name = SOURCE_PACKAGE + "_" + version.replaceAll("[^A-Za-z0-9.+~-]", "_");
        Path tree = srcRoot.resolve(name);
        if (Files.isRegularFile(tree.resolve("Makefile"))) {
            log.line("vmctl: source tree " + tree);
            return tree;
        }
        try (Locked ignored = lock(srcRoot.resolve(name + ".lock"), say, "another extraction of " + name)) {
            if (Files.isRegularFile(tree.resolve("Makefile"))) return tree;
            say.accept("kernel: extracting " + tarball.getFileName() + " (once per " + SOURCE_PACKAGE + " version)");
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(srcRoot, ".extract-" + name + "-*")) {
                for (Path stale : ds) FileTree.delete(stale);
            }
            Path tmp = Files.createTempDirectory(srcRoot, ".extract-" + name + "-");
            try {
                run(List.of("tar", "-C", tmp.toString(), "-xf", tarball.toString()), null, log, null, 1800);
                Path top;
                try (var s = Files.list(tmp)) {
                    List<Path> dirs = s.filter(Files::isDirectory).toList();
                    if (dirs.size() != 1) throw new StepFailure(tarball + " holds " + dirs.size() + " top directories, not 1");
                    top = dirs.getFirst();
                }
                if (!Files.isRegularFile(top.resolve("Makefile"))) throw new StepFailure(tarball + " holds no kernel Makefile");
                Files.move(top, tree, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                FileTree.delete(tmp);
            }
            log.line("vmctl: extracted " + tarball + " to " + tree);
        }
        removeOtherSourceTrees(srcRoot, name, log);
        return tree;
    }

    /** Source trees of other package versions (1.3 GB each) are deleted unless a build holds their lock. */
    private void removeOtherSourceTrees(Path srcRoot, String keep, Log log) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(srcRoot, SOURCE_PACKAGE + "_*")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.equals(keep) || n.endsWith(".lock") || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) continue;
                Path lockFile = srcRoot.resolve(n + ".lock");
                try (Locked l = tryLock(lockFile)) {
                    if (l == null) continue;
                    log.line("vmctl: deleting the old source tree " + p);
                    FileTree.delete(p);
                }
            }
        }
    }

    /** Leftovers of killed builds of this key (we hold its lock: nobody else is using them). */
    private void deleteStale(String key) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(cacheDir, ".build-" + key + "-*")) {
            for (Path p : ds) FileTree.delete(p);
        }
    }

    /** Parses and checks the fragment: option name to wanted value ("n" for "is not set"). */
    static Map<String, String> parseFragment(String fragment) {
        Map<String, String> wanted = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        int n = 0;
        for (String raw : fragment.split("\n", -1)) {
            n++;
            String line = raw.strip();
            if (line.isEmpty()) continue;
            Matcher unset = FRAGMENT_UNSET.matcher(line);
            Matcher set = FRAGMENT_SET.matcher(line);
            String name;
            String value;
            if (unset.matches()) {
                name = unset.group(1);
                value = "n";
            } else if (line.startsWith("#")) {
                if (line.matches("#\\s*CONFIG_[A-Za-z0-9_]+.*")) {
                    errors.add("line " + n + ": '" + line + "' looks like an option but is neither CONFIG_X=VALUE nor '# CONFIG_X is not set'");
                }
                continue;
            } else if (set.matches()) {
                name = set.group(1);
                value = set.group(2);
            } else {
                errors.add("line " + n + ": '" + line + "' is not CONFIG_X=y|n|NUMBER|\"TEXT\" or '# CONFIG_X is not set'");
                continue;
            }
            if (value.equals("m")) {
                errors.add("line " + n + ": " + name + "=m: the vmctl kernel has no modules; build it in (=y)");
                continue;
            }
            String before = wanted.put(name, value);
            if (before != null && !before.equals(value)) {
                errors.add("line " + n + ": " + name + " is set twice (" + before + ", then " + value + ")");
            }
        }
        if (!errors.isEmpty()) throw new StepFailure("syntax error in the config fragment: " + String.join("; ", errors));
        return wanted;
    }

    /** What of the fragment does not hold in the final .config lines. */
    static List<String> checkConfig(Map<String, String> wanted, List<String> config) {
        Map<String, String> have = new LinkedHashMap<>();
        for (String line : config) {
            Matcher set = Pattern.compile("(CONFIG_[A-Za-z0-9_]+)=(.*)").matcher(line);
            Matcher unset = FRAGMENT_UNSET.matcher(line);
            if (set.matches()) have.put(set.group(1), set.group(2));
            else if (unset.matches()) have.put(unset.group(1), "n");
        }
        List<String> problems = new ArrayList<>();
        for (var e : wanted.entrySet()) {
            String got = have.get(e.getKey());
            String want = e.getValue();
            if (got == null && want.equals("n")) continue; // absent: not set (or unknown, which is also off)
            if (got == null) problems.add(e.getKey() + "=" + want + " is not in the final .config (unknown option, or its dependencies are off)");
            else if (!got.equals(want)) problems.add(e.getKey() + "=" + want + " became " + (got.equals("n") ? "not set" : got));
        }
        return problems;
    }

    private int readEstimate() {
        try {
            Path f = cacheDir.resolve("compile-steps");
            if (Files.isRegularFile(f)) return Integer.parseInt(Files.readString(f).strip());
        } catch (IOException | NumberFormatException ignored) {
            // fall back to the default
        }
        return DEFAULT_COMPILE_STEPS;
    }

    private void writeEstimate(int steps) {
        try {
            Path tmp = Files.createTempFile(cacheDir, ".compile-steps-", "");
            Files.writeString(tmp, steps + "\n");
            Files.move(tmp, cacheDir.resolve("compile-steps"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException ignored) {
            // only an estimate
        }
    }

    // ---- make and friends ----

    private static int make(Path src, Path obj, List<String> targets, Log log, Consumer<Integer> onStep, long timeoutS)
            throws Exception {
        List<String> argv = new ArrayList<>(List.of("make", "-C", src.toString(), "O=" + obj, "ARCH=x86_64"));
        argv.addAll(targets);
        return run(argv, obj, log, onStep, timeoutS);
    }

    /** Runs argv with stdout+stderr into the log; returns the number of compile-step lines; throws StepFailure on exit != 0. */
    private static int run(List<String> argv, Path cwd, Log log, Consumer<Integer> onStep, long timeoutS) throws Exception {
        log.line("$ " + String.join(" ", argv));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        if (cwd != null) pb.directory(cwd.toFile());
        Map<String, String> env = pb.environment();
        MAKE_ENV_DROP.forEach(env::remove);
        env.put("LC_ALL", "C");
        env.put("KBUILD_BUILD_USER", "vmctl");
        env.put("KBUILD_BUILD_HOST", "vmctl");
        Process p = pb.start();
        RUNNING.add(p);
        int[] steps = {0};
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.line(line);
                    if (COMPILE_STEP.matcher(line).find()) {
                        steps[0]++;
                        if (onStep != null) onStep.accept(steps[0]);
                    }
                }
            } catch (IOException ignored) {
                // the process went away
            }
        });
        try {
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                kill(p);
                reader.join(TimeUnit.SECONDS.toMillis(10));
                throw new StepFailure(label(argv) + " timed out after " + timeoutS + " s");
            }
            reader.join();
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        } finally {
            RUNNING.remove(p);
        }
        log.line("(exit " + p.exitValue() + ")");
        if (p.exitValue() != 0) throw new StepFailure(label(argv) + " exited with status " + p.exitValue());
        return steps[0];
    }

    /** "make olddefconfig", "tar -xf": the program and what follows the options that vmctl always passes. */
    private static String label(List<String> argv) {
        if (!argv.getFirst().equals("make")) return argv.getFirst() + (argv.contains("-xf") ? " -xf" : "");
        int i = argv.indexOf("ARCH=x86_64");
        return "make " + String.join(" ", argv.subList(i + 1, argv.size()));
    }

    /** make's children first, then make. */
    private static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }

    // ---- failure reporting ----

    /** A step's own failure message (no stack trace wanted). */
    static final class StepFailure extends RuntimeException {
        StepFailure(String message) {
            super(message);
        }
    }

    @FunctionalInterface
    private interface Step<T> {
        T run() throws Exception;
    }

    private <T> T step(String name, Log log, Path failedLog, Step<T> s) {
        log.line("vmctl: ---- step " + name + " ----");
        try {
            return s.run();
        } catch (VmctlException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure(name, "interrupted", log, failedLog, e);
        } catch (StepFailure e) {
            throw failure(name, e.getMessage(), log, failedLog, null);
        } catch (Exception e) {
            throw failure(name, String.valueOf(e), log, failedLog, e);
        }
    }

    private static VmctlException failure(String step, String why, Log log, Path failedLog, Throwable cause) {
        log.line("vmctl: step " + step + " failed: " + why);
        return new VmctlException(Kind.INTERNAL, "kernel build step '" + step + "' failed: " + why + "; full log: " + failedLog,
                "last lines of " + failedLog + ":\n" + String.join("\n", log.tail()), cause);
    }

    static VmctlException missing(String what, String debianPackage) {
        return new VmctlException(Kind.UNAVAILABLE, what + " (install the Debian package " + debianPackage + ")",
                "apt-get install " + debianPackage);
    }

    /** The build log: a file, plus the last lines kept for the error message. */
    private static final class Log implements AutoCloseable {
        private final BufferedWriter w;
        private final ArrayDeque<String> tail = new ArrayDeque<>();
        private boolean closed;

        Log(Path file) throws IOException {
            w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        }

        synchronized void line(String s) {
            tail.addLast(s);
            if (tail.size() > 25) tail.removeFirst();
            if (closed) return;
            try {
                w.write(s);
                w.write('\n');
                if (s.startsWith("vmctl:") || s.startsWith("$ ")) w.flush();
            } catch (IOException ignored) {
                // a full disk shows up as a failed step anyway
            }
        }

        synchronized List<String> tail() {
            return List.copyOf(tail);
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) return;
            closed = true;
            w.close();
        }
    }

    // ---- locks: one per file, across threads (ReentrantLock) and processes (FileLock) ----

    private static final class Locked implements AutoCloseable {
        private final ReentrantLock jvm;
        private final FileChannel ch;
        private final FileLock lock;

        Locked(ReentrantLock jvm, FileChannel ch, FileLock lock) {
            this.jvm = jvm;
            this.ch = ch;
            this.lock = lock;
        }

        @Override
        public void close() {
            try {
                lock.release();
                ch.close();
            } catch (IOException ignored) {
                // closing the channel releases the lock anyway
            } finally {
                jvm.unlock();
            }
        }
    }

    private static Locked lock(Path file, Consumer<String> say, String holder) {
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), f -> new ReentrantLock());
        if (!jvm.tryLock()) {
            say.accept("kernel: waiting for " + holder + " (in this process)");
            jvm.lock();
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                say.accept("kernel: waiting for " + holder + " (lock " + file + ")");
                l = ch.lock();
            }
            return new Locked(jvm, ch, l);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            jvm.unlock();
            throw new VmctlException(Kind.INTERNAL, "kernel cache: cannot lock " + file + ": " + e.getMessage(), null, e);
        }
    }

    /** The lock, or null when someone else holds it. */
    private static Locked tryLock(Path file) throws IOException {
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), f -> new ReentrantLock());
        if (!jvm.tryLock()) return null;
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                closeQuietly(ch);
                jvm.unlock();
                return null;
            }
            return new Locked(jvm, ch, l);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            jvm.unlock();
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
