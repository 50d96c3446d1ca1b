package dev.vmctl.topology;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The order in which the VMs of one node start: {@code stages.get(0)} holds the VMs that no other VM
 * must start before, stage k+1 the VMs whose every predecessor is in stages 0..k (Kahn's algorithm over
 * {@code startBefore}; within a stage, file order). A VM of stage k+1 starts once every VM of stages
 * 0..k it depends on is RUNNING; the VMs of one stage may start in parallel. Stopping goes the other way
 * round: {@link #stopStages()}.
 */
public record StartOrder(String node, List<List<String>> stages) {

    public StartOrder {
        stages = stages.stream().map(List::copyOf).toList();
    }

    /**
     * The start order of a node. Names in {@code startBefore} that are not VMs of the node are ignored
     * (validation reports them).
     *
     * @throws IllegalArgumentException when startBefore forms a cycle (never for a validated spec)
     */
    public static StartOrder of(TopologySpec.Node node) {
        Map<String, List<String>> before = graph(node);
        Map<String, Integer> indegree = new LinkedHashMap<>();
        for (String v : before.keySet()) indegree.put(v, 0);
        for (List<String> targets : before.values()) for (String t : targets) indegree.merge(t, 1, Integer::sum);
        List<List<String>> stages = new ArrayList<>();
        List<String> ready = new ArrayList<>();
        for (var e : indegree.entrySet()) if (e.getValue() == 0) ready.add(e.getKey());
        int placed = 0;
        while (!ready.isEmpty()) {
            stages.add(ready);
            placed += ready.size();
            Set<String> released = new HashSet<>();
            for (String v : ready) {
                for (String t : before.get(v)) if (indegree.merge(t, -1, Integer::sum) == 0) released.add(t);
            }
            List<String> next = new ArrayList<>();
            for (String v : before.keySet()) if (released.contains(v)) next.add(v); // file order
            ready = next;
        }
        if (placed != before.size()) {
            throw new IllegalArgumentException("node " + node.name() + ": startBefore has a cycle: "
                    + String.join(" → ", findCycle(before)));
        }
        return new StartOrder(node.name(), stages);
    }

    /** The start order of every node of the topology, by node name, in file order. */
    public static Map<String, StartOrder> of(TopologySpec spec) {
        Map<String, StartOrder> m = new LinkedHashMap<>();
        for (TopologySpec.Node n : spec.nodes()) m.put(n.name(), of(n));
        return m;
    }

    /** Same as {@link #stages()}: start stage 0 first. */
    public List<List<String>> startStages() { return stages; }

    /** The stages in reverse: VMs that others depend on stop last. */
    public List<List<String>> stopStages() { return stages.reversed(); }

    /** The start stage of a VM of this node, or -1. */
    public int stageOf(String vm) {
        for (int i = 0; i < stages.size(); i++) if (stages.get(i).contains(vm)) return i;
        return -1;
    }

    /** The VM names in start order (stage by stage). */
    public List<String> startSequence() { return stages.stream().flatMap(List::stream).toList(); }

    /** vm → the VMs of the node it starts before (unknown names and self references dropped), in file order. */
    static Map<String, List<String>> graph(TopologySpec.Node node) {
        Map<String, List<String>> before = new LinkedHashMap<>();
        for (TopologySpec.Vm v : node.vms()) if (v.name() != null) before.putIfAbsent(v.name(), new ArrayList<>());
        for (TopologySpec.Vm v : node.vms()) {
            if (v.name() == null) continue;
            List<String> targets = before.get(v.name());
            for (String t : v.startBefore()) {
                if (t != null && before.containsKey(t) && !t.equals(v.name()) && !targets.contains(t)) targets.add(t);
            }
        }
        return before;
    }

    /**
     * A cycle of the graph as [a, b, …, a] (a starts before b …), the first one found walking the VMs
     * in file order; empty when there is none.
     */
    static List<String> findCycle(Map<String, List<String>> before) {
        Map<String, Integer> state = new LinkedHashMap<>(); // 1 = on the path, 2 = done
        for (String start : before.keySet()) {
            List<String> cycle = dfs(start, before, state, new ArrayList<>());
            if (!cycle.isEmpty()) return cycle;
        }
        return List.of();
    }

    private static List<String> dfs(String v, Map<String, List<String>> before, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(v);
        if (s != null && s == 2) return List.of();
        if (s != null && s == 1) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(v), path.size()));
            cycle.add(v);
            return cycle;
        }
        state.put(v, 1);
        path.add(v);
        for (String t : before.getOrDefault(v, List.of())) {
            List<String> c = dfs(t, before, state, path);
            if (!c.isEmpty()) return c;
        }
        path.removeLast();
        state.put(v, 2);
        return List.of();
    }

    /** Every cycle, reported once: find one, drop its VMs, repeat. */
    static List<List<String>> findCycles(Map<String, List<String>> before) {
        Map<String, List<String>> g = new LinkedHashMap<>();
        before.forEach((k, v) -> g.put(k, new ArrayList<>(v)));
        List<List<String>> out = new ArrayList<>();
        while (true) {
            List<String> c = findCycle(g);
            if (c.isEmpty()) return out;
            out.add(c);
            Set<String> drop = new LinkedHashSet<>(c);
            drop.forEach(g::remove);
            g.values().forEach(l -> l.removeAll(drop));
        }
    }
}
