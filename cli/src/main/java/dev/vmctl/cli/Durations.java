package dev.vmctl.cli;

import picocli.CommandLine;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as users write them: {@code 30s}, {@code 2m}, {@code 500ms}, {@code 1h}, {@code 1.5s}, or a bare number of seconds. */
final class Durations {
    static final String EXAMPLES = "e.g. 30s, 2m, 500ms, or a number of seconds";
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9}(?:\\.\\d{1,9})?)\\s*(ms|s|sec|m|min|h)?");

    private Durations() {}

    /** @throws IllegalArgumentException naming the text and the accepted forms */
    static Duration parse(String text) {
        Matcher m = DURATION.matcher(text == null ? "" : text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (" + EXAMPLES + ")");
        }
        BigDecimal n = new BigDecimal(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        long millisPerUnit = switch (unit) {
            case "ms" -> 1;
            case "s", "sec" -> 1_000;
            case "m", "min" -> 60_000;
            case "h" -> 3_600_000;
            default -> throw new IllegalStateException(unit);
        };
        return Duration.ofMillis(n.multiply(BigDecimal.valueOf(millisPerUnit)).longValue());
    }

    /** The shortest exact form: 500ms, 30s, 2m, 1m30s, 1h, 1.5s. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms < 1000 ? ms + "ms" : BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + "s";
        }
        long s = ms / 1000;
        if (s == 0) return "0s";
        StringBuilder b = new StringBuilder();
        if (s >= 3600) { b.append(s / 3600).append('h'); s %= 3600; }
        if (s >= 60) { b.append(s / 60).append('m'); s %= 60; }
        if (s > 0) b.append(s).append('s');
        return b.toString();
    }

    /** Elapsed time for progress lines: one decimal, in seconds ({@code 1.8s}). */
    static String elapsed(long nanos) {
        return String.format(Locale.ROOT, "%.1fs", nanos / 1e9);
    }

    /** Whole seconds, rounded up, at least 1 (the exec API takes seconds). */
    static long ceilSeconds(Duration d) {
        long ms = d.toMillis();
        return Math.max(1, (ms + 999) / 1000);
    }

    /** Lets picocli options take durations; a bad value is a usage error (exit 2). */
    static final class Converter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
