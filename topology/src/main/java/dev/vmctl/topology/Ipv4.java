package dev.vmctl.topology;

/** IPv4 arithmetic for validation (the same rules as the net module's Ipam, which the engine applies). */
final class Ipv4 {
    static final int MIN_PREFIX = 8, MAX_PREFIX = 30;
    static final String SUBNET_FORM =
            "an IPv4 network in CIDR form, prefix /8 to /30, written with its network address, e.g. 198.18.10.0/24";

    private Ipv4() {}

    /** A parsed subnet. */
    record Cidr(int network, int prefix) {
        int mask() { return Ipv4.mask(prefix); }
        int broadcast() { return network | ~mask(); }
        int gateway() { return network + 1; }
        boolean contains(int a) { return (a & mask()) == network; }
        boolean overlaps(Cidr o) {
            int m = Ipv4.mask(Math.min(prefix, o.prefix));
            return (network & m) == (o.network & m);
        }
        /** The addresses a VM may take: gateway + 1 to broadcast - 1. */
        String range() { return format(network + 2) + " to " + format(broadcast() - 1); }
        @Override public String toString() { return format(network) + "/" + prefix; }
    }

    /** Thrown by {@link #parseCidr} with the reason, phrased to follow the quoted text. */
    static final class BadCidr extends Exception {
        BadCidr(String message) { super(message, null, false, false); }
    }

    static Cidr parseCidr(String text) throws BadCidr {
        String s = text.strip();
        int slash = s.indexOf('/');
        if (slash < 0) throw new BadCidr("'" + text + "' has no /prefix");
        Integer addr = parse(s.substring(0, slash));
        if (addr == null) throw new BadCidr("'" + text + "' is not an IPv4 address/prefix");
        String ps = s.substring(slash + 1);
        if (!ps.matches("[0-9]{1,2}")) throw new BadCidr("'" + text + "' has no valid prefix length");
        int p = Integer.parseInt(ps);
        if (p < MIN_PREFIX || p > MAX_PREFIX) throw new BadCidr("prefix /" + p + " of '" + text + "' is out of range");
        int net = addr & mask(p);
        if (net != addr) {
            throw new BadCidr("'" + text + "' is not a network address (did you mean " + format(net) + "/" + p + "?)");
        }
        return new Cidr(net, p);
    }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    /** Strict dotted quad (no leading zeros, no spaces): null when it is not one. */
    static Integer parse(String s) {
        if (s == null) return null;
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) return null;
        int a = 0;
        for (String p : parts) {
            if (!p.matches("0|[1-9][0-9]{0,2}")) return null;
            int v = Integer.parseInt(p);
            if (v > 255) return null;
            a = (a << 8) | v;
        }
        return a;
    }

    static String format(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }
}
