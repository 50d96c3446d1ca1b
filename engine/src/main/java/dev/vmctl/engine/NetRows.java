package dev.vmctl.engine;

import dev.vmctl.model.Impairment;

/** Rows of the network tables. */
final class NetRows {
    private NetRows() {}

    record NetRow(String id, String name, String subnet, String gateway, Integer vlan, String bridge, String createdAt) {}

    record RouterRow(String id, String name, String netns, String createdAt) {}

    record RouteRow(String routerId, String to, String via) {}

    /** One NIC of a VM. {@code linkUp} is the user's wish (persisted; re-applied after restarts). */
    record NicRow(String vmId, int index, String networkId, String mac, String ip, boolean linkUp, Impairment impair) {
        String name() { return "eth" + index; }

        NicRow withLink(boolean up) { return new NicRow(vmId, index, networkId, mac, ip, up, impair); }

        NicRow withImpair(Impairment i) { return new NicRow(vmId, index, networkId, mac, ip, linkUp, i); }

        NicRow withNetwork(String net, String newIp) { return new NicRow(vmId, index, net, mac, newIp, linkUp, impair); }
    }
}
