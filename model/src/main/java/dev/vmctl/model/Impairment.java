package dev.vmctl.model;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Link impairments of one NIC. Zero means "not impaired in this respect". Parsed from what users type
 * ("50ms", "2%", "10mbit"); every rejection names the field and the allowed form.
 */
public record Impairment(int delayMs, int jitterMs, double lossPercent, long rateKbit,
                         double corruptPercent, double duplicatePercent) {

    public boolean hasRate() { return rateKbit > 0; }

    public boolean hasNetem() {
        return delayMs > 0 || jitterMs > 0 || lossPercent > 0 || corruptPercent > 0 || duplicatePercent > 0;
    }

    public boolean none() { return !hasRate() && !hasNetem(); }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,6})(?:\\.(\\d+))?\\s*(us|ms|s)?");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,4})?)\\s*%?");
    private static final Pattern RATE = Pattern.compile("(\\d{1,9})(?:\\.(\\d{1,3}))?\\s*(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)?");

    /** Parses the API's string form: keys delay, jitter, loss, rate, corrupt, duplicate. */
    public static Impairment parse(Map<String, String> m) {
        for (String k : m.keySet()) {
            if (!java.util.Set.of("delay", "jitter", "loss", "rate", "corrupt", "duplicate").contains(k)) {
                throw VmctlException.invalid("impair." + k, "unknown impairment", "delay, jitter, loss, rate, corrupt, duplicate");
            }
        }
        int delay = ms("impair.delay", m.get("delay"));
        int jitter = ms("impair.jitter", m.get("jitter"));
        if (jitter > 0 && delay == 0) {
            throw VmctlException.invalid("impair.jitter", "jitter needs a delay", "give delay too, e.g. delay 50ms jitter 5ms");
        }
        Impairment i = new Impairment(delay, jitter, pct("impair.loss", m.get("loss")), rate("impair.rate", m.get("rate")),
                pct("impair.corrupt", m.get("corrupt")), pct("impair.duplicate", m.get("duplicate")));
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
