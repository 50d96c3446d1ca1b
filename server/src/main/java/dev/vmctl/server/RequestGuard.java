package dev.vmctl.server;

import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;

import java.net.URI;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Keeps web pages the user visits from driving the server (a root service):
 * <ul>
 * <li><b>DNS rebinding:</b> the {@code Host} header must name this server: an IP literal, {@code localhost}, the
 *     listen address, or a name given with {@code VMCTL_ALLOWED_HOSTS} (comma-separated). A page served from
 *     {@code evil.example} that re-resolves its name to 127.0.0.1 sends {@code Host: evil.example}: refused.</li>
 * <li><b>Cross-site requests:</b> a state-changing request (anything but GET, HEAD, OPTIONS) whose {@code Origin}
 *     is not the server's own (same host and port as {@code Host}), is {@code null}, or that the browser marks
 *     {@code Sec-Fetch-Site: cross-site}, is refused. Clients that are not browsers (the CLI, curl) send no Origin.</li>
 * </ul>
 * Refusals are 403 in the API's error shape, before any route runs.
 */
final class RequestGuard {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS");

    private final Set<String> allowedHosts;

    RequestGuard(String listenHost, String extra) {
        java.util.Set<String> s = new java.util.HashSet<>(Set.of("localhost", "127.0.0.1", "::1", "[::1]"));
        if (listenHost != null && !listenHost.isBlank()) s.add(listenHost.toLowerCase(Locale.ROOT));
        if (extra != null) for (String h : extra.split(",")) if (!h.isBlank()) s.add(h.strip().toLowerCase(Locale.ROOT));
        this.allowedHosts = Set.copyOf(s);
    }

    void check(Context ctx) {
        String host = ctx.header("Host");
        String hostName = hostName(host);
        if (hostName != null && !allowed(hostName)) {
            throw new VmctlException(VmctlException.Kind.FORBIDDEN, "host " + hostName + " is not this server's",
                    "allowed Host names: IP addresses, " + String.join(", ", allowedHosts.stream().sorted().toList())
                            + " (add names with VMCTL_ALLOWED_HOSTS; this refusal protects against DNS rebinding)");
        }
        if (SAFE.contains(ctx.method().name())) return;
        if ("cross-site".equals(ctx.header("Sec-Fetch-Site"))) {
            throw new VmctlException(VmctlException.Kind.FORBIDDEN, "cross-site request refused",
                    "state-changing requests come from the vmctl GUI, the CLI or a client that is not a browser");
        }
        String origin = ctx.header("Origin");
        if (origin == null) return;
        if (!sameOrigin(origin, host)) {
            throw new VmctlException(VmctlException.Kind.FORBIDDEN, "cross-origin request refused: Origin " + origin,
                    "state-changing requests are accepted from this server's own pages (Origin http://" + host + ") or without Origin");
        }
    }

    private boolean allowed(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return allowedHosts.contains(n) || IPV4.matcher(n).matches() || n.startsWith("[") || n.contains(":");
    }

    /** The host part of a Host header ("[::1]:7070" → "[::1]", "localhost:7070" → "localhost"). */
    static String hostName(String host) {
        if (host == null || host.isBlank()) return null;
        String h = host.strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    static boolean sameOrigin(String origin, String host) {
        if (host == null || "null".equals(origin)) return false;
        try {
            URI u = URI.create(origin);
            if (u.getHost() == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) return false;
            String authority = u.getRawAuthority();
            return authority != null && authority.equalsIgnoreCase(host.strip());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
