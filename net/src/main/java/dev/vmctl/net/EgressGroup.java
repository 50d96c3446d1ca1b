package dev.vmctl.net;

import dev.vmctl.model.VmctlException;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's egress limit: what all of a node's VMs send, together, through one ifb ({@link NetNames#egressIfb}) with
 * an HTB tree (the host kernel has htb, u32 and mirred; it lacks act_skbedit, so classes are chosen on the ifb by the
 * member's IPv4 source address):
 * <pre>
 * tap ingress ──u32 match-all, mirred redirect──▶ ifb vq…   root htb 1: (default 1:ffff)
 *                                                             └ 1:1     rate = ceil = the node's limit
 *                                                                 ├ 1:10, 1:11 … one per NIC: rate = its share, ceil = min(NIC rate, limit)
 *                                                                 │      [netem leaf when the host has netem and the NIC impairs what it sends]
 *                                                                 └ 1:ffff what no NIC's address matches (ARP, DHCP …)
 * </pre>
 * Every member gets an equal guaranteed share (the limit over members + 1) and may borrow up to its own ceiling, so
 * the node's NICs together never send more than the limit. {@link #apply} rebuilds the whole tree (idempotent; an
 * empty member list removes the ifb). The host→guest side of each tap stays with {@link Shaper#applyToGuest}.
 */
public final class EgressGroup {
    /** One NIC in the group: its tap, its IPv4 addresses, its own ceiling (0: the group's) and netem on what it sends. */
    public record Member(String port, List<String> ipv4, long ceilBitsPerSec, LinkShape.Netem netem) {
        public Member {
            ipv4 = List.copyOf(ipv4);
        }
    }

    private static final String DEFAULT_MINOR = "ffff";
    /** Members are 1:10, 1:11, … (1:1 is the node's class, 1:ffff the default one). */
    static final int FIRST_MINOR = 0x10;
    private static final int MAX_MEMBERS = 0xffff - FIRST_MINOR;

    private final Netns ns;
    private final Shaper shaper;

    public EgressGroup(Netns ns, Shaper shaper) {
        this.ns = ns;
        this.shaper = shaper;
    }

    /** Makes the group's ifb shape exactly these members at {@code bitsPerSec} together. */
    public void apply(String ifb, long bitsPerSec, List<Member> members) {
        NetNames.checkIfName("interface", ifb);
        if (members.isEmpty()) {
            ns.deleteLink(ifb);
            return;
        }
        if (members.size() > MAX_MEMBERS) throw VmctlException.invalid("nics", members.size() + " NICs in one node", "at most " + MAX_MEMBERS);
        String subject = ifb + " in " + ns.name();
        shaper.ensureIfb(ifb);
        shaper.delRootIfCustom(ifb); // a fresh tree: the classes and filters of members that left go with it
        for (List<String> argv : argv(ns, ifb, bitsPerSec, members)) HostCmd.check("shape node egress", subject, argv);
    }

    /** The commands that build the tree and point each member's ingress at it. */
    static List<List<String>> argv(Netns ns, String ifb, long bitsPerSec, List<Member> members) {
        long share = Math.max(bitsPerSec / (members.size() + 1), LinkShape.MIN_RATE);
        List<List<String>> cmds = new ArrayList<>();
        cmds.add(ns.tcArgv("qdisc", "replace", "dev", ifb, "root", "handle", "1:", "htb", "default", DEFAULT_MINOR));
        cmds.add(ns.tcArgv("class", "replace", "dev", ifb, "parent", "1:", "classid", "1:1", "htb",
                "rate", bitsPerSec + "bit", "ceil", bitsPerSec + "bit"));
        cmds.add(ns.tcArgv("class", "replace", "dev", ifb, "parent", "1:1", "classid", "1:" + DEFAULT_MINOR, "htb",
                "rate", share + "bit", "ceil", bitsPerSec + "bit"));
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            String minor = Integer.toHexString(FIRST_MINOR + i);
            long ceil = m.ceilBitsPerSec() > 0 ? Math.min(m.ceilBitsPerSec(), bitsPerSec) : bitsPerSec;
            long rate = Math.min(share, ceil);
            cmds.add(ns.tcArgv("class", "replace", "dev", ifb, "parent", "1:1", "classid", "1:" + minor, "htb",
                    "rate", rate + "bit", "ceil", ceil + "bit"));
            if (m.netem() != null) {
                cmds.add(Netns.prefixed(ns.tcArgv("qdisc", "replace", "dev", ifb, "parent", "1:" + minor, "handle", Integer.toHexString(FIRST_MINOR + i) + ":"),
                        Shaper.netemParams(m.netem())));
            }
            for (String ip : m.ipv4()) {
                cmds.add(ns.tcArgv("filter", "add", "dev", ifb, "parent", "1:", "protocol", "ip", "prio", "1",
                        "u32", "match", "ip", "src", ip + "/32", "flowid", "1:" + minor));
            }
            cmds.addAll(Shaper.ingressRedirectArgv(ns, m.port(), ifb));
        }
        return cmds;
    }
}
