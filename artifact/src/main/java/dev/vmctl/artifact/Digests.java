package dev.vmctl.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * SHA-256 of files and of directory trees. A tree's digest is the SHA-256 of its canonical listing: one line per
 * entry, sorted by relative path ('/'-separated, byte order) — {@code d PATH}, {@code f MODE SIZE SHA256 PATH}
 * (MODE 755 when the owner may execute, else 644), {@code l TARGET PATH} — so that the same tree checked out or
 * copied anywhere has the same digest.
 */
public final class Digests {
    private Digests() {}

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    public static String ofText(String s) {
        return hex(sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    public static String ofFile(Path f) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        return hex(md.digest());
    }

    /** Copies {@code in} to {@code out} and returns the SHA-256 of what went through, and the byte count. */
    public static Copied copy(InputStream in, OutputStream out) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
            out.write(buf, 0, n);
            total += n;
        }
        return new Copied(hex(md.digest()), total);
    }

    public record Copied(String sha256, long bytes) {}

    /** A tree's digest, total size of its files and number of files. */
    public record Tree(String sha256, long size, int files) {}

    public static Tree ofTree(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
            all = new ArrayList<>(s.filter(p -> !p.equals(root)).toList());
        }
        all.sort((a, b) -> rel(root, a).compareTo(rel(root, b)));
        StringBuilder listing = new StringBuilder();
        long size = 0;
        int files = 0;
        for (Path p : all) {
            String r = rel(root, p);
            if (Files.isSymbolicLink(p)) {
                listing.append("l ").append(Files.readSymbolicLink(p)).append(' ').append(r).append('\n');
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                listing.append("d ").append(r).append('\n');
            } else {
                long sz = Files.size(p);
                listing.append("f ").append(executable(p) ? "755" : "644").append(' ').append(sz).append(' ')
                        .append(ofFile(p)).append(' ').append(r).append('\n');
                size += sz;
                files++;
            }
        }
        return new Tree(ofText(listing.toString()), size, files);
    }

    static boolean executable(Path p) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        return perms.contains(PosixFilePermission.OWNER_EXECUTE);
    }

    private static String rel(Path root, Path p) {
        return root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
    }
}
