package dev.vmctl.net;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * One qdisc as {@code tc -json qdisc show dev X} reports it.
 *
 * @param parent the parent handle ("1:1", "ffff:fff1"), or null for a root qdisc
 * @param options the qdisc's options as tc prints them (tbf: rate in bytes/s, burst, lat in µs; netem: delay, loss, …)
 */
public record QdiscInfo(String kind, String handle, String parent, boolean root, Map<String, Object> options) {

    static QdiscInfo fromJson(JsonNode n) {
        JsonNode o = n.get("options");
        Map<String, Object> opts = o == null || !o.isObject() ? Map.of()
                : HostCmd.JSON.convertValue(o, new TypeReference<Map<String, Object>>() {});
        return new QdiscInfo(HostCmd.text(n, "kind"), HostCmd.text(n, "handle"), HostCmd.text(n, "parent"),
                n.path("root").asBoolean(false), opts);
    }

    /** The kernel's default qdisc (handle 0:), i.e. nothing vmctl put there. */
    public boolean isDefault() {
        return "0:".equals(handle);
    }

    public boolean isIngress() {
        return "ingress".equals(kind);
    }
}
