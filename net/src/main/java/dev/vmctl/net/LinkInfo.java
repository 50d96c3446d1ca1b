package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One network interface as {@code ip -json -details link show} reports it.
 *
 * @param kind    the link type: "bridge", "tun" (a tap), "veth", "ifb", … ; "" for plain devices (lo)
 * @param master  the bridge this link is a port of, or null
 * @param adminUp the UP flag (set by "ip link set … up")
 * @param lowerUp the LOWER_UP flag (carrier; a tap has none until QEMU opens it)
 * @param peer    for a veth whose peer is in the same namespace, the peer's name; else null
 * @param alias   the interface alias (vmctl writes "vmctl …" with the owning ids), or null
 */
public record LinkInfo(String name, int ifindex, String kind, String master, boolean adminUp, boolean lowerUp,
                       String operstate, String mac, int mtu, String peer, String alias) {

    static LinkInfo fromJson(JsonNode n) {
        List<String> flags = new ArrayList<>();
        JsonNode f = n.get("flags");
        if (f != null) f.forEach(x -> flags.add(x.asText()));
        JsonNode linkinfo = n.get("linkinfo");
        String kind = linkinfo == null ? "" : Objects.requireNonNullElse(HostCmd.text(linkinfo, "info_kind"), "");
        return new LinkInfo(
                HostCmd.text(n, "ifname"),
                n.path("ifindex").asInt(),
                kind,
                HostCmd.text(n, "master"),
                flags.contains("UP"),
                flags.contains("LOWER_UP"),
                HostCmd.text(n, "operstate"),
                HostCmd.text(n, "address"),
                n.path("mtu").asInt(),
                HostCmd.text(n, "link"),
                HostCmd.text(n, "ifalias"));
    }

    public boolean isBridge() { return "bridge".equals(kind); }
    public boolean isTap() { return "tun".equals(kind); }
}
