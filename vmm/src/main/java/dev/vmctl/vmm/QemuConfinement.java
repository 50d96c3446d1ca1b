package dev.vmctl.vmm;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * How vmctl confines its QEMU processes: a seccomp filter ({@code -sandbox} {@value #SANDBOX}) and an unprivileged
 * user ({@value #DEFAULT_USER}, made by {@code scripts/install-deps}).
 *
 * <p>QEMU's {@code -runas} cannot be combined with {@code elevateprivileges=deny}: QEMU installs the filter while
 * parsing its options and calls setgid/setuid for {@code -runas} only later, which the filter then kills (SIGSYS,
 * exit 159, measured with QEMU 7.2; LXD and QEMU's own tests switch to {@code elevateprivileges=allow} for it). vmctl
 * instead starts QEMU as that user from the first instruction ({@code setpriv --reuid --regid --init-groups}, the
 * way libvirt runs QEMU): the full filter holds and QEMU never has root at all. What QEMU opens is made the user's
 * first ({@link #prepare}): the VM's folder and what is in it (sockets, console, pid file, disk overlay, 9p share,
 * RAM file), the tmpfs folder of RAM files, a clone's RAM file (QEMU 7.2 opens a private memory-backend-file
 * read-write), and the data directory is opened to the user's group for traversal only (0710). Taps are created
 * with {@code ip tuntap add … user U group G}; migration sockets get the owner of the VM's QMP socket.
 *
 * <p>{@link #detect} checks the user, setpriv and a probe QEMU ({@code -machine none} with the filter, as the
 * user); what is missing turns the part off with the reason ({@code vmctl doctor} shows it), {@code vmctl serve
 * --no-sandbox} turns both off.
 */
public record QemuConfinement(boolean sandbox, String user, int uid, int gid, String detail) {
    private static final Logger log = LoggerFactory.getLogger(QemuConfinement.class);
    public static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";
    public static final String DEFAULT_USER = "vmctl-qemu";

    private static volatile QemuConfinement active = none("not set up (engine tests, tools)");

    /** No confinement: QEMU runs as the server's user without a filter. */
    public static QemuConfinement none(String why) {
        return new QemuConfinement(false, null, -1, -1, why);
    }

    /** The confinement the server's QEMU processes get ({@link #activate} at start-up). */
    public static QemuConfinement active() {
        return active;
    }

    public static void activate(QemuConfinement c) {
        active = c;
    }

    /** {@code seccomp+user}, {@code seccomp}, {@code user} or {@code none}. */
    public String mode() {
        if (sandbox && user != null) return "seccomp+user";
        if (sandbox) return "seccomp";
        if (user != null) return "user";
        return "none";
    }

    /** What goes before QEMU's argv (after {@code ip netns exec NS setsid}): the switch to the user. */
    public List<String> prefix() {
        if (user == null) return List.of();
        return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups", "--inh-caps=-all");
    }

    /** What goes after QEMU's argv: the seccomp filter. */
    public List<String> extraArgs() {
        return sandbox ? List.of("-sandbox", SANDBOX) : List.of();
    }

    /**
     * Finds out what this host can do: the user (with its uid and primary gid), setpriv, and whether QEMU starts with
     * the filter (as that user). {@code wanted} false ({@code --no-sandbox}): none.
     */
    public static QemuConfinement detect(boolean wanted, String user) {
        if (!wanted) return none("turned off (vmctl serve --no-sandbox): QEMU runs as root without a seccomp filter");
        int uid = -1;
        int gid = -1;
        String why = "";
        if (!"root".equals(System.getProperty("user.name"))) {
            why = "the server does not run as root: QEMU runs as the server's user; ";
            user = null;
        } else if (!Cmd.available("setpriv")) {
            why = "setpriv (util-linux) is missing: QEMU runs as root; ";
            user = null;
        } else {
            CmdResult u = Cmd.run("id", "-u", user);
            CmdResult g = Cmd.run("id", "-g", user);
            if (!u.ok() || !g.ok()) {
                why = "no user " + user + " (scripts/install-deps creates it): QEMU runs as root; ";
                user = null;
            } else {
                uid = Integer.parseInt(u.stdout().strip());
                gid = Integer.parseInt(g.stdout().strip());
            }
        }
        QemuConfinement asUser = new QemuConfinement(false, user, uid, gid, "");
        List<String> probe = new ArrayList<>(asUser.prefix());
        probe.addAll(List.of(QemuCommand.QEMU, "-machine", "none", "-nodefaults", "-display", "none", "-sandbox", SANDBOX, "-qmp", "stdio"));
        CmdResult r = Cmd.run(probe, "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n".getBytes(StandardCharsets.UTF_8), null,
                Duration.ofSeconds(20));
        boolean sandbox = r.ok();
        if (!sandbox) {
            String err = (r.stderr() + r.stdout()).strip();
            why += "QEMU does not start with -sandbox (" + (err.isEmpty() ? "exit " + r.exitCode() : err.lines().reduce((a, b) -> b).orElse(err))
                    + "): no seccomp filter; ";
        }
        String detail = (sandbox ? "seccomp -sandbox " + SANDBOX : "") + (sandbox && user != null ? "; " : "")
                + (user != null ? "QEMU runs as " + user + " (uid " + uid + ", gid " + gid + ") from its start (setpriv; -runas cannot be "
                + "combined with elevateprivileges=deny)" : "");
        if (!why.isEmpty()) detail = (detail.isEmpty() ? "" : detail + "; ") + why.substring(0, why.length() - 2);
        QemuConfinement c = new QemuConfinement(sandbox, user, uid, gid, detail);
        if (!sandbox || user == null) log.warn("QEMU confinement {}: {}", c.mode(), detail);
        else log.info("QEMU confinement {}: {}", c.mode(), detail);
        return c;
    }

    // ---------------------------------------------------------------- files

    /**
     * Opens the data directory to the user's group for traversal only (0710, group {@code gid}): QEMU reaches the
     * images, snapshots and its VM folder by path, and lists nothing.
     */
    public void openDataDir(Path root) {
        if (user == null) return;
        try {
            Files.setAttribute(root, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            Set<PosixFilePermission> p = EnumSet.copyOf(Files.getPosixFilePermissions(root));
            p.add(PosixFilePermission.GROUP_EXECUTE);
            p.remove(PosixFilePermission.GROUP_READ);
            p.remove(PosixFilePermission.GROUP_WRITE);
            Files.setPosixFilePermissions(root, p);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("data directory {}: open it to group {}: {}", root, gid, e.getMessage());
        }
    }

    /** Makes what QEMU opens for {@code spec} the user's (nothing without a user). */
    public void prepare(QemuCommand.Spec spec) {
        if (user == null) return;
        VmFiles f = spec.files();
        try {
            Files.createDirectories(f.dir());
            chownTree(f.dir());
            Path ram = spec.ramFile();
            if (ram != null && !spec.ramShared()) {
                if (Files.exists(ram)) {
                    // a clone maps a snapshot's RAM file (a hard link in its folder) copy-on-write; QEMU 7.2 opens it
                    // read-write all the same: the group may read and write it, the owner stays
                    Path real = ram.toRealPath();
                    Files.setAttribute(real, "unix:gid", gid);
                    addGroup(real, PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE);
                }
            } else if (ram != null && !ram.startsWith(f.dir())) {
                // the VM's own RAM file on tmpfs: QEMU creates it in vmctl's folder there
                Path parent = ram.getParent();
                Files.createDirectories(parent);
                chown(parent);
                if (Files.exists(ram, LinkOption.NOFOLLOW_LINKS)) chown(ram);
            }
            // a disk overlay's backing files (the image's rootfs, a snapshot's disk in a 0700 folder): QEMU opens them by path
            Path disk = f.disk();
            for (int depth = 0; depth < 8 && disk != null && Files.isRegularFile(disk); depth++) {
                Path backing = qcow2Backing(disk);
                if (backing == null) break;
                if (!backing.isAbsolute()) backing = disk.resolveSibling(backing).normalize();
                Path dir = backing.getParent();
                if (dir != null && !dir.startsWith(f.dir()) && Files.isDirectory(dir)
                        && !Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    Files.setAttribute(dir, "unix:gid", gid);
                    addGroup(dir, PosixFilePermission.GROUP_EXECUTE);
                }
                disk = backing;
            }
        } catch (IOException e) {
            throw dev.vmctl.model.VmctlException.internal("confine qemu of vm " + spec.name() + ": give " + user + " its files: " + e.getMessage(), e);
        }
    }

    /**
     * The VM's folder and what is its own in it become the user's: folders and files with one link. Hard links (a
     * restored VM's kernel and initrd, a clone's RAM file: the same inodes as the image's, the snapshot's, the kernel
     * cache's) and symbolic links keep their owner, so a QEMU that runs as the user cannot write what other VMs use.
     */
    private void chownTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                if (Files.isSymbolicLink(p)) continue;
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) continue;
                chown(p);
            }
        }
    }

    private static void addGroup(Path p, PosixFilePermission... add) throws IOException {
        Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(p));
        perms.addAll(List.of(add));
        Files.setPosixFilePermissions(p, perms);
    }

    /** The backing file a qcow2 image names in its header (null: none, or not a qcow2). */
    static Path qcow2Backing(Path image) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(image)) {
            java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(20);
            if (ch.read(h, 0) < 20) return null;
            h.flip();
            if (h.getInt(0) != 0x514649fb) return null; // "QFI\xfb"
            long off = h.getLong(8);
            int len = h.getInt(16);
            if (off == 0 || len <= 0 || len > 4096) return null;
            java.nio.ByteBuffer name = java.nio.ByteBuffer.allocate(len);
            ch.read(name, off);
            return Path.of(new String(name.array(), 0, name.position(), StandardCharsets.UTF_8));
        }
    }

    private void chown(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }
}
