package dev.vmctl.net;

import dev.vmctl.model.VmctlException;

import java.time.Duration;

/**
 * What a VM NIC's link should look like, seen from the guest.
 *
 * @param toGuestBitsPerSec   rate limit of traffic towards the guest (egress of the tap); 0 = none
 * @param fromGuestBitsPerSec rate limit of traffic the guest sends (ingress of the tap, shaped on its ifb); 0 = none
 * @param netem               delay/jitter/loss/corruption/duplication of what the guest sends (on the ifb), or null
 * @param netemToGuest        the same for what the guest receives (at the tap's root), or null
 */
public record LinkShape(long toGuestBitsPerSec, long fromGuestBitsPerSec, Netem netem, Netem netemToGuest) {
    public static final long MIN_RATE = 8_000;                 // 8 kbit/s
    public static final long MAX_RATE = 100_000_000_000L;      // 100 Gbit/s
    public static final LinkShape NONE = new LinkShape(0, 0, null, null);

    public LinkShape {
        checkRate("toGuestBitsPerSec", toGuestBitsPerSec);
        checkRate("fromGuestBitsPerSec", fromGuestBitsPerSec);
        if (netem != null && netem.isEmpty()) netem = null;
        if (netemToGuest != null && netemToGuest.isEmpty()) netemToGuest = null;
    }

    /** Rates and netem on what the guest sends only (the shape before directions existed). */
    public LinkShape(long toGuestBitsPerSec, long fromGuestBitsPerSec, Netem netem) {
        this(toGuestBitsPerSec, fromGuestBitsPerSec, netem, null);
    }

    /** The same rate limit in both directions. */
    public static LinkShape rate(long bitsPerSec) {
        return new LinkShape(bitsPerSec, bitsPerSec, null);
    }

    public boolean isEmpty() {
        return toGuestBitsPerSec == 0 && fromGuestBitsPerSec == 0 && netem == null && netemToGuest == null;
    }

    /** Whether any netem is asked for, in either direction. */
    public boolean hasNetem() {
        return netem != null || netemToGuest != null;
    }

    /** Whether the guest→host direction needs the ifb (rate or netem). */
    public boolean shapesFromGuest() {
        return fromGuestBitsPerSec > 0 || netem != null;
    }

    private static void checkRate(String field, long v) {
        if (v != 0 && (v < MIN_RATE || v > MAX_RATE)) {
            throw VmctlException.invalid(field, v + " bit/s", "0 (no limit) or " + MIN_RATE + " to " + MAX_RATE + " bit/s");
        }
    }

    /**
     * Impairments applied by tc netem. Percentages are 0–100; jitter needs a delay.
     */
    public record Netem(Duration delay, Duration jitter, double lossPercent, double corruptPercent, double duplicatePercent) {
        public static final Duration MAX_DELAY = Duration.ofSeconds(60);

        public Netem {
            delay = delay == null ? Duration.ZERO : delay;
            jitter = jitter == null ? Duration.ZERO : jitter;
            if (delay.isNegative() || delay.compareTo(MAX_DELAY) > 0) throw VmctlException.invalid("delay", delay.toString(), "0 to 60 s");
            if (jitter.isNegative() || jitter.compareTo(MAX_DELAY) > 0) throw VmctlException.invalid("jitter", jitter.toString(), "0 to 60 s");
            if (!jitter.isZero() && delay.isZero()) throw VmctlException.invalid("jitter", "jitter without a delay", "a jitter only together with a delay");
            checkPercent("loss", lossPercent);
            checkPercent("corrupt", corruptPercent);
            checkPercent("duplicate", duplicatePercent);
        }

        public static Netem delay(Duration delay) {
            return new Netem(delay, Duration.ZERO, 0, 0, 0);
        }

        public boolean isEmpty() {
            return delay.isZero() && jitter.isZero() && lossPercent == 0 && corruptPercent == 0 && duplicatePercent == 0;
        }

        private static void checkPercent(String field, double v) {
            if (!(v >= 0 && v <= 100)) throw VmctlException.invalid(field, v + "%", "0 to 100 (%)");
        }
    }
}
