package dev.vmctl.net;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One IPv4 route as {@code ip -json route show} reports it.
 *
 * @param dst      "default" or a CIDR ("198.18.20.0/24"; a host route is printed without /32)
 * @param gateway  the next hop, or null for a connected route
 * @param protocol "kernel" for the routes of connected subnets, "boot" for ones added with ip route
 *                 (ip prints neither the default protocol "boot" nor the default scope "universe": filled in here)
 */
public record RouteInfo(String dst, String gateway, String dev, String protocol, String scope) {

    static RouteInfo fromJson(JsonNode n) {
        return new RouteInfo(HostCmd.text(n, "dst"), HostCmd.text(n, "gateway"), HostCmd.text(n, "dev"),
                java.util.Objects.requireNonNullElse(HostCmd.text(n, "protocol"), "boot"),
                java.util.Objects.requireNonNullElse(HostCmd.text(n, "scope"), "universe"));
    }

    /** A route someone added (not the kernel's route of a connected subnet). */
    public boolean isStatic() {
        return !"kernel".equals(protocol);
    }
}
