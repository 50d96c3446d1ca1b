package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.VmctlException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Network partitions in a fabric namespace: IPv4 traffic between two groups of addresses is dropped both
 * ways while every link stays up (ARP still passes, so the guests see a silent network, not a cable pulled).
 *
 * <p>One nftables table per partition, {@code bridge vmctl_part_<id>}, with a forward chain:
 * <pre>
 * table bridge vmctl_part_ID {
 *   chain forward {
 *     type filter hook forward priority filter; policy accept;
 *     ip saddr { A… } ip daddr { B… } drop
 *     ip saddr { B… } ip daddr { A… } drop
 *   }
 * }
 * </pre>
 * The bridge family's forward hook sees every frame a fabric bridge passes from one port to another: VM to
 * VM on one segment, and routed traffic as it crosses the first bridge (VM port → router port). The fabric
 * has no addresses of its own and does not forward IPv4, so no input, output or ip-family chains are needed.
 * A table is replaced in one nft transaction ({@code add; delete; add} on stdin of {@code nft -f -}), so
 * re-applying a partition never opens a gap; the tables go with the fabric namespace.
 */
public final class Partitions {
    public static final String TABLE_PREFIX = "vmctl_part_";
    public static final String PACKAGE = "nftables";
    private static final Pattern ID = Pattern.compile("[a-z0-9]{1,24}");
    private static final Duration NFT_TIMEOUT = Duration.ofSeconds(30);

    private final Netns ns;

    public Partitions(Netns ns) {
        this.ns = ns;
    }

    /** Whether the nft program is installed (the kernel side is tried by {@code HostCapabilities}: "nftBridge"). */
    public static boolean nftInstalled() {
        return Cmd.available("nft");
    }

    /**
     * What {@code vmctl doctor} shows: the mechanism, or why there is none and what to do.
     *
     * @param available whether nft can make a bridge-family table here (HostCapabilities "nftBridge")
     * @param detail    the probe's detail when not available
     */
    public static String mechanism(boolean available, String detail) {
        if (available) return "nftables bridge-family forward chain in the fabric namespace (one table " + TABLE_PREFIX + "<id> per partition)";
        return "unavailable: " + (detail == null || detail.isBlank() ? "nft is not installed" : detail) + "; " + remedy();
    }

    /** What makes partitions possible: the nftables package, or a kernel with nf_tables' bridge family. */
    public static String remedy() {
        return nftInstalled()
                ? "the host kernel needs nf_tables with the bridge family (CONFIG_NF_TABLES_BRIDGE)"
                : "install the " + PACKAGE + " package (apt-get install " + PACKAGE + ") and restart the server";
    }

    /** The table of a partition: "vmctl_part_" + id. */
    public static String table(String id) {
        return TABLE_PREFIX + checkId(id);
    }

