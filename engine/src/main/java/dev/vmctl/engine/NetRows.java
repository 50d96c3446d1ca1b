package dev.vmctl.engine;

import dev.vmctl.model.Impairment;

/** Rows of the network tables. */
final class NetRows {
    private NetRows() {}

    record NetRow(String id, String name, String subnet, String gateway, Integer vlan, String bridge, String createdAt) {}

    record RouterRow(String id, String name, String netns, String createdAt) {}

    record RouteRow(String routerId, String to, String via) {}

    /** One NIC of a VM. {@code linkUp} is the user's wish (persisted; re-applied after restarts). */
    /** A VM's NIC; {@code rateKbit}: its default rate both ways (0: none), what {@code link clear} returns to. */
    record NicRow(String vmId, int index, String networkId, String mac, String ip, boolean linkUp, Impairment impair, long rateKbit) {
        NicRow(String vmId, int index, String networkId, String mac, String ip, boolean linkUp, Impairment impair) {
            this(vmId, index, networkId, mac, ip, linkUp, impair, 0);
        }

        String name() { return "eth" + index; }

        NicRow withLink(boolean up) { return new NicRow(vmId, index, networkId, mac, ip, up, impair, rateKbit); }

        NicRow withImpair(Impairment i) { return new NicRow(vmId, index, networkId, mac, ip, linkUp, i, rateKbit); }

        NicRow withNetwork(String net, String newIp) { return new NicRow(vmId, index, net, mac, newIp, linkUp, impair, rateKbit); }

        NicRow withRate(long kbit) { return new NicRow(vmId, index, networkId, mac, ip, linkUp, impair, kbit); }

        /**
         * What the host shapes: the impairment with the default rate where the impairment sets none (null when there
         * is neither; an impairment's own rate wins).
         */
        Impairment effectiveImpair() {
            if (rateKbit <= 0 || (impair != null && impair.hasRate())) return impair;
            Impairment i = impair == null ? new Impairment(0, 0, 0, 0, 0, 0) : impair;
            return new Impairment(i.delayMs(), i.jitterMs(), i.lossPercent(), rateKbit, i.corruptPercent(), i.duplicatePercent(), i.direction());
        }
    }
}
