package dev.vmctl.model;

import java.util.Map;

/** One NIC of a VM as the API shows it. {@code name} is the guest's interface name (eth0, eth1, …). */
public record NicView(String name, int index, String network, String mac, String ip, Integer prefix,
                      String link, Impairment impair, Map<String, String> mechanisms, String tap) {
}
