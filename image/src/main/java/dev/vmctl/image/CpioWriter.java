package dev.vmctl.image;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes an uncompressed cpio archive in the "newc" format (magic {@code 070701}), the format the Linux
 * kernel unpacks as an initramfs. Output is deterministic: owner 0:0, mtime 0, inode numbers counted up
 * from 1 in write order, entries of a tree in sorted order (a directory before its contents).
 *
 * <pre>{@code
 * try (CpioWriter w = new CpioWriter(Files.newOutputStream(out))) {
 *     w.writeTree(stagingDir);
 *     w.charDevice("dev/console", 0600, 5, 1);
 * }   // close() writes TRAILER!!!
 * }</pre>
 */
public final class CpioWriter implements Closeable {
    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFCHR = 0020000;
    public static final String TRAILER = "TRAILER!!!";

    private final OutputStream out;
    private final Set<String> written = new HashSet<>();
    private long offset;
    private int nextIno = 1;
    private boolean closed;

    public CpioWriter(OutputStream out) {
        this.out = new BufferedOutputStream(out, 1 << 16);
    }

    /** Writes the archive of everything under {@code root} (not {@code root} itself) to {@code archive}. */
    public static void writeTree(Path root, Path archive) throws IOException {
        try (CpioWriter w = new CpioWriter(Files.newOutputStream(archive))) {
            w.writeTree(root);
        }
    }

    /**
     * Adds everything under {@code root} with names relative to it: directories, regular files and
     * symbolic links (not followed), with their permission bits. Other file types are refused.
     */
    public void writeTree(Path root) throws IOException {
        List<Path> paths;
        try (Stream<Path> s = Files.walk(root)) {
            paths = new ArrayList<>(s.filter(p -> !p.equals(root)).map(root::relativize).toList());
        }
        // Byte-wise path order: a directory (a prefix) sorts before its contents; same order every time.
        paths.sort(null);
        for (Path rel : paths) {
            Path p = root.resolve(rel);
            String name = rel.toString();
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            int perm = permissions(p);
            if (a.isSymbolicLink()) {
                symlink(name, Files.readSymbolicLink(p).toString());
            } else if (a.isDirectory()) {
                directory(name, perm);
            } else if (a.isRegularFile()) {
                file(name, perm, p);
            } else {
                throw new IOException(p + ": cannot archive this file type (only files, directories and symlinks)");
            }
        }
    }

    public void directory(String name, int perm) throws IOException {
        header(name, S_IFDIR | (perm & 07777), 2, 0, 0, 0);
    }

    public void file(String name, int perm, byte[] data) throws IOException {
        header(name, S_IFREG | (perm & 07777), 1, data.length, 0, 0);
        out.write(data);
        offset += data.length;
        pad();
    }

    public void file(String name, int perm, Path source) throws IOException {
        long size = Files.size(source);
        checkSize(name, size);
        header(name, S_IFREG | (perm & 07777), 1, size, 0, 0);
        long n;
        try (InputStream in = Files.newInputStream(source)) {
            n = in.transferTo(out);
        }
        if (n != size) throw new IOException(source + ": changed size while being archived");
        offset += n;
        pad();
    }

    public void symlink(String name, String target) throws IOException {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        header(name, S_IFLNK | 0777, 1, t.length, 0, 0);
        out.write(t);
        offset += t.length;
        pad();
    }

    /** A character device node, e.g. {@code dev/console} (5, 1): no mknod (and no root) needed to stage it. */
    public void charDevice(String name, int perm, int major, int minor) throws IOException {
        header(name, S_IFCHR | (perm & 07777), 1, 0, major, minor);
    }

    /** Writes the {@code TRAILER!!!} entry and closes the stream. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try (out) {
            writeHeader(TRAILER, 0, 0, 1, 0, 0, 0);
        }
    }

    private void header(String name, int mode, int nlink, long size, int rdevMajor, int rdevMinor) throws IOException {
        if (closed) throw new IOException("cpio archive already closed");
        String n = normalize(name);
        if (!written.add(n)) throw new IOException("duplicate cpio entry: " + n);
        writeHeader(n, nextIno++, mode, nlink, size, rdevMajor, rdevMinor);
    }

    private void writeHeader(String name, int ino, int mode, int nlink, long size, int rdevMajor, int rdevMinor)
            throws IOException {
        checkSize(name, size);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(110);
        h.append("070701");
        for (long v : new long[] {ino, mode, 0 /* uid */, 0 /* gid */, nlink, 0 /* mtime */, size,
                0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor, n.length + 1, 0 /* check */}) {
            h.append(String.format("%08x", v));
        }
        out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.write(n);
        out.write(0);
        offset += 110 + n.length + 1;
        pad();
    }

    private void pad() throws IOException {
        while ((offset & 3) != 0) {
            out.write(0);
            offset++;
        }
    }

    private static String normalize(String name) throws IOException {
        String n = name;
        while (n.startsWith("./")) n = n.substring(2);
        while (n.startsWith("/")) n = n.substring(1);
        if (n.isEmpty() || n.equals(TRAILER) || n.indexOf('\0') >= 0) throw new IOException("bad cpio entry name: '" + name + "'");
        for (String part : n.split("/")) {
            if (part.equals("..")) throw new IOException("cpio entry name leaves the archive root: " + name);
        }
        return n;
    }

    private static void checkSize(String name, long size) throws IOException {
        if (size > 0xffffffffL) throw new IOException(name + ": too large for a newc cpio entry (" + size + " bytes)");
    }

    private static int permissions(Path p) throws IOException {
        try {
            Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return ((Integer) mode) & 07777;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            int perm = 0;
            for (var x : Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)) {
                perm |= 1 << (8 - x.ordinal());
            }
            return perm;
        }
    }
}