    /** Checks a partition id: 1 to 24 lower-case letters or digits. */
    public static String checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw VmctlException.invalid("partition id", "'" + id + "' is not a partition id", "1 to 24 lower-case letters or digits, e.g. split1");
        }
        return id;
    }

    /**
     * Drops IPv4 between the groups, both ways; replaces a partition of the same id. Each group is a list of
     * IPv4 addresses or prefixes (198.18.1.5, 198.18.2.0/24); the groups must be non-empty and disjoint as written.
     */
    public void apply(String id, List<String> groupA, List<String> groupB) {
        String table = table(id);
        List<String> a = group("ipsA", groupA);
        List<String> b = group("ipsB", groupB);
        Set<String> both = new LinkedHashSet<>(a);
        both.retainAll(b);
        if (!both.isEmpty()) {
            throw VmctlException.invalid("ipsB", "address(es) " + String.join(", ", both) + " are in both groups", "two disjoint groups");
        }
        requireNft("partition " + id);
        CmdResult r = Cmd.run(ns.execArgv(List.of("nft", "-f", "-")), script(table, a, b).getBytes(StandardCharsets.UTF_8), null, NFT_TIMEOUT);
        if (!r.ok()) throw HostCmd.failed("partition", id + " in " + ns.name(), r);
    }

    /** Removes the partition; fine when it does not exist (or nft is not installed: then none can). */
    public void remove(String id) {
        String table = table(id);
        if (!nftInstalled() || !ns.exists()) return;
        CmdResult r = Cmd.run(ns.execArgv(List.of("nft", "delete", "table", "bridge", table)), null, null, NFT_TIMEOUT);
        if (!r.ok() && list().contains(id)) throw HostCmd.failed("unpartition", id + " in " + ns.name(), r);
    }

    /** Ids of the partitions that exist in the namespace, sorted (empty when it or nft does not exist). */
    public List<String> list() {
        if (!nftInstalled() || !ns.exists()) return List.of();
        CmdResult r = Cmd.run(ns.execArgv(List.of("nft", "-j", "list", "tables", "bridge")), null, null, NFT_TIMEOUT);
        if (!r.ok()) throw HostCmd.failed("list partitions", ns.name(), r);
        return ids(HostCmd.json("list partitions", ns.name(), r));
    }

    // ---- the commands ---------------------------------------------------------------------------

    /** The nft script that makes table exactly this partition, in one transaction. */
    static String script(String table, List<String> a, List<String> b) {
        String setA = "{ " + String.join(", ", a) + " }";
        String setB = "{ " + String.join(", ", b) + " }";
        return """
                table bridge %1$s
                delete table bridge %1$s
                table bridge %1$s {
                  chain forward {
                    type filter hook forward priority filter; policy accept;
                    ip saddr %2$s ip daddr %3$s drop
                    ip saddr %3$s ip daddr %2$s drop
                  }
                }
                """.formatted(table, setA, setB);
    }

    /** Partition ids from {@code nft -j list tables}: bridge tables named vmctl_part_…, sorted. */
    static List<String> ids(JsonNode doc) {
        List<String> out = new ArrayList<>();
        for (JsonNode item : doc.path("nftables")) {
            JsonNode t = item.get("table");
            if (t == null || !"bridge".equals(HostCmd.text(t, "family"))) continue;
            String name = HostCmd.text(t, "name");
            if (name != null && name.startsWith(TABLE_PREFIX) && ID.matcher(name.substring(TABLE_PREFIX.length())).matches()) {
                out.add(name.substring(TABLE_PREFIX.length()));
            }
        }
        out.sort(null);
        return out;
    }

    /** Validated, normalised (198.18.1.5, 198.18.2.0/24), duplicates dropped, order kept. */
    static List<String> group(String field, List<String> ips) {
        if (ips == null || ips.isEmpty()) {
            throw VmctlException.invalid(field, "no addresses", "one or more IPv4 addresses or prefixes, e.g. 198.18.1.5 or 198.18.2.0/24");
        }
        Set<String> out = new LinkedHashSet<>();
        for (String s : ips) out.add(address(field, s));
        return List.copyOf(out);
    }

    private static String address(String field, String s) {
        String allowed = "an IPv4 address or prefix, e.g. 198.18.1.5 or 198.18.2.0/24";
        String t = s == null ? "" : s.strip();
        int slash = t.indexOf('/');
        Integer ip = Ipam.parseIp(slash < 0 ? t : t.substring(0, slash));
        if (ip == null) throw VmctlException.invalid(field, "'" + s + "' is not an IPv4 address", allowed);
        if (slash < 0) return Ipam.format(ip);
        String p = t.substring(slash + 1);
        if (!p.matches("[0-9]{1,2}") || Integer.parseInt(p) > 32) throw VmctlException.invalid(field, "'" + s + "' has no valid prefix length", allowed);
        int prefix = Integer.parseInt(p);
        if ((ip & ~Ipam.mask(prefix)) != 0) {
            throw VmctlException.invalid(field, "'" + s + "' has host bits set", "the network address, e.g. " + Ipam.format(ip & Ipam.mask(prefix)) + "/" + prefix);
        }
        return prefix == 32 ? Ipam.format(ip) : Ipam.format(ip) + "/" + prefix;
    }

    private static void requireNft(String subject) {
        if (!nftInstalled()) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, subject + ": nft is not installed", remedy());
        }
    }

    @Override
    public String toString() { return "partitions in " + ns.name(); }
}
