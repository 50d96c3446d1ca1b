package dev.vmctl.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;

/** Copying a server stream to the terminal as it arrives. */
final class Streams {
    private Streams() {}

    /** Copies UTF-8 text from {@code in} to {@code out}, flushing after every chunk, until the server ends it. */
    static void copy(InputStream in, PrintWriter out) throws IOException {
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            char[] buf = new char[8192];
            int n;
            while ((n = r.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        }
        out.flush();
    }
}
