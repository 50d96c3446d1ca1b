package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdException;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.FileTree;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.IOException;
import java.io.InputStream;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the Debian images ({@code debian-12}, {@code debian-13}): a root file system from
 * {@code debootstrap --variant=minbase} with systemd and the guest agent ({@link DebianRecipe#BASE_PACKAGES}), tuned
 * for a microVM ({@link #MASKED_UNITS} masked, volatile journal, vmctl's early agent unit), written into an ext4
 * image without a loop mount ({@code mkfs.ext4 -d}); booted through the vmctl kernel for systemd guests
 * ({@link KernelBuilder#systemdFragment()}) and a small busybox initramfs that mounts the disk and
 * {@code switch_root}s (resource {@code rootdisk-init.sh}).
 *
 * <p>The root file system is cached by its recipe ({@link DebianRecipe#key}) in {@link #defaultCacheDir()}: a second
 * build of the same recipe takes it from there (seconds instead of minutes). The image directory
 * {@code IMAGES_DIR/NAME} holds {@code vmlinux}, {@code initrd.cpio} and {@code rootfs.ext4} (hard links to the
 * caches where possible); the rootfs is the read-only base of every VM's qcow2 overlay.
 */
public final class DebianImageBuilder {
    public static final String DEFAULT_MIRROR = "http://deb.debian.org/debian";
    public static final String ROOTFS_FILE = "rootfs.ext4";
    public static final String CACHE_ENV = "VMCTL_ROOTFS_CACHE";
    /**
     * Units a microVM does not need (each costs 0.5–0.8 s under TCG; measured in shared/recipes/82-tune-debian.sh):
     * timers and housekeeping, getty on the console (vmctl's console is a log), udev (no hot-plugged hardware vmctl
     * needs it for: vmctl names NICs by MAC itself and its agent unit finds the port without it), logind (no dbus in
     * minbase), first-boot prompts (the initramfs writes a machine-id), Debian's agent unit (vmctl-agent.service
     * takes its place).
     */
    public static final List<String> MASKED_UNITS = List.of(
            "e2scrub_reap.service", "e2scrub_all.timer", "getty-static.service", "apt-daily.timer", "apt-daily-upgrade.timer",
            "dpkg-db-backup.timer", "fstrim.timer", "systemd-tmpfiles-clean.timer", "sys-kernel-debug.mount",
            "sys-kernel-tracing.mount", "sys-kernel-config.mount", "sys-fs-fuse-connections.mount", "dev-hugepages.mount",
            "dev-mqueue.mount", "proc-sys-fs-binfmt_misc.automount", "systemd-binfmt.service", "systemd-journal-flush.service",
            "systemd-update-utmp.service", "systemd-update-utmp-runlevel.service", "systemd-remount-fs.service",
            "getty.target", "getty@tty1.service", "serial-getty@ttyS0.service", "console-getty.service",
            "modprobe@fuse.service", "modprobe@efi_pstore.service", "modprobe@dm_mod.service", "modprobe@configfs.service",
            "modprobe@drm.service", "modprobe@loop.service", "kmod-static-nodes.service", "systemd-modules-load.service",
            "systemd-pstore.service", "systemd-random-seed.service", "systemd-firstboot.service",
            "systemd-machine-id-commit.service", "systemd-logind.service", "systemd-udevd.service",
            "systemd-udevd-control.socket", "systemd-udevd-kernel.socket", "systemd-udev-trigger.service",
            "systemd-udev-settle.service", "systemd-hwdb-update.service", "ldconfig.service", "qemu-guest-agent.service",
            "systemd-timesyncd.service", "systemd-networkd.service", "systemd-networkd-wait-online.service",
            "systemd-resolved.service", "networking.service", "cron.service", "systemd-ask-password-console.path",
            "systemd-ask-password-wall.path", "systemd-journald-audit.socket", "systemd-boot-system-token.service",
            "systemd-tpm2-setup-early.service", "systemd-tpm2-setup.service", "systemd-pcrmachine.service",
            "systemd-pcrphase-sysinit.service", "systemd-pcrphase.service", "systemd-bsod.service",
            "systemd-confext.service", "systemd-sysext.service", "systemd-hibernate-clear.service",
            // measured in a debian-12 VM (systemd-analyze blame, TCG): the journal 2.5 s, sysusers 0.8 s, static
            // device nodes 0.8 s (devtmpfs has them), sysctl 0.6 s (and it fails: the kernel has no IPv6), sessions
            // 0.26 s; on one vCPU all of it competes with the agent's start. The console log is the VM's log.
            "systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket",
            "systemd-journal-catalog-update.service", "systemd-sysusers.service", "systemd-tmpfiles-setup-dev.service",
            "systemd-tmpfiles-setup-dev-early.service", "systemd-sysctl.service", "systemd-user-sessions.service",
            "systemd-update-done.service", "systemd-repart.service", "e2scrub_reap.service", "remote-fs.target",
            "cryptsetup.target", "integritysetup.target", "veritysetup.target", "systemd-journald-varlink@.socket");
    /**
     * Generators systemd runs before it loads any unit (each one an exec, tens of milliseconds under TCG), masked:
     * vmctl's guests have an empty fstab, no getty, no SysV scripts, no encrypted or verity volumes.
     */
    public static final List<String> MASKED_GENERATORS = List.of("systemd-cryptsetup-generator", "systemd-debug-generator",
            "systemd-fstab-generator", "systemd-getty-generator", "systemd-gpt-auto-generator",
            "systemd-hibernate-resume-generator", "systemd-integritysetup-generator", "systemd-rc-local-generator",
            "systemd-run-generator", "systemd-system-update-generator", "systemd-sysv-generator",
            "systemd-veritysetup-generator", "systemd-bless-boot-generator", "systemd-import-generator",
            "systemd-tpm2-generator", "systemd-ssh-generator", "systemd-factory-reset-generator");

    private static final Duration DEBOOTSTRAP_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration CMD_TIMEOUT = Duration.ofMinutes(5);
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
    private static final Pattern DEB_LINE = Pattern.compile("^\\s*deb\\s+(?:\\[[^]]*]\\s+)?(\\S+)\\s+(\\S+)");
    private static final Pattern URIS_LINE = Pattern.compile("^\\s*URIs:\\s*(\\S+)", Pattern.CASE_INSENSITIVE);

    private final Path imagesDir;
    private final ImageCatalog catalog;
    private final KernelBuilder kernels;
    private final Path cacheDir;
    private final Path busybox;

    public DebianImageBuilder(Path imagesDir, ImageCatalog catalog) {
        this(imagesDir, catalog, new KernelBuilder(KernelBuilder.defaultCacheDir(), KernelBuilder.systemdFragment()), defaultCacheDir());
    }

    public DebianImageBuilder(Path imagesDir, ImageCatalog catalog, KernelBuilder kernels, Path cacheDir) {
        this.imagesDir = imagesDir.toAbsolutePath().normalize();
        this.catalog = catalog;
        this.kernels = kernels;
        this.cacheDir = cacheDir.toAbsolutePath().normalize();
        Path bb = Path.of("/bin/busybox");
        if (!Files.exists(bb) && Files.exists(Path.of("/usr/bin/busybox"))) bb = Path.of("/usr/bin/busybox");
        this.busybox = bb;
    }

    /** {@code $VMCTL_ROOTFS_CACHE}, else {@code rootfs} beside the kernel cache ({@code /var/cache/vmctl/rootfs} for root). */
    public static Path defaultCacheDir() {
        String o = System.getenv(CACHE_ENV);
        if (o != null && !o.isBlank()) return Path.of(o).toAbsolutePath().normalize();
        return KernelBuilder.defaultCacheDir().resolveSibling("rootfs");
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** The mirror of this host's apt sources (the first Debian one that is not the security archive), else deb.debian.org. */
    public static String hostMirror() {
        List<Path> files = new ArrayList<>();
        files.add(Path.of("/etc/apt/sources.list"));
        Path d = Path.of("/etc/apt/sources.list.d");
        if (Files.isDirectory(d)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                for (Path p : ds) files.add(p);
            } catch (IOException ignored) {
                // fall back to the default
            }
        }
        List<String> lines = new ArrayList<>();
        for (Path f : files) {
            try {
                if (Files.isRegularFile(f)) lines.addAll(Files.readAllLines(f));
            } catch (IOException ignored) {
                // unreadable: skip it
            }
        }
        return mirrorOf(lines).orElse(DEFAULT_MIRROR);
    }

    /** The first Debian archive URL in apt source lines (one-line or deb822 format), not the security archive. */
    static Optional<String> mirrorOf(List<String> lines) {
        for (String l : lines) {
            if (l.strip().startsWith("#")) continue;
            Matcher m = DEB_LINE.matcher(l);
            String url = null;
            if (m.find()) url = m.group(1);
            else {
                Matcher u = URIS_LINE.matcher(l);
                if (u.find()) url = u.group(1);
            }
            if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) continue;
            if (url.contains("security") || !url.replaceAll("/+$", "").endsWith("/debian")) continue;
            return Optional.of(url.replaceAll("/+$", ""));
        }
        return Optional.empty();
    }

    /** What goes into the root file system from vmctl itself (part of the cache key: a change rebuilds it). */
    static String guestFilesDigest() {
        try {
            return DebianRecipe.sha256(resource("systemd/vmctl-agent.service") + resource("systemd/guest-agent.sh")
                    + String.join(",", MASKED_UNITS) + String.join(",", MASKED_GENERATORS) + DebianRecipe.sha256(new String(IdentityHelper.binary(), StandardCharsets.ISO_8859_1)))
                    .substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cached root file system of this recipe, if it has been built. */
    public Optional<Path> cached(DebianRecipe recipe) {
        Path f = cacheDir.resolve(recipe.key(guestFilesDigest())).resolve(ROOTFS_FILE);
        return Files.isRegularFile(f) ? Optional.of(f) : Optional.empty();
    }

    /**
     * Builds the image {@code recipe.release().imageName} and puts it into the catalog.
     *
     * @param progress one line per step ("rootfs 3fa1…: found in cache", "debootstrap bookworm: 123 packages fetched (40 s)" …)
     * @throws VmctlException UNAVAILABLE when a host tool is missing (names the Debian package); INTERNAL when a step
     *                        fails (names the step, and for debootstrap its log file)
     */
    public ImageInfo build(DebianRecipe recipe, Consumer<String> progress) {
        Consumer<String> say = progress == null ? s -> { } : progress;
        String name = recipe.release().imageName;
        Path finalDir = imagesDir.resolve(name);
        ReentrantLock lock = LOCKS.computeIfAbsent(finalDir, k -> new ReentrantLock());
        lock.lock();
        try {
            return buildLocked(recipe, name, finalDir, say);
        } finally {
            lock.unlock();
        }
    }

    private ImageInfo buildLocked(DebianRecipe recipe, String name, Path finalDir, Consumer<String> say) {
        long t0 = System.nanoTime();
        step(name, "checking host tools", this::checkHost);
        Rootfs rootfs = step(name, "building the root file system", () -> rootfs(recipe, say));
        KernelBuilder.Kernel kernel = step(name, "building the vmctl kernel for systemd guests", () -> kernels.build(say));
        Path work = step(name, "creating build directory", () -> {
            Files.createDirectories(imagesDir);
            Path dir = Files.createTempDirectory(imagesDir, ".build-" + name + "-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        });
        boolean installed = false;
        try {
            Path vmlinux = work.resolve(TinyImageBuilder.KERNEL_FILE);
            Path initrd = work.resolve(TinyImageBuilder.INITRD_FILE);
            Path root = work.resolve(ROOTFS_FILE);
            step(name, "linking the kernel", () -> TinyImageBuilder.linkOrCopy(kernel.vmlinux(), vmlinux));
            step(name, "writing initramfs", () -> writeInitramfs(initrd, work.resolve("initramfs")));
            step(name, "linking the root file system", () -> linkOrCopyReadOnly(rootfs.file(), root));
            String os = "Debian " + recipe.release().version + " (" + recipe.release().suite + ") + vmctl kernel " + kernel.version();
            ImageInfo info = step(name, "computing checksums", () -> new ImageInfo(name, os, kernel.release(),
                    finalDir.resolve(TinyImageBuilder.KERNEL_FILE).toString(), FileTree.sha256(vmlinux),
                    finalDir.resolve(TinyImageBuilder.INITRD_FILE).toString(), FileTree.sha256(initrd),
                    finalDir.resolve(ROOTFS_FILE).toString(), rootfs.sha256(),
                    Files.size(vmlinux) + Files.size(initrd) + Files.size(root),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                    recipe.describe() + "; rootfs cache " + rootfs.key() + "; kernel " + kernel.key()));
            step(name, "installing image " + name, () -> install(work, finalDir));
            installed = true;
            step(name, "updating the catalog", () -> catalog.put(info));
            say.accept(String.format(Locale.ROOT, "built image %s (%s, rootfs %s%s, %d MiB) in %.1f s", name, os, rootfs.key(),
                    rootfs.cacheHit() ? " from cache" : "", info.sizeBytes() >> 20, (System.nanoTime() - t0) / 1e9));
            return info;
        } finally {
            if (!installed) {
                try {
                    FileTree.delete(work);
                } catch (IOException ignored) {
                    // a leftover .build-* directory is not in the catalog
                }
            }
        }
    }

    record Rootfs(Path file, String sha256, String key, boolean cacheHit) {}

    private void checkHost() {
        if (!Cmd.available("debootstrap")) throw missing("no debootstrap", "debootstrap");
        if (!Cmd.available("mkfs.ext4")) throw missing("no mkfs.ext4", "e2fsprogs");
        if (!Files.isRegularFile(busybox)) throw missing("no " + busybox, "busybox-static");
    }

    // ---------------------------------------------------------------- the root file system (cached by recipe)

    private Rootfs rootfs(DebianRecipe recipe, Consumer<String> say) throws IOException {
        String key = recipe.key(guestFilesDigest());
        Path dir = cacheDir.resolve(key);
        Files.createDirectories(cacheDir);
        try (FileChannel lf = FileChannel.open(cacheDir.resolve(key + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lf.lock()) {
            Path file = dir.resolve(ROOTFS_FILE);
            Path sha = dir.resolve("rootfs.sha256");
            if (Files.isRegularFile(file) && Files.isRegularFile(sha)) {
                say.accept("rootfs " + key + ": found in cache " + dir);
                return new Rootfs(file, Files.readString(sha).strip(), key, true);
            }
            // what a build of this key left behind when its process died (this one holds the key's lock now)
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(cacheDir, ".build-" + key + "-*")) {
                for (Path stale : ds) FileTree.delete(stale);
            }
            say.accept("rootfs " + key + ": not in cache " + cacheDir + ", building it (" + recipe.describe() + "; minutes)");
            Path work = Files.createTempDirectory(cacheDir, ".build-" + key + "-");
            try {
                Path tree = work.resolve("tree");
                Path log = work.resolve("debootstrap.log");
                debootstrap(recipe, tree, log, say);
                say.accept("tuning the root file system for a microVM");
                tune(tree, recipe);
                long mib = recipe.sizeMiB() > 0 ? recipe.sizeMiB() : autoSizeMiB(tree);
                say.accept("writing ext4 (" + mib + " MiB, mkfs.ext4 -d, no loop mount)");
                Path img = work.resolve(ROOTFS_FILE);
                CmdResult r = Cmd.run(mkfsArgv(tree, img, mib), null, null, CMD_TIMEOUT);
                if (!r.ok()) {
                    throw new VmctlException(Kind.INTERNAL, "mkfs.ext4 failed (exit " + r.exitCode() + "): " + r.stderrTail()
                            + (recipe.sizeMiB() > 0 ? " (is --size " + mib + "M big enough for the packages?)" : ""), null);
                }
                FileTree.delete(tree);
                say.accept("computing the root file system's SHA-256");
                Files.writeString(work.resolve("rootfs.sha256"), FileTree.sha256(img) + "\n");
                Files.writeString(work.resolve("recipe"), recipe.canonical(guestFilesDigest()));
                Files.setPosixFilePermissions(img, PosixFilePermissions.fromString("r--r--r--"));
                if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) FileTree.delete(dir);
                Files.move(work, dir, StandardCopyOption.ATOMIC_MOVE);
                return new Rootfs(file, Files.readString(sha).strip(), key, false);
            } finally {
                if (Files.exists(work)) FileTree.delete(work);
            }
        }
    }

    /** mkfs.ext4's argv: the tree copied in by mke2fs itself ({@code -d}), owned by root, label vmctl-root. */
    static List<String> mkfsArgv(Path tree, Path img, long mib) {
        return List.of("mkfs.ext4", "-q", "-F", "-L", "vmctl-root", "-E", "root_owner=0:0", "-d", tree.toString(),
                img.toString(), mib + "M");
    }

    /** The tree's size plus 30 % and 128 MiB for the guest to write to (a VM's {@code --disk} grows its own disk). */
    static long autoSizeMiB(long treeBytes) {
        long mib = (treeBytes + (1 << 20) - 1) >> 20;
        return Math.max(DebianRecipe.MIN_SIZE_MIB, mib * 13 / 10 + 128);
    }

    static long autoSizeMiB(Path tree) throws IOException {
        long[] total = {0};
        try (var s = Files.walk(tree)) {
            s.forEach(p -> {
                try {
                    if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) total[0] += Files.size(p) + 4096;
                    else total[0] += 4096;
                } catch (IOException ignored) {
                    // vanished: not counted
                }
            });
        }
        return autoSizeMiB(total[0]);
    }

    /** debootstrap's argv (no shell; every value is its own word). */
    static List<String> debootstrapArgv(DebianRecipe recipe, Path tree) {
        return List.of("debootstrap", "--variant=minbase", "--include=" + String.join(",", recipe.includes()),
                recipe.release().suite, tree.toString(), recipe.mirror());
    }

    private void debootstrap(DebianRecipe recipe, Path tree, Path log, Consumer<String> say) {
        List<String> argv = debootstrapArgv(recipe, tree);
        say.accept("debootstrap " + recipe.release().suite + " from " + recipe.mirror() + " (log " + log + ")");
        AtomicBoolean done = new AtomicBoolean();
        long t0 = System.nanoTime();
        Thread watcher = Thread.ofVirtual().start(() -> {
            Path debs = tree.resolve("var/cache/apt/archives");
            while (!done.get()) {
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException e) {
                    return;
                }
                if (done.get()) return;
                say.accept(String.format(Locale.ROOT, "debootstrap %s: %d packages fetched, %s (%.0f s)", recipe.release().suite,
                        countDebs(debs), Files.exists(tree.resolve("var/lib/dpkg/status")) ? "installing" : "downloading",
                        (System.nanoTime() - t0) / 1e9));
            }
        });
        CmdResult r;
        try {
            r = Cmd.run(argv, null, log, DEBOOTSTRAP_TIMEOUT);
        } finally {
            done.set(true);
            watcher.interrupt();
        }
        if (!r.ok()) {
            String tail = "";
            try {
                Path inner = tree.resolve("debootstrap/debootstrap.log");
                List<String> l = Files.isRegularFile(inner) ? Files.readAllLines(inner) : Files.readAllLines(log);
                tail = String.join("\n", l.subList(Math.max(0, l.size() - 8), l.size()));
            } catch (IOException ignored) {
                // no log to show
            }
            throw new VmctlException(Kind.INTERNAL, "debootstrap " + recipe.release().suite + " failed (exit " + r.exitCode() + "): "
                    + r.stderrTail() + (recipe.packages().isEmpty() ? "" : " (are the packages " + String.join(",", recipe.packages())
                    + " in " + recipe.release().suite + "?)"), tail);
        }
        say.accept(String.format(Locale.ROOT, "debootstrap %s done in %.0f s", recipe.release().suite, (System.nanoTime() - t0) / 1e9));
    }

    private static long countDebs(Path dir) {
        if (!Files.isDirectory(dir)) return 0;
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".deb")).count();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * What makes the debootstrapped tree a vmctl guest: documentation, man pages, locales and apt's caches removed; an
     * empty machine-id (each VM's disk gets its own on its first boot) and fstab (the initramfs mounts the root);
     * {@link #MASKED_UNITS}; a volatile journal; vmctl's agent unit; vmctl-identity (the CRNG reseed of clones).
     */
    static void tune(Path tree, DebianRecipe recipe) throws IOException {
        for (String d : List.of("usr/share/doc", "usr/share/man", "usr/share/info", "var/cache/apt/archives", "var/lib/apt/lists")) {
            Path p = tree.resolve(d);
            if (Files.isDirectory(p)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                    for (Path c : ds) if (Files.isDirectory(c, LinkOption.NOFOLLOW_LINKS)) {
                        if (!c.getFileName().toString().equals("partial")) FileTree.delete(c);
                    } else Files.delete(c);
                }
            }
        }
        Path locale = tree.resolve("usr/share/locale");
        if (Files.isDirectory(locale)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(locale)) {
                for (Path c : ds) if (!c.getFileName().toString().startsWith("C") && !c.getFileName().toString().equals("locale.alias")) FileTree.delete(c);
            }
        }
        for (String f : List.of("var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin", "var/lib/dbus/machine-id")) {
            Files.deleteIfExists(tree.resolve(f));
        }
        write(tree, "etc/machine-id", "", "r--r--r--");
        write(tree, "etc/fstab", "# vmctl: the initramfs mounts the root disk (/dev/vda) read-write\n", "rw-r--r--");
        write(tree, "etc/hostname", "debian\n", "rw-r--r--");
        write(tree, "etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n", "rw-r--r--");
        Path units = tree.resolve("etc/systemd/system");
        Files.createDirectories(units);
        for (String u : MASKED_UNITS) {
            Path l = units.resolve(u);
            Files.deleteIfExists(l);
            Files.createSymbolicLink(l, Path.of("/dev/null"));
        }
        Path gens = tree.resolve("etc/systemd/system-generators");
        Files.createDirectories(gens);
        for (String g : MASKED_GENERATORS) {
            Path l = gens.resolve(g);
            Files.deleteIfExists(l);
            Files.createSymbolicLink(l, Path.of("/dev/null"));
        }
        Path dflt = units.resolve("default.target");
        Files.deleteIfExists(dflt);
        Files.createSymbolicLink(dflt, Path.of("/lib/systemd/system/multi-user.target"));
        // the journal is masked (above); should a user unmask it, it stays in RAM
        write(tree, "etc/systemd/journald.conf.d/vmctl.conf", "[Journal]\nStorage=volatile\nRuntimeMaxUse=8M\n", "rw-r--r--");
        // quiet systemd on the console: the console log stays readable; vmctl reads readiness from the agent
        write(tree, "etc/systemd/system.conf.d/vmctl.conf", "[Manager]\nShowStatus=no\nDefaultTimeoutStopSec=5s\n", "rw-r--r--");
        write(tree, "etc/systemd/system/vmctl-agent.service", resource("systemd/vmctl-agent.service"), "rw-r--r--");
        write(tree, "usr/lib/vmctl/guest-agent", resource("systemd/guest-agent.sh"), "rwxr-xr-x");
        Path wants = units.resolve("sysinit.target.wants");
        Files.createDirectories(wants);
        Files.deleteIfExists(wants.resolve("vmctl-agent.service"));
        Files.createSymbolicLink(wants.resolve("vmctl-agent.service"), Path.of("/etc/systemd/system/vmctl-agent.service"));
        Path helper = tree.resolve(IdentityHelper.GUEST_PATH);
        Files.createDirectories(helper.getParent());
        Files.write(helper, IdentityHelper.binary());
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
        write(tree, "etc/vmctl-image", "name=" + recipe.release().imageName + "\nrecipe=" + recipe.describe() + "\n", "rw-r--r--");
        // passwordless root on the console is not set: vmctl reaches the guest through its agent only
    }

    // ---------------------------------------------------------------- the initramfs (busybox + switch_root)

    private void writeInitramfs(Path initrd, Path root) throws IOException {
        writeRootDiskInitramfs(busybox, initrd, root);
    }

    /**
     * vmctl's initramfs for VMs that boot from a disk: busybox (static) and {@code rootdisk-init.sh} as /init, built in
     * {@code root} (removed afterwards) and written to {@code initrd} as an uncompressed cpio.
     */
    static void writeRootDiskInitramfs(Path initrd, Path root) throws IOException {
        Path bb = Path.of("/bin/busybox");
        if (!Files.exists(bb) && Files.exists(Path.of("/usr/bin/busybox"))) bb = Path.of("/usr/bin/busybox");
        if (!Files.isRegularFile(bb)) throw missing("no " + bb, "busybox-static");
        writeRootDiskInitramfs(bb, initrd, root);
    }

    private static void writeRootDiskInitramfs(Path busybox, Path initrd, Path root) throws IOException {
        for (String d : List.of("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "newroot", "tmp", "run")) {
            Files.createDirectories(root.resolve(d));
        }
        Path bb = root.resolve("bin/busybox");
        Files.copy(busybox, bb, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(bb, PosixFilePermissions.fromString("rwxr-xr-x"));
        CmdResult r = Cmd.run(List.of(busybox.toString(), "--list-full"), null, null, CMD_TIMEOUT).orThrow();
        for (String line : r.stdout().split("\n")) {
            String applet = line.strip();
            if (applet.isEmpty() || applet.equals("bin/busybox") || applet.equals("linuxrc") || applet.contains("..")
                    || applet.startsWith("/")) continue;
            Path p = root.resolve(applet);
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) continue;
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, Path.of("/bin/busybox"));
        }
        write(root, "init", resource("rootdisk-init.sh"), "rwxr-xr-x");
        // the init runs it from a copy in the disk's /run (clones' and warm VMs' identity without fork or exec)
        Path helper = root.resolve(IdentityHelper.GUEST_PATH);
        Files.write(helper, IdentityHelper.binary());
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (CpioWriter w = new CpioWriter(Files.newOutputStream(initrd))) {
            w.writeTree(root);
            w.charDevice("dev/console", 0600, 5, 1);
        }
        FileTree.delete(root);
    }

    // ---------------------------------------------------------------- helpers

    /** A hard link (the cache and the images on one file system), else a copy; read-only either way. */
    static void linkOrCopyReadOnly(Path src, Path dst) throws IOException {
        try {
            Files.createLink(dst, src);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("r--r--r--"));
        }
    }

    private static void install(Path work, Path finalDir) throws IOException {
        Path old = null;
        if (Files.exists(finalDir, LinkOption.NOFOLLOW_LINKS)) {
            old = Files.createTempDirectory(finalDir.getParent(), ".old-" + finalDir.getFileName() + "-");
            Files.delete(old);
            Files.move(finalDir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(work, finalDir, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) FileTree.delete(old);
    }

    static String resource(String name) throws IOException {
        try (InputStream in = DebianImageBuilder.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("resource " + name + " missing from the vmctl-image jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void write(Path root, String rel, String content, String mode) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(p)) Files.delete(p);
        Files.deleteIfExists(p);
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    private static VmctlException missing(String what, String pkg) {
        return new VmctlException(Kind.UNAVAILABLE, what + " (install the Debian package " + pkg + ")", "apt-get install " + pkg);
    }

    @FunctionalInterface
    private interface Step<T> {
        T run() throws Exception;
    }

    @FunctionalInterface
    private interface VoidStep {
        void run() throws Exception;
    }

    private static void step(String image, String what, VoidStep s) {
        step(image, what, () -> {
            s.run();
            return null;
        });
    }

    private static <T> T step(String image, String what, Step<T> s) {
        String prefix = "build image " + image + ": " + what + ": ";
        try {
            return s.run();
        } catch (VmctlException e) {
            throw new VmctlException(e.kind() == Kind.UNAVAILABLE ? Kind.UNAVAILABLE : Kind.INTERNAL, prefix + e.getMessage(), e.detail(), e);
        } catch (CmdException | IOException | UncheckedIOException e) {
            throw new VmctlException(Kind.INTERNAL, prefix + e.getMessage(), null, e);
        } catch (Exception e) {
            throw new VmctlException(Kind.INTERNAL, prefix + e, null, e);
        }
    }
}
