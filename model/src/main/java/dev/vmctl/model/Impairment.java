package dev.vmctl.model;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Link impairments of one NIC. Zero means "not impaired in this respect". Parsed from what users type
 * ("50ms", "2%", "10mbit"); every rejection names the field and the allowed form.
 *
 * <p>{@code direction} ({@link Direction#wire()}: egress, ingress or both) says which way the netem part
 * (delay, jitter, loss, corruption, duplication) acts, seen from the guest: on what it sends (egress, the
 * default), on what it receives (ingress) or the same on both. A rate limit always applies both ways.
 */
public record Impairment(int delayMs, int jitterMs, double lossPercent, long rateKbit,
                         double corruptPercent, double duplicatePercent, String direction) {

    /** Which way an impairment acts, seen from the guest. */
    public enum Direction {
        /** what the guest sends */
        EGRESS,
        /** what the guest receives */
        INGRESS,
        /** both ways, the same impairment on each */
        BOTH;

        /** The lower-case word the API uses. */
        public String wire() { return name().toLowerCase(Locale.ROOT); }

        public boolean egress() { return this != INGRESS; }

        public boolean ingress() { return this != EGRESS; }

        /** null (not given) is EGRESS. */
        public static Direction parse(String field, String s) {
            if (s == null) return EGRESS;
            for (Direction d : values()) if (d.wire().equals(s.strip().toLowerCase(Locale.ROOT))) return d;
            throw VmctlException.invalid(field, "'" + s + "' is not a direction", "egress, ingress, both");
        }
    }

    public Impairment {
        direction = Direction.parse("impair.direction", direction).wire();
    }

    /** An impairment of what the guest sends (egress), as before directions existed. */
    public Impairment(int delayMs, int jitterMs, double lossPercent, long rateKbit, double corruptPercent, double duplicatePercent) {
        this(delayMs, jitterMs, lossPercent, rateKbit, corruptPercent, duplicatePercent, null);
    }

    /** {@link #direction()} as the enum. */
    public Direction dir() { return Direction.parse("impair.direction", direction); }

    public boolean hasRate() { return rateKbit > 0; }

    public boolean hasNetem() {
        return delayMs > 0 || jitterMs > 0 || lossPercent > 0 || corruptPercent > 0 || duplicatePercent > 0;
    }

    /** Netem on what the guest sends (egress or both). */
    public boolean netemEgress() { return hasNetem() && dir().egress(); }

    /** Netem on what the guest receives (ingress or both). */
    public boolean netemIngress() { return hasNetem() && dir().ingress(); }

    public boolean none() { return !hasRate() && !hasNetem(); }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,6})(?:\\.(\\d+))?\\s*(us|ms|s)?");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,4})?)\\s*%?");
    private static final Pattern RATE = Pattern.compile("(\\d{1,9})(?:\\.(\\d{1,3}))?\\s*(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)?");

    /** Parses the API's string form: keys delay, jitter, loss, rate, corrupt, duplicate and direction. */
    public static Impairment parse(Map<String, String> m) {
        for (String k : m.keySet()) {
            if (!java.util.Set.of("delay", "jitter", "loss", "rate", "corrupt", "duplicate", "direction").contains(k)) {
                throw VmctlException.invalid("impair." + k, "unknown impairment", "delay, jitter, loss, rate, corrupt, duplicate, direction");
            }
        }
        String direction = Direction.parse("impair.direction", m.get("direction")).wire();
        int delay = ms("impair.delay", m.get("delay"));
        int jitter = ms("impair.jitter", m.get("jitter"));
        if (jitter > 0 && delay == 0) {
            throw VmctlException.invalid("impair.jitter", "jitter needs a delay", "give delay too, e.g. delay 50ms jitter 5ms");
        }
        Impairment i = new Impairment(delay, jitter, pct("impair.loss", m.get("loss")), rate("impair.rate", m.get("rate")),
                pct("impair.corrupt", m.get("corrupt")), pct("impair.duplicate", m.get("duplicate")), direction);
        if (i.none()) {
            throw VmctlException.invalid("impair", "no impairment given", "one or more of delay, jitter, loss, rate, corrupt, duplicate; null clears");
        }
        return i;
    }

    static int ms(String field, String s) {
        if (s == null) return 0;
        Matcher x = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!x.matches()) throw VmctlException.invalid(field, "'" + s + "' is not a duration", "e.g. 50ms, 1.5s, 0..60s");
        double v = Double.parseDouble(x.group(1) + (x.group(2) == null ? "" : "." + x.group(2)));
        String unit = x.group(3) == null ? "ms" : x.group(3);
        double msv = switch (unit) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
        if (msv > 60_000) throw VmctlException.invalid(field, s + " is out of range", "0..60s");
        return (int) Math.round(msv);
    }

    static double pct(String field, String s) {
        if (s == null) return 0;
        Matcher x = PERCENT.matcher(s.trim());
        if (!x.matches()) throw VmctlException.invalid(field, "'" + s + "' is not a percentage", "0%..100%, e.g. 2% or 0.5%");
        double v = Double.parseDouble(x.group(1));
        if (v > 100) throw VmctlException.invalid(field, s + " is out of range", "0%..100%");
        return v;
    }

    /** A rate as users type it ("500kbit", "10mbit", "1gbit"; bps = bytes/s) in kbit/s; 0 for null; the error names {@code field}. */
    public static long parseRateKbit(String field, String s) {
        return rate(field, s);
    }

    static long rate(String field, String s) {
        if (s == null) return 0;
        Matcher x = RATE.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!x.matches()) throw VmctlException.invalid(field, "'" + s + "' is not a rate", "e.g. 500kbit, 10mbit, 1gbit (tc units; bps = bytes/s)");
        double v = Double.parseDouble(x.group(1) + (x.group(2) == null ? "" : "." + x.group(2)));
        String unit = x.group(3) == null ? "bit" : x.group(3);
        double kbit = switch (unit) {
            case "bit" -> v / 1000;
            case "kbit" -> v;
            case "mbit" -> v * 1000;
            case "gbit" -> v * 1_000_000;
            case "bps" -> v * 8 / 1000;
            case "kbps" -> v * 8;
            case "mbps" -> v * 8000;
            default -> v * 8_000_000;
        };
        if (kbit < 8 || kbit > 10_000_000) throw VmctlException.invalid(field, s + " is out of range", "8kbit..10gbit");
        return Math.round(kbit);
    }
}
