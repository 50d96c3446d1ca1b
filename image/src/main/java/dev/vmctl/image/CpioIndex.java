package dev.vmctl.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The names in an uncompressed newc cpio archive (what {@link CpioWriter} writes), read header by header
 * without reading the files' data: a 20 MB initramfs is listed in a few milliseconds. Used to ask what an
 * image carries (e.g. {@link IdentityHelper#GUEST_PATH}) without unpacking it.
 */
public final class CpioIndex {
    private static final int HEADER = 110;

    private CpioIndex() {}

    /** Every entry name up to the trailer, in archive order. */
    public static Set<String> names(Path archive) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        try (FileChannel ch = FileChannel.open(archive, StandardOpenOption.READ)) {
            long size = ch.size();
            long p = 0;
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            while (true) {
                if (p + HEADER > size) throw new IOException(archive + ": truncated cpio header at " + p);
                header.clear();
                readFully(ch, header, p);
                String magic = new String(header.array(), 0, 6, StandardCharsets.US_ASCII);
                if (!magic.equals("070701")) throw new IOException(archive + ": not a newc cpio archive (magic '" + magic + "' at " + p + ")");
                long fileSize = hex(header.array(), 6 + 6 * 8);
                int nameSize = (int) hex(header.array(), 6 + 11 * 8);
                if (nameSize < 1 || nameSize > 4096) throw new IOException(archive + ": bad name size " + nameSize + " at " + p);
                ByteBuffer name = ByteBuffer.allocate(nameSize);
                readFully(ch, name, p + HEADER);
                String n = new String(name.array(), 0, nameSize - 1, StandardCharsets.UTF_8);
                if (n.equals(CpioWriter.TRAILER)) return out;
                out.add(n);
                p = align(align(p + HEADER + nameSize) + fileSize);
            }
        }
    }

    /** Whether the archive has an entry named {@code name} (relative, as in the archive: {@code usr/sbin/tc}). */
    public static boolean contains(Path archive, String name) throws IOException {
        return names(archive).contains(name);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException("unexpected end of archive at " + pos);
            pos += n;
        }
    }

    private static long hex(byte[] a, int off) throws IOException {
        try {
            return Long.parseLong(new String(a, off, 8, StandardCharsets.US_ASCII), 16);
        } catch (NumberFormatException e) {
            throw new IOException("bad cpio header field: " + e.getMessage(), e);
        }
    }

    private static long align(long n) {
        return (n + 3) & ~3L;
    }
}
