package dev.vmctl.model;

import java.util.Map;

/** One NIC of a VM as the API shows it. {@code name} is the guest's interface name (eth0, eth1, …). */
public record NicView(String name, int index, String network, String mac, String ip, Integer prefix,
                      String link, Impairment impair, Map<String, String> mechanisms, String tap, Long rateKbit) {
    /** Without a default rate (rateKbit null: the link is as fast as the host can go). */
    public NicView(String name, int index, String network, String mac, String ip, Integer prefix,
                   String link, Impairment impair, Map<String, String> mechanisms, String tap) {
        this(name, index, network, mac, ip, prefix, link, impair, mechanisms, tap, null);
    }
}
