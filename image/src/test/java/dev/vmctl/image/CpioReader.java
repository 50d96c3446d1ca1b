package dev.vmctl.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test helper: parses a newc cpio archive back, checking its framing strictly. */
final class CpioReader {
    record Entry(String name, int ino, int mode, int uid, int gid, int nlink, long mtime, byte[] data,
                 int rdevMajor, int rdevMinor) {
        int type() { return mode & CpioWriter.S_IFMT; }
        int perm() { return mode & 07777; }
        String text() { return new String(data, StandardCharsets.UTF_8); }
    }

    private CpioReader() {}

    /** All entries up to and including the trailer; throws when the framing is wrong. */
    static List<Entry> read(byte[] a) throws IOException {
        List<Entry> out = new ArrayList<>();
        int p = 0;
        while (true) {
            if (p % 4 != 0) throw new IOException("header not 4-aligned at " + p);
            if (p + 110 > a.length) throw new IOException("truncated header at " + p);
            String magic = new String(a, p, 6, StandardCharsets.US_ASCII);
            if (!magic.equals("070701")) throw new IOException("bad magic '" + magic + "' at " + p);
            long[] f = new long[13];
            for (int i = 0; i < 13; i++) {
                f[i] = Long.parseLong(new String(a, p + 6 + i * 8, 8, StandardCharsets.US_ASCII), 16);
            }
            int namesize = (int) f[11];
            if (f[12] != 0) throw new IOException("check field not 0");
            if (a[p + 110 + namesize - 1] != 0) throw new IOException("name not NUL-terminated at " + p);
            String name = new String(a, p + 110, namesize - 1, StandardCharsets.UTF_8);
            int dataStart = align(p + 110 + namesize);
            int size = (int) f[6];
            byte[] data = Arrays.copyOfRange(a, dataStart, dataStart + size);
            for (int i = p + 110 + namesize; i < dataStart; i++) if (a[i] != 0) throw new IOException("non-zero padding");
            out.add(new Entry(name, (int) f[0], (int) f[1], (int) f[2], (int) f[3], (int) f[4], f[5], data,
                    (int) f[9], (int) f[10]));
            p = align(dataStart + size);
            if (name.equals(CpioWriter.TRAILER)) {
                if (p != a.length) throw new IOException("data after the trailer: " + (a.length - p) + " bytes");
                return out;
            }
        }
    }

    private static int align(int n) {
        return (n + 3) & ~3;
    }
}
