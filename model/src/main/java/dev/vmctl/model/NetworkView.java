package dev.vmctl.model;

import java.util.List;

/**
 * A network (an L2 segment with a subnet) as the API shows it; {@code segment} names the isolated segment whose
 * namespace holds it (null: the server's fabric namespace).
 */
public record NetworkView(String id, String name, String subnet, String gateway, Integer vlan, String bridge,
                          String vlanMechanism, List<String> routers, List<Attachment> attachments, String createdAt,
                          String segment) {
    public NetworkView {
        routers = routers == null ? List.of() : routers;
        attachments = attachments == null ? List.of() : attachments;
    }

    public record Attachment(String vm, String nic, String ip, String mac) {}
}
