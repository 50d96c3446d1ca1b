package dev.vmctl.model;

import java.util.List;

/** A network segment as the API shows it. */
public record NetworkView(String id, String name, String subnet, String gateway, Integer vlan, String bridge,
                          String vlanMechanism, List<String> routers, List<Attachment> attachments, String createdAt) {
    public NetworkView {
        routers = routers == null ? List.of() : routers;
        attachments = attachments == null ? List.of() : attachments;
    }

    public record Attachment(String vm, String nic, String ip, String mac) {}
}
