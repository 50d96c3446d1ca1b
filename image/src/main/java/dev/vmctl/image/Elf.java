package dev.vmctl.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The little that vmctl reads from 64-bit little-endian ELF files: is it ELF, is it static, is it PVH-bootable. */
final class Elf {
    static final byte[] MAGIC = {0x7f, 'E', 'L', 'F'};
    private static final int PT_INTERP = 3;
    private static final int PT_NOTE = 4;
    /** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit entry point QEMU uses for a direct PVH boot. */
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    /** @param interpreter true when the file names a dynamic loader (PT_INTERP), i.e. is not static. */
    record Info(boolean interpreter, boolean pvhEntry) {}

    private Elf() {}

    static boolean hasMagic(byte[] head) {
        if (head.length < 4) return false;
        for (int i = 0; i < 4; i++) if (head[i] != MAGIC[i]) return false;
        return true;
    }

    /** Reads the program headers of a 64-bit little-endian ELF file; throws IOException when it is not one. */
    static Info read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer eh = readAt(ch, 0, 64);
            byte[] magic = new byte[4];
            eh.get(0, magic);
            if (!hasMagic(magic)) throw new IOException(file + ": not an ELF file");
            if (eh.get(4) != 2 || eh.get(5) != 1) throw new IOException(file + ": not a 64-bit little-endian ELF file");
            long phoff = eh.getLong(0x20);
            int phentsize = Short.toUnsignedInt(eh.getShort(0x36));
            int phnum = Short.toUnsignedInt(eh.getShort(0x38));
            if (phentsize < 56 || phnum > 4096) throw new IOException(file + ": bad ELF program header table");
            boolean interp = false;
            boolean pvh = false;
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = readAt(ch, phoff + (long) i * phentsize, 56);
                int type = ph.getInt(0);
                if (type == PT_INTERP) interp = true;
                if (type == PT_NOTE && !pvh) {
                    long off = ph.getLong(0x08);
                    long size = ph.getLong(0x20);
                    if (size > 0 && size < (1 << 20)) pvh = hasXenPvhNote(readAt(ch, off, (int) size));
                }
            }
            return new Info(interp, pvh);
        }
    }

    private static boolean hasXenPvhNote(ByteBuffer notes) {
        int p = 0;
        int limit = notes.limit();
        while (p + 12 <= limit) {
            int namesz = notes.getInt(p);
            int descsz = notes.getInt(p + 4);
            int type = notes.getInt(p + 8);
            if (namesz < 0 || descsz < 0) return false;
            int nameOff = p + 12;
            int descOff = nameOff + align4(namesz);
            if (descOff > limit) return false;
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz >= 3) {
                byte[] name = new byte[3];
                notes.get(nameOff, name);
                if ("Xen".equals(new String(name, StandardCharsets.US_ASCII))) return true;
            }
            p = descOff + align4(descsz);
        }
        return false;
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static ByteBuffer readAt(FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) throw new IOException("truncated ELF file (wanted " + len + " bytes at " + pos + ")");
        }
        return b.flip();
    }
}
