package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.FileTree;
import dev.vmctl.host.CmdException;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the default image ("tiny"): a kernel and an uncompressed cpio initramfs holding busybox
 * (static), qemu-ga, iproute2's tc and {@code /init} (resource {@code init.sh}), all from the Debian
 * packages installed on the host, and {@code /usr/sbin/vmctl-identity} ({@link IdentityHelper}: restored clones
 * get their host name, machine-id, clock and a reseeded CRNG from it). The kernel is one of two {@link KernelFlavor}s:
 * <ul>
 * <li>{@link KernelFlavor#VMCTL} (the default): the vmctl guest kernel, built from Debian's
 *     linux-source-6.1 with everything built in, or taken from {@link KernelBuilder}'s cache. The
 *     initramfs carries no modules (its load-order is empty).</li>
 * <li>{@link KernelFlavor#DEBIAN}: the kernel of {@code linux-image-cloud-amd64} (extracted to an ELF
 *     vmlinux for a direct PVH boot); the initramfs carries the modules of {@link #DEBIAN_MODULES} and
 *     their dependencies, loaded by /init.</li>
 * </ul>
 * Result: {@code IMAGES_DIR/NAME/vmlinux} and {@code IMAGES_DIR/NAME/initrd.cpio}, entered in the
 * {@link ImageCatalog}.
 *
 * <p>The image is built in a temporary directory beside its final place and moved there only when
 * complete, so a failed build never leaves a half image behind or in the catalog. A rebuild replaces
 * the old image. Builds of the same image name are serialised.
 */
public final class TinyImageBuilder {
    public static final String DEFAULT_NAME = "tiny";
    public static final String KERNEL_FILE = "vmlinux";
    public static final String INITRD_FILE = "initrd.cpio";
    /**
     * Debian flavour: loaded by /init in this order, after their dependencies (resolved with modinfo).
     * virtio_pci drives NICs on the PCIe root ports (at boot and hot-plugged; pciehp is built into the
     * cloud kernel). sch_ingress, cls_matchall, act_mirred and ifb impair what the guest receives (eth0's
     * ingress redirected to an ifb with netem on it).
     */
    public static final List<String> DEBIAN_MODULES = List.of(
            "virtio_ring", "virtio", "virtio_mmio", "virtio_pci", "failover", "net_failover", "virtio_net", "virtio_blk",
            "virtio_console", "virtio_rng", "sch_netem", "sch_ingress", "cls_matchall", "act_mirred", "ifb", "evdev", "button");

    private static final Duration CMD_TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern CLOUD_KERNEL = Pattern.compile("vmlinuz-(.+-cloud-amd64)");
    private static final ConcurrentHashMap<Path, ReentrantLock> BUILD_LOCKS = new ConcurrentHashMap<>();

    /** Where the ingredients lie on the host (Debian paths by default; tests point them elsewhere). */
    record HostFiles(Path bootDir, Path modulesDir, Path busybox, Path qemuGa, Path tc, Path tcLibDir) {
        static HostFiles debian() {
            Path tc = Path.of("/usr/sbin/tc");
            if (!Files.exists(tc) && Files.exists(Path.of("/sbin/tc"))) tc = Path.of("/sbin/tc");
            Path busybox = Path.of("/bin/busybox");
            if (!Files.exists(busybox) && Files.exists(Path.of("/usr/bin/busybox"))) busybox = Path.of("/usr/bin/busybox");
            return new HostFiles(Path.of("/boot"), Path.of("/lib/modules"), busybox, Path.of("/usr/sbin/qemu-ga"),
                    tc, Path.of("/usr/lib/x86_64-linux-gnu/tc"));
        }
    }

    private final Path imagesDir;
    private final ImageCatalog catalog;
    private final HostFiles host;
    private final KernelBuilder kernels;

    /** Images in imagesDir; the vmctl kernel from the default cache ({@link KernelBuilder#defaultCacheDir()}). */
    public TinyImageBuilder(Path imagesDir) {
        this(imagesDir, new ImageCatalog(imagesDir));
    }

    public TinyImageBuilder(Path imagesDir, ImageCatalog catalog) {
        this(imagesDir, catalog, new KernelBuilder());
    }

    /** @param kernels builds or finds the vmctl kernel (its cache directory and fragment) */
    public TinyImageBuilder(Path imagesDir, ImageCatalog catalog, KernelBuilder kernels) {
        this(imagesDir, catalog, HostFiles.debian(), kernels);
    }

    TinyImageBuilder(Path imagesDir, ImageCatalog catalog, HostFiles host) {
        this(imagesDir, catalog, host, new KernelBuilder());
    }

    TinyImageBuilder(Path imagesDir, ImageCatalog catalog, HostFiles host, KernelBuilder kernels) {
        this.imagesDir = imagesDir.toAbsolutePath().normalize();
        this.catalog = catalog;
        this.host = host;
        this.kernels = kernels;
    }

    /** Builds (or rebuilds) the image {@code name} with the vmctl kernel: {@code build(name, KernelFlavor.VMCTL, progress)}. */
    public ImageInfo build(String name, Consumer<String> progress) {
        return build(name, KernelFlavor.VMCTL, progress);
    }

    /**
     * Builds (or rebuilds) the image {@code name} and puts it into the catalog.
     *
     * @param flavor   which kernel: VMCTL builds the vmctl kernel once (minutes) and then takes it from
     *                 its cache (see {@link KernelBuilder}); DEBIAN takes the host's cloud kernel
     * @param progress receives one line per step ("building the vmctl kernel", "kernel: compiling vmlinux: 40% ...",
     *                 "extracting kernel 6.1.0-56-cloud-amd64", ...); may be null
     * @throws VmctlException INVALID for a bad name; UNAVAILABLE when a host package is missing (the
     *                        message names it); INTERNAL when a step fails (the message names the step,
     *                        and for the kernel build the log file)
     */
    public ImageInfo build(String name, KernelFlavor flavor, Consumer<String> progress) {
        Names.check("image name", name);
        if (flavor == null) throw VmctlException.invalid("kernel", "no kernel flavour", "vmctl, debian");
        Consumer<String> say = progress == null ? s -> { } : progress;
        Path finalDir = imagesDir.resolve(name);
        ReentrantLock lock = BUILD_LOCKS.computeIfAbsent(finalDir, d -> new ReentrantLock());
        lock.lock();
        try {
            return buildLocked(name, flavor, finalDir, say);
        } finally {
            lock.unlock();
        }
    }

    /** "busybox + vmctl kernel 6.1.192", "busybox + Debian cloud kernel 6.1.0-56-cloud-amd64". */
    static String os(KernelFlavor flavor, String version) {
        return "busybox + " + (flavor == KernelFlavor.VMCTL ? "vmctl kernel " : "Debian cloud kernel ") + version;
    }

    private ImageInfo buildLocked(String name, KernelFlavor flavor, Path finalDir, Consumer<String> say) {
        long t0 = System.nanoTime();
        Build b = new Build(name, say);
        String cloudKver = b.step("checking host packages", () -> checkHost(flavor));
        Path work = b.step("creating build directory", () -> {
            Files.createDirectories(imagesDir);
            Path dir = Files.createTempDirectory(imagesDir, ".build-" + name + "-");
            setMode(dir, "rwxr-xr-x");
            return dir;
        });
        boolean installed = false;
        try {
            Path vmlinux = work.resolve(KERNEL_FILE);
            Path initrd = work.resolve(INITRD_FILE);
            Path root = work.resolve("root");
            String kver;
            String os;
            if (flavor == KernelFlavor.VMCTL) {
                KernelBuilder.Kernel k = b.step("building the vmctl kernel", () -> kernels.build(say));
                b.step("building the vmctl kernel", () -> linkOrCopy(k.vmlinux(), vmlinux));
                kver = k.release();
                os = os(flavor, k.version());
            } else {
                kver = cloudKver;
                os = os(flavor, kver);
                b.step("extracting kernel " + kver, () -> VmlinuxExtractor.extract(host.bootDir().resolve("vmlinuz-" + cloudKver), vmlinux));
            }
            b.step("creating the file tree", () -> skeleton(root));
            b.step("adding busybox", () -> addBusybox(root));
            if (flavor == KernelFlavor.DEBIAN) {
                b.step("adding modules", () -> addModules(root, cloudKver));
            } else {
                b.step("adding modules", () -> Files.writeString(root.resolve("lib/modules/load-order"), "")); // all built in
            }
            b.step("adding qemu-ga", () -> copyWithLibraries(root, host.qemuGa(), "usr/sbin/qemu-ga"));
            b.step("adding tc", () -> addTc(root));
            b.step("adding vmctl-identity", () -> {
                Path tool = root.resolve(IdentityHelper.GUEST_PATH);
                Files.write(tool, IdentityHelper.binary());
                setMode(tool, "rwxr-xr-x");
            });
            b.step("adding init and configuration", () -> addConfig(root, name, os));
            b.step("writing initramfs", () -> {
                try (CpioWriter w = new CpioWriter(Files.newOutputStream(initrd))) {
                    w.writeTree(root);
                    w.charDevice("dev/console", 0600, 5, 1);
                }
                FileTree.delete(root);
            });
            String kernelSha = b.step("computing checksums", () -> FileTree.sha256(vmlinux));
            String initrdSha = b.step("computing checksums", () -> FileTree.sha256(initrd));
            long size = b.step("computing checksums", () -> Files.size(vmlinux) + Files.size(initrd));
            ImageInfo info = new ImageInfo(name, os, kver,
                    finalDir.resolve(KERNEL_FILE).toString(), kernelSha,
                    finalDir.resolve(INITRD_FILE).toString(), initrdSha,
                    null, null, size, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            b.step("installing image " + name, () -> install(work, finalDir));
            installed = true;
            b.step("updating the catalog", () -> catalog.put(info));
            say.accept(String.format(Locale.ROOT, "built image %s (kernel %s, %d MiB) in %.1f s",
                    name, kver, size >> 20, (System.nanoTime() - t0) / 1e9));
            return info;
        } finally {
            if (!installed) {
                try {
                    FileTree.delete(work);
                } catch (IOException ignored) {
                    // best effort: a leftover .build-* directory is not in the catalog
                }
            }
        }
    }

    // ---- steps ----

    /**
     * Checks that every ingredient is installed; returns the cloud kernel version to use (DEBIAN), or null
     * (VMCTL: the kernel builder checks its own tools).
     */
    private String checkHost(KernelFlavor flavor) throws IOException {
        String kver = null;
        if (flavor == KernelFlavor.DEBIAN) {
            kver = newestCloudKernel(host.bootDir()).orElseThrow(() -> missing(
                    "no " + host.bootDir() + "/vmlinuz-*-cloud-amd64 kernel", "linux-image-cloud-amd64"));
            if (!Files.isDirectory(host.modulesDir().resolve(kver))) {
                throw missing("no modules for kernel " + kver + " in " + host.modulesDir(), "linux-image-cloud-amd64");
            }
        }
        if (!Files.isRegularFile(host.busybox())) throw missing("no " + host.busybox(), "busybox-static");
        if (Elf.read(host.busybox()).interpreter()) {
            throw missing(host.busybox() + " is dynamically linked", "busybox-static");
        }
        if (!Files.isRegularFile(host.qemuGa())) throw missing("no " + host.qemuGa(), "qemu-guest-agent");
        if (!Files.isRegularFile(host.tc())) throw missing("no " + host.tc(), "iproute2");
        if (flavor == KernelFlavor.DEBIAN && !Cmd.available("modinfo")) throw missing("no modinfo", "kmod");
        if (!Cmd.available("ldd")) throw missing("no ldd", "libc-bin");
        return kver;
    }

    /** The newest {@code vmlinuz-*-cloud-amd64} in bootDir, by version (not by date). */
    static Optional<String> newestCloudKernel(Path bootDir) throws IOException {
        if (!Files.isDirectory(bootDir)) return Optional.empty();
        List<String> versions = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(bootDir, "vmlinuz-*")) {
            for (Path p : ds) {
                Matcher m = CLOUD_KERNEL.matcher(p.getFileName().toString());
                if (m.matches() && Files.isRegularFile(p)) versions.add(m.group(1));
            }
        }
        return versions.stream().max(TinyImageBuilder::compareVersions);
    }

    /** Compares "6.1.0-56-cloud-amd64" style versions: numbers numerically, the rest as text. */
    static int compareVersions(String a, String b) {
        Matcher ma = Pattern.compile("\\d+|\\D+").matcher(a);
        Matcher mb = Pattern.compile("\\d+|\\D+").matcher(b);
        while (true) {
            boolean ha = ma.find();
            boolean hb = mb.find();
            if (!ha || !hb) return Boolean.compare(ha, hb);
            String x = ma.group();
            String y = mb.group();
            int c;
            if (Character.isDigit(x.charAt(0)) && Character.isDigit(y.charAt(0))) {
                String xs = x.replaceFirst("^0+(?=.)", "");
                String ys = y.replaceFirst("^0+(?=.)", "");
                c = xs.length() != ys.length() ? Integer.compare(xs.length(), ys.length()) : xs.compareTo(ys);
            } else {
                c = x.compareTo(y);
            }
            if (c != 0) return c;
        }
    }

    private static void skeleton(Path root) throws IOException {
        for (String d : List.of("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "run", "root",
                "mnt", "etc/acpi/PWRF", "lib/modules", "lib64", "var/log")) {
            Files.createDirectories(root.resolve(d));
        }
        setMode(root.resolve("tmp"), "rwxrwxrwx"); // the sticky bit comes with the tmpfs init mounts here
        setMode(root.resolve("root"), "rwx------");
        Files.createSymbolicLink(root.resolve("var/run"), Path.of("../run"));
        Files.createSymbolicLink(root.resolve("var/tmp"), Path.of("../tmp"));
    }

    private void addBusybox(Path root) throws IOException {
        copyFile(host.busybox(), root.resolve("bin/busybox"), "rwxr-xr-x");
        CmdResult r = Cmd.run(List.of(host.busybox().toString(), "--list-full"), null, null, CMD_TIMEOUT).orThrow();
        for (String line : r.stdout().split("\n")) {
            String applet = line.strip();
            if (applet.isEmpty() || applet.equals("bin/busybox") || applet.equals("linuxrc")) continue;
            if (applet.endsWith("/tc")) continue; // busybox tc has no netem: iproute2's tc takes its place
            if (applet.contains("..") || applet.startsWith("/")) continue;
            link(root, applet, "/bin/busybox");
        }
        link(root, "sbin/hwclock", "/bin/busybox"); // qemu-ga's guest-set-time runs /sbin/hwclock
    }

    private void addModules(Path root, String kver) throws IOException {
        LinkedHashMap<String, Path> order = new LinkedHashMap<>();
        Set<String> builtin = new LinkedHashSet<>();
        for (String m : DEBIAN_MODULES) resolveModule(kver, m, order, builtin, new LinkedHashSet<>());
        Path dir = root.resolve("lib/modules");
        StringBuilder loadOrder = new StringBuilder();
        for (var e : order.entrySet()) {
            Path out = dir.resolve(e.getKey() + ".ko");
            String src = e.getValue().toString();
            if (src.endsWith(".ko")) {
                copyFile(e.getValue(), out, "rw-r--r--");
            } else {
                List<String> argv;
                if (src.endsWith(".ko.xz")) argv = List.of("xz", "-dc", src);
                else if (src.endsWith(".ko.zst")) argv = List.of("zstd", "-dcq", src);
                else if (src.endsWith(".ko.gz")) argv = List.of("gzip", "-dc", src);
                else throw new IOException("unknown module file type: " + src);
                if (!Cmd.available(argv.getFirst())) {
                    throw missing("module " + src + " needs " + argv.getFirst(),
                            argv.getFirst().equals("xz") ? "xz-utils" : argv.getFirst());
                }
                Cmd.run(argv, null, out, CMD_TIMEOUT).orThrow();
            }
            loadOrder.append(e.getKey()).append('\n');
        }
        Files.writeString(dir.resolve("load-order"), loadOrder);
    }

    /** Depth-first: dependencies first, each module once. Built-in modules need no loading. */
    private void resolveModule(String kver, String module, LinkedHashMap<String, Path> order, Set<String> builtin,
                               Set<String> path) {
        String m = module.replace('-', '_');
        if (order.containsKey(m) || builtin.contains(m)) return;
        if (!path.add(m)) throw new IllegalStateException("module dependency cycle: " + path + " -> " + m);
        CmdResult file = Cmd.run(List.of("modinfo", "-k", kver, "-n", m), null, null, CMD_TIMEOUT);
        if (!file.ok()) {
            throw new VmctlException(Kind.INTERNAL, "module " + m + " not found for kernel " + kver, file.stderrTail());
        }
        String f = file.stdout().strip();
        if (f.equals("(builtin)")) {
            builtin.add(m);
            return;
        }
        String deps = Cmd.run(List.of("modinfo", "-k", kver, "-F", "depends", m), null, null, CMD_TIMEOUT)
                .orThrow().stdout().strip();
        if (!deps.isEmpty()) {
            for (String d : deps.split(",")) {
                if (!d.isBlank()) resolveModule(kver, d.strip(), order, builtin, path);
            }
        }
        path.remove(m);
        order.put(m, Path.of(f));
    }

    private void addTc(Path root) throws IOException {
        copyWithLibraries(root, host.tc(), "usr/sbin/tc");
        link(root, "sbin/tc", "/usr/sbin/tc");
        Path tcLib = host.tcLibDir();
        if (tcLib != null && Files.isDirectory(tcLib)) {
            Path dst = root.resolve("usr/lib/x86_64-linux-gnu/tc");
            Files.createDirectories(dst);
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(tcLib)) {
                for (Path p : ds) {
                    if (Files.isRegularFile(p)) copyFile(p, dst.resolve(p.getFileName()), "rw-r--r--");
                }
            }
        }
    }

    /** Copies an ELF binary to {@code target} (relative to root) and every library ldd names, at the same paths. */
    private static void copyWithLibraries(Path root, Path binary, String target) throws IOException {
        copyFile(binary, root.resolve(target), "rwxr-xr-x");
        CmdResult r = Cmd.run(List.of("ldd", binary.toString()), null, null, CMD_TIMEOUT);
        if (!r.ok()) {
            if (r.stdout().contains("not a dynamic executable") || r.stderr().contains("not a dynamic executable")) return;
            r.orThrow();
        }
        for (String lib : parseLdd(r.stdout())) {
            Path dst = root.resolve(lib.substring(1));
            if (!Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) copyFile(Path.of(lib), dst, "rwxr-xr-x");
        }
    }

    /** The absolute library paths in ldd output (including the loader); throws when one is "not found". */
    static List<String> parseLdd(String out) throws IOException {
        List<String> libs = new ArrayList<>();
        for (String raw : out.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) continue;
            int arrow = line.indexOf("=>");
            if (arrow >= 0) {
                String rest = line.substring(arrow + 2).strip();
                if (rest.startsWith("not found")) throw new IOException("library " + line.substring(0, arrow).strip() + " not found");
                int sp = rest.indexOf(' ');
                String p = sp < 0 ? rest : rest.substring(0, sp);
                if (p.startsWith("/")) libs.add(p);
            } else if (line.startsWith("/")) {
                int sp = line.indexOf(' ');
                libs.add(sp < 0 ? line : line.substring(0, sp));
            }
        }
        return libs;
    }

    private static void addConfig(Path root, String imageName, String os) throws IOException {
        write(root, "init", resource("init.sh"), "rwxr-xr-x");
        write(root, "sbin/shutdown", """
                #!/bin/sh
                # vmctl: qemu-ga's guest-shutdown runs "shutdown -h -P|-r|-H +0 MESSAGE".
                action=poweroff
                for a in "$@"; do
                    case "$a" in
                        -r) action=reboot ;;
                        -H) action=halt ;;
                        -P) action=poweroff ;;
                    esac
                done
                echo "vmctl: shutdown: $action" >/dev/console
                sync
                case "$action" in
                    reboot) exec reboot -f ;;
                    halt) exec halt -f ;;
                    *) exec poweroff -f ;;
                esac
                """, "rwxr-xr-x");
        // busybox acpid runs /etc/acpi/PWRF/00000080 for the ACPI power button (QMP system_powerdown)
        write(root, "etc/acpi/PWRF/00000080", """
                #!/bin/sh
                echo "vmctl: ACPI power button: powering off" >/dev/console
                sync
                poweroff -f
                """, "rwxr-xr-x");
        write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", "rw-r--r--");
        write(root, "etc/group", "root:x:0:\ntty:x:5:\n", "rw-r--r--");
        write(root, "etc/shadow", "root:*:0:0:99999:7:::\n", "rw-------");
        write(root, "etc/hostname", "vmctl\n", "rw-r--r--");
        write(root, "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n", "rw-r--r--");
        write(root, "etc/shells", "/bin/sh\n", "rw-r--r--");
        write(root, "etc/os-release", """
                NAME="vmctl tiny"
                ID=vmctl-tiny
                ID_LIKE=debian
                PRETTY_NAME="vmctl %s: %s"
                VERSION_ID=1
                """.formatted(imageName, os), "rw-r--r--");
    }

    /** A hard link to the cached kernel when the cache is on the same file system, else a copy. */
    static void linkOrCopy(Path src, Path dst) throws IOException {
        try {
            Files.createLink(dst, src);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
        }
        setMode(dst, "rw-r--r--");
    }

    private static void install(Path work, Path finalDir) throws IOException {
        Path old = null;
        if (Files.exists(finalDir, LinkOption.NOFOLLOW_LINKS)) {
            old = Files.createTempDirectory(finalDir.getParent(), ".old-" + finalDir.getFileName() + "-");
            Files.delete(old);
            Files.move(finalDir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(work, finalDir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (old != null) Files.move(old, finalDir, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        if (old != null) FileTree.delete(old);
    }

    // ---- helpers ----

    private static String resource(String name) throws IOException {
        try (InputStream in = TinyImageBuilder.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("resource " + name + " missing from the vmctl-image jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void write(Path root, String rel, String content, String mode) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        setMode(p, mode);
    }

    private static void copyFile(Path src, Path dst, String mode) throws IOException {
        Files.createDirectories(dst.getParent());
        Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING); // follows symlinks: the content is copied
        setMode(dst, mode);
    }

    private static void link(Path root, String rel, String target) throws IOException {
        Path p = root.resolve(rel);
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        Files.createDirectories(p.getParent());
        Files.createSymbolicLink(p, Path.of(target));
    }

    private static void setMode(Path p, String rwx) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(rwx));
    }

    private static VmctlException missing(String what, String debianPackage) {
        return new VmctlException(Kind.UNAVAILABLE, what + " (install the Debian package " + debianPackage + ")",
                "apt-get install " + debianPackage);
    }

    // ---- step runner: names the failed step in the exception ----

    @FunctionalInterface
    private interface Step<T> {
        T run() throws Exception;
    }

    @FunctionalInterface
    private interface VoidStep {
        void run() throws Exception;
    }

    private static final class Build {
        private final String name;
        private final Consumer<String> say;
        private String last;

        Build(String name, Consumer<String> say) {
            this.name = name;
            this.say = say;
        }

        void step(String what, VoidStep s) {
            step(what, () -> {
                s.run();
                return null;
            });
        }

        <T> T step(String what, Step<T> s) {
            if (!what.equals(last)) say.accept(what);
            last = what;
            String prefix = "build image " + name + ": " + what + ": ";
            try {
                return s.run();
            } catch (VmctlException e) {
                throw new VmctlException(e.kind() == Kind.UNAVAILABLE ? Kind.UNAVAILABLE : Kind.INTERNAL,
                        prefix + e.getMessage(), e.detail(), e);
            } catch (CmdException e) {
                throw new VmctlException(Kind.INTERNAL, prefix + e.getMessage(), null, e);
            } catch (IOException | UncheckedIOException e) {
                throw new VmctlException(Kind.INTERNAL, prefix + e.getMessage(), null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmctlException(Kind.INTERNAL, prefix + "interrupted", null, e);
            } catch (Exception e) {
                throw new VmctlException(Kind.INTERNAL, prefix + e, null, e);
            }
        }
    }
}
