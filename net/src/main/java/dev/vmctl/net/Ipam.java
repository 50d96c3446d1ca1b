package dev.vmctl.net;

import dev.vmctl.model.VmctlException;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Address management for one IPv4 subnet (pure logic, no I/O). The first host address is the gateway
 * (a router's port, when the segment has one); the network and broadcast addresses are never handed
 * out; {@link #allocate} returns the lowest free address after the gateway.
 */
public final class Ipam {
    static final String SUBNET_FORM = "an IPv4 network in CIDR form, prefix /8 to /30, written with its network address, e.g. 198.18.10.0/24";

    private final int network;
    private final int prefix;

    private Ipam(int network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /** Parses and validates a subnet; throws INVALID naming field "subnet". */
    public static Ipam of(String cidr) {
        if (cidr == null) throw VmctlException.invalid("subnet", "missing", SUBNET_FORM);
        if (!cidr.equals(cidr.strip())) throw VmctlException.invalid("subnet", "'" + cidr + "' has spaces around it", SUBNET_FORM);
        String s = cidr;
        int slash = s.indexOf('/');
        if (slash < 0) throw VmctlException.invalid("subnet", "'" + cidr + "' has no /prefix", SUBNET_FORM);
        Integer addr = parseIp(s.substring(0, slash));
        if (addr == null) throw VmctlException.invalid("subnet", "'" + cidr + "' is not an IPv4 address/prefix", SUBNET_FORM);
        int p;
        try {
            String ps = s.substring(slash + 1);
            if (!ps.matches("[0-9]{1,2}")) throw new NumberFormatException(ps);
            p = Integer.parseInt(ps);
        } catch (NumberFormatException e) {
            throw VmctlException.invalid("subnet", "'" + cidr + "' has no valid prefix length", SUBNET_FORM);
        }
        if (p < 8 || p > 30) throw VmctlException.invalid("subnet", "prefix /" + p + " of '" + cidr + "' is out of range", SUBNET_FORM);
        int net = addr & mask(p);
        if (net != addr) {
            throw VmctlException.invalid("subnet", "'" + cidr + "' is not a network address (did you mean " + format(net) + "/" + p + "?)", SUBNET_FORM);
        }
        return new Ipam(net, p);
    }

    public String cidr() { return format(network) + "/" + prefix; }
    public String network() { return format(network); }
    public int prefixLength() { return prefix; }
    public String netmask() { return format(mask(prefix)); }
    public String broadcast() { return format(broadcastInt()); }
    /** The first host address, reserved for the gateway. */
    public String gateway() { return format(network + 1); }
    /** The gateway with the prefix, as a router port carries it: e.g. 198.18.10.1/24. */
    public String gatewayCidr() { return gateway() + "/" + prefix; }
    public String firstHost() { return format(network + 1); }
    public String lastHost() { return format(broadcastInt() - 1); }
    /** Addresses a VM may get: every host address but the gateway. */
    public long assignableCount() { return (1L << (32 - prefix)) - 3; }

    /** An address with this subnet's prefix, e.g. 198.18.10.7/24. */
    public String withPrefix(String ip) {
        return check(ip, Map.of()) + "/" + prefix;
    }

    public boolean contains(String ip) {
        Integer a = parseIp(ip);
        return a != null && (a & mask(prefix)) == network;
    }

    /** True when the two subnets share any address. */
    public boolean overlaps(String otherCidr) {
        return overlaps(of(otherCidr));
    }

    public boolean overlaps(Ipam other) {
        int p = Math.min(prefix, other.prefix);
        return (network & mask(p)) == (other.network & mask(p));
    }

    /**
     * The lowest free address from gateway + 1; taken holds addresses in use (others' addresses and
     * unparsable entries are ignored). Throws CONFLICT when the subnet is full.
     */
    public String allocate(Set<String> taken) {
        TreeSet<Integer> used = new TreeSet<>();
        for (String t : taken) {
            Integer a = parseIp(t == null ? null : stripPrefix(t));
            if (a != null) used.add(a);
        }
        int last = broadcastInt() - 1;
        for (long a = Integer.toUnsignedLong(network) + 2; a <= Integer.toUnsignedLong(last); a++) {
            if (!used.contains((int) a)) return format((int) a);
        }
        throw VmctlException.conflict("allocate address: subnet " + cidr() + ": no free address",
                assignableCount() + " assignable address(es), all in use");
    }

    /**
     * Checks an address a user asked for: INVALID when it is not an IPv4 address, is outside the
     * subnet, or is its network/broadcast address; CONFLICT when it is the gateway or is a key of
     * owners (address → who holds it, e.g. "vm web-1 nic 0"). Returns the address in canonical form.
     */
    public String check(String ip, Map<String, String> owners) {
        Integer a = parseIp(ip == null ? null : ip.strip());
        if (a == null) throw VmctlException.invalid("ip", "'" + ip + "' is not an IPv4 address", "an address in " + cidr() + ", e.g. " + format(network + 2));
        String canon = format(a);
        String range = format(network + 2) + " to " + lastHost();
        if ((a & mask(prefix)) != network) throw VmctlException.invalid("ip", canon + " is outside the subnet " + cidr(), range);
        if (a == network) throw VmctlException.invalid("ip", canon + " is the network address of " + cidr(), range);
        if (a == broadcastInt()) throw VmctlException.invalid("ip", canon + " is the broadcast address of " + cidr(), range);
        if (a == network + 1) throw VmctlException.conflict("ip " + canon + " is reserved for the gateway of " + cidr(), "allowed: " + range);
        for (Map.Entry<String, String> e : owners.entrySet()) {
            Integer o = parseIp(e.getKey() == null ? null : stripPrefix(e.getKey()));
            if (o != null && o.intValue() == a) {
                throw VmctlException.conflict("ip " + canon + " already in use by " + e.getValue(), "subnet " + cidr());
            }
        }
        return canon;
    }

    // ---- address arithmetic ---------------------------------------------------------------------

    private int broadcastInt() { return network | ~mask(prefix); }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    private static String stripPrefix(String s) {
        int i = s.indexOf('/');
        return i < 0 ? s.strip() : s.substring(0, i).strip();
    }

    /** Strict dotted-quad parser (no leading zeros, no DNS): null when it is not one. */
    static Integer parseIp(String s) {
        if (s == null) return null;
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) return null;
        int v = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) return null;
            if (p.length() > 1 && p.charAt(0) == '0') return null;
            int o = Integer.parseInt(p);
            if (o > 255) return null;
            v = (v << 8) | o;
        }
        return v;
    }

    static String format(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    @Override
    public String toString() { return cidr(); }

    @Override
    public boolean equals(Object o) { return o instanceof Ipam i && i.network == network && i.prefix == prefix; }

    @Override
    public int hashCode() { return network * 31 + prefix; }
}
