package dev.vmctl.engine;

import dev.vmctl.model.Impairment;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** {@link HostNet} in memory: what the engine asked for, no namespaces or links (unit tests of the engine). */
final class FakeHostNet implements HostNet {
    final String name;
    final Set<String> links = ConcurrentHashMap.newKeySet();
    /** segment namespaces ({@link #in}) by name */
    final java.util.Map<String, FakeHostNet> children = new ConcurrentHashMap<>();

    FakeHostNet() {
        this("vmctl-fake");
    }

    FakeHostNet(String name) {
        this.name = name;
    }
    volatile boolean fabric;
    volatile boolean hostNetem;
    /** id → [ipsA, ipsB] */
    final java.util.Map<String, List<List<String>>> partitions = new ConcurrentHashMap<>();

    @Override public String fabric() { return name; }
    @Override public HostNet in(String netns) { return netns.equals(name) ? this : children.computeIfAbsent(netns, FakeHostNet::new); }
    @Override public boolean fabricExists() { return fabric; }
    @Override public void ensureFabric() { fabric = true; }
    @Override public void destroyFabric() { fabric = false; partitions.clear(); }
    @Override public void ensureBridge(String bridge, Integer vlan) { links.add(bridge); }
    @Override public void deleteBridge(String bridge) { links.remove(bridge); }
    @Override public boolean ensureTap(String tap, String bridge, Integer vlan, boolean up) { return links.add(tap); }
    @Override public void setTapUp(String tap, boolean up) { }
    @Override public void deleteTap(String tap) { links.remove(tap); }
    @Override public String applyRate(String tap, long rateKbit) { return "fake"; }
    @Override public String applyHostNetem(String tap, Impairment impairment) { return "fake"; }
    @Override public void clearShaping(String tap) { }
    @Override public boolean hostNetem() { return hostNetem; }
    @Override public String vlanMechanism() { return "fake"; }
    @Override public String routerNs(String routerId) { return name + "-r" + routerId; }
    @Override public String routerPrefix() { return name + "-r"; }
    @Override public void ensureRouter(String netns) { }
    @Override public void deleteRouter(String netns) { }
    @Override public void connectRouter(String netns, String leg, String bridge, String addressCidr) { }
    @Override public void replaceRoute(String netns, String to, String via) { }
    @Override public List<String> fabricLinks() { return new ArrayList<>(links); }
    @Override public List<String> namespaces(String prefix) { return List.of(); }
    @Override public void partition(String id, List<String> ipsA, List<String> ipsB) { partitions.put(id, List.of(List.copyOf(ipsA), List.copyOf(ipsB))); }
    @Override public void unpartition(String id) { partitions.remove(id); }
    @Override public List<String> partitions() { return partitions.keySet().stream().sorted().toList(); }
    @Override public String partitionMechanism() { return "fake"; }

    /** key → [rateKbit, members] of the last applyEgressGroup (absent once it had no members) */
    final java.util.Map<String, java.util.Map.Entry<Long, List<EgressMember>>> egressGroups = new ConcurrentHashMap<>();
    /** taps shaped towards the guest only (their egress is a group's) */
    final Set<String> toGuestOnly = ConcurrentHashMap.newKeySet();

    @Override public String shapeToGuest(String tap, Impairment impairment) { toGuestOnly.add(tap); return "fake"; }

    @Override
    public void applyEgressGroup(String key, long rateKbit, List<EgressMember> members) {
        if (members.isEmpty()) egressGroups.remove(key); else egressGroups.put(key, java.util.Map.entry(rateKbit, List.copyOf(members)));
    }
}
