package dev.vmctl.scenario;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as scenario files write them: a number and a unit (ms, s, m, h), or several of them
 * ("1m30s"). Whole milliseconds only; "250us" and unit-less numbers are refused with the reason.
 */
final class Durations {
    private static final Pattern WHOLE = Pattern.compile("(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h))+");
    private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");
    private static final Pattern FINE = Pattern.compile("[0-9]+(?:\\.[0-9]+)?\\s*(us|µs|ns)");
    private static final Pattern BARE = Pattern.compile("[+-]?[0-9]+(?:\\.[0-9]+)?");

    private Durations() {}

    /** Thrown with the reason, phrased to stand alone after the field's path. */
    static final class BadDuration extends Exception {
        BadDuration(String message) { super(message, null, false, false); }
    }

    static Duration parse(String text) throws BadDuration {
        String s = text.strip();
        if (BARE.matcher(s).matches()) throw new BadDuration("'" + text + "' has no unit");
        if (FINE.matcher(s).matches()) throw new BadDuration("'" + text + "' is finer than a millisecond");
        if (!WHOLE.matcher(s).matches()) throw new BadDuration("'" + text + "' is not a duration");
        BigDecimal ms = BigDecimal.ZERO;
        Matcher m = PART.matcher(s);
        while (m.find()) {
            BigDecimal unit = switch (m.group(2)) {
                case "ms" -> BigDecimal.ONE;
                case "s" -> BigDecimal.valueOf(1_000);
                case "m" -> BigDecimal.valueOf(60_000);
                default -> BigDecimal.valueOf(3_600_000);
            };
            ms = ms.add(new BigDecimal(m.group(1)).multiply(unit));
        }
        if (ms.stripTrailingZeros().scale() > 0) throw new BadDuration("'" + text + "' is not a whole number of milliseconds");
        if (ms.compareTo(BigDecimal.valueOf(ScenarioRules.MAX_DURATION.toMillis())) > 0) {
            throw new BadDuration("'" + text + "' is longer than 24h");
        }
        return Duration.ofMillis(ms.longValueExact());
    }

    /** "6500ms" → "6.5s", as messages write durations. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) return ms < 1000 ? ms + "ms" : BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + "s";
        long s = ms / 1000;
        if (s % 3600 == 0 && s > 0) return s / 3600 + "h";
        if (s % 60 == 0 && s > 0) return s / 60 + "m";
        return s + "s";
    }
}
