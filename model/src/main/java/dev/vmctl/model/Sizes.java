package dev.vmctl.model;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses memory sizes as users write them: 128M, 128MiB, 1G, 1GiB, or a bare number of MiB. */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,7})\\s*(m|mb|mib|g|gb|gib)?");

    private Sizes() {}

    /** @return MiB, or -1 when the text is not a size */
    public static long parseMiB(String text) {
        if (text == null) return -1;
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) return -1;
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2);
        return unit != null && unit.startsWith("g") ? n * 1024 : n;
    }
}
