package dev.vmctl.topology;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What must happen to turn the {@link Current} state of a topology into the desired {@link TopologySpec}.
 *
 * <p>{@link #actions()} is in display and execution order: VM deletions (dependants first), router
 * deletions, network deletions, network creations, router creations, then VM changes and creations
 * (start stage by start stage). A {@link ChangeVm} is one action for display, but executes as a
 * deletion in phase {@link Phase#DELETE_VMS} and a creation in phase {@link Phase#CREATE_VMS}; use
 * {@link #phase} (or {@link #vmDeleteWaves}/{@link #vmCreateWaves}) to execute. Actions of one phase
 * (of one wave, for VMs) are independent of each other and may run in parallel.
 *
 * <p>A network whose subnet or VLAN changed is deleted and created again, and so are the routers and
 * VMs on it; a router whose networks or routes changed is deleted and created again.
 *
 * <p>A node the file did not create ({@link Current#clonedNodes()}: made by {@code vmctl node clone}) and does
 * not name is left as it is: none of its VMs is deleted, and it is listed in {@link #keptNodes()}. A file
 * that names such a node takes it over (its VMs are compared with the file's like any others).
 */
public record TopologyPlan(String topology, List<Action> actions, List<String> keptNodes) {

    public TopologyPlan {
        actions = List.copyOf(actions);
        keptNodes = keptNodes == null ? List.of() : List.copyOf(keptNodes);
    }

    public TopologyPlan(String topology, List<Action> actions) {
        this(topology, actions, List.of());
    }

    /** Execution phases, in order. */
    public enum Phase { DELETE_VMS, DELETE_ROUTERS, DELETE_NETWORKS, CREATE_NETWORKS, CREATE_ROUTERS, CREATE_VMS }

    /** One step of the plan; {@link #description()} is the line the CLI shows. */
    public sealed interface Action permits CreateNetwork, DeleteNetwork, CreateRouter, DeleteRouter, CreateVm, DeleteVm, ChangeVm {
        /** create, delete or change */
        String verb();

        /** network, router or vm */
        String type();

        /** The deployed name, e.g. shop-public, shop-svc-api. */
        String deployedName();

        /** e.g. "create vm shop-svc-api (api-handler) on public, internal" */
        String description();
    }

    /** @param reason null, or why (e.g. "re-created: subnet 198.18.1.0/24 → 198.18.3.0/24") */
    public record CreateNetwork(TopologySpec.Network network, String deployedName, String reason) implements Action {
        public String verb() { return "create"; }
        public String type() { return "network"; }
        public String description() {
            return "create network " + deployedName + " " + network.subnet()
                    + (network.vlan() == null ? "" : " vlan " + network.vlan()) + because(reason);
        }
    }

    public record DeleteNetwork(Current.Network network, String deployedName, String reason) implements Action {
        public String verb() { return "delete"; }
        public String type() { return "network"; }
        public String description() {
            return "delete network " + deployedName + " " + network.subnet()
                    + (network.vlan() == null ? "" : " vlan " + network.vlan()) + because(reason);
        }
    }

    public record CreateRouter(TopologySpec.Router router, String deployedName, String reason) implements Action {
        public String verb() { return "create"; }
        public String type() { return "router"; }
        public String description() {
            return "create router " + deployedName + " joining " + String.join(", ", router.networks())
                    + routes(router.routes()) + because(reason);
        }
    }

    public record DeleteRouter(Current.Router router, String deployedName, String reason) implements Action {
        public String verb() { return "delete"; }
        public String type() { return "router"; }
        public String description() { return "delete router " + deployedName + because(reason); }
    }

    /** @param stage the VM's start stage within its node ({@link StartOrder}) */
    public record CreateVm(String node, TopologySpec.Vm vm, String deployedName, int stage) implements Action {
        public String verb() { return "create"; }
        public String type() { return "vm"; }
        public String description() {
            return "create vm " + deployedName + " (" + vm.effectiveRole() + ") " + nics(vm.nics());
        }
    }

    public record DeleteVm(Current.Vm vm) implements Action {
        public String verb() { return "delete"; }
        public String type() { return "vm"; }
        public String deployedName() { return vm.topologyVmName(); }
        public String description() { return "delete vm " + vm.topologyVmName() + " (" + vm.role() + ")"; }
    }

    /**
     * A VM whose NICs, cpus, memory, image or role changed (or whose network is re-created): for now
     * deleted and created again.
     *
     * @param changes what differs, e.g. "nics public, internal → public", "memory 128M → 256M"
     */
    public record ChangeVm(String node, Current.Vm old, TopologySpec.Vm vm, String deployedName, int stage,
                           List<String> changes) implements Action {
        public ChangeVm {
            changes = List.copyOf(changes);
        }
        public String verb() { return "change"; }
        public String type() { return "vm"; }
        public String description() {
            return "change vm " + deployedName + " (" + vm.effectiveRole() + "): " + String.join("; ", changes);
        }
    }

    // ---- computing ---------------------------------------------------------------------------------

    /** The plan from current to desired; desired must be valid (as {@link TopologyParser} returns it). */
    public static TopologyPlan of(TopologySpec desired, Current current) {
        return ParseLane.call(() -> planHere(desired, current));
    }

    private static TopologyPlan planHere(TopologySpec desired, Current current) {
        List<Action> deleteVms = new ArrayList<>(), deleteRouters = new ArrayList<>(), deleteNets = new ArrayList<>();
        List<Action> createNets = new ArrayList<>(), createRouters = new ArrayList<>(), vmActions = new ArrayList<>();

        // networks
        Map<String, Current.Network> curNets = byName(current.networks(), Current.Network::name);
        Map<String, String> recreatedNets = new LinkedHashMap<>(); // name → reason
        Set<String> desiredNets = new HashSet<>();
        for (TopologySpec.Network n : desired.networks()) {
            desiredNets.add(n.name());
            Current.Network c = curNets.get(n.name());
            if (c == null) {
                createNets.add(new CreateNetwork(n, desired.networkName(n.name()), null));
                continue;
            }
            List<String> diff = new ArrayList<>();
            if (!Objects.equals(c.subnet(), n.subnet())) diff.add("subnet " + c.subnet() + " → " + n.subnet());
            if (!Objects.equals(c.vlan(), n.vlan())) diff.add("vlan " + orNone(c.vlan()) + " → " + orNone(n.vlan()));
            if (!diff.isEmpty()) {
                String reason = "re-created: " + String.join(", ", diff);
                recreatedNets.put(n.name(), reason);
                deleteNets.add(new DeleteNetwork(c, desired.networkName(c.name()), reason));
                createNets.add(new CreateNetwork(n, desired.networkName(n.name()), reason));
            }
        }
        for (Current.Network c : current.networks()) {
            if (!desiredNets.contains(c.name())) deleteNets.add(new DeleteNetwork(c, desired.networkName(c.name()), null));
        }

        // routers
        Map<String, Current.Router> curRouters = byName(current.routers(), Current.Router::name);
        Set<String> desiredRouters = new HashSet<>();
        for (TopologySpec.Router r : desired.routers()) {
            desiredRouters.add(r.name());
            Current.Router c = curRouters.get(r.name());
            if (c == null) {
                createRouters.add(new CreateRouter(r, desired.routerName(r.name()), null));
                continue;
            }
            List<String> diff = new ArrayList<>();
            if (!new LinkedHashSet<>(c.networks()).equals(new LinkedHashSet<>(r.networks()))) {
                diff.add("networks " + joinOrNone(c.networks()) + " → " + joinOrNone(r.networks()));
            }
            if (!routeSet(c.routes()).equals(routeSet(r.routes()))) {
                diff.add("routes " + routesOrNone(c.routes()) + " → " + routesOrNone(r.routes()));
            }
            for (String n : r.networks()) {
                if (recreatedNets.containsKey(n)) diff.add("network " + n + " is re-created");
            }
            if (!diff.isEmpty()) {
                String reason = "changed: " + String.join(", ", diff);
                deleteRouters.add(new DeleteRouter(c, desired.routerName(c.name()), reason));
                createRouters.add(new CreateRouter(r, desired.routerName(r.name()), reason));
            }
        }
        for (Current.Router c : current.routers()) {
            if (!desiredRouters.contains(c.name())) deleteRouters.add(new DeleteRouter(c, desired.routerName(c.name()), null));
        }

        // VMs
        Map<String, Current.Vm> curVms = new LinkedHashMap<>();
        for (Current.Vm v : current.vms()) curVms.put(v.node() + "/" + v.vm(), v);
        Set<String> desiredVms = new HashSet<>();
        Map<String, StartOrder> orders = StartOrder.of(desired);
        for (TopologySpec.Node node : desired.nodes()) {
            StartOrder order = orders.get(node.name());
            for (TopologySpec.Vm v : node.vms()) {
                String key = node.name() + "/" + v.name();
                desiredVms.add(key);
                String deployed = desired.vmName(node.name(), v.name());
                int stage = order.stageOf(v.name());
                Current.Vm c = curVms.get(key);
                if (c == null) {
                    vmActions.add(new CreateVm(node.name(), v, deployed, stage));
                    continue;
                }
                List<String> diff = vmDiff(c, v, recreatedNets);
                if (!diff.isEmpty()) vmActions.add(new ChangeVm(node.name(), c, v, deployed, stage, diff));
            }
        }
        Set<String> kept = new LinkedHashSet<>();
        for (Current.Vm c : current.vms()) {
            if (desiredVms.contains(c.node() + "/" + c.vm())) continue;
            if (current.clonedNodes().contains(c.node()) && desired.node(c.node()) == null) kept.add(c.node());
            else deleteVms.add(new DeleteVm(c));
        }
        vmActions.sort(Comparator.comparingInt(TopologyPlan::stageOf)); // stable: file order within a stage

        List<Action> all = new ArrayList<>();
        all.addAll(deleteVms);
        all.addAll(deleteRouters);
        all.addAll(deleteNets);
        all.addAll(createNets);
        all.addAll(createRouters);
        all.addAll(vmActions);
        return new TopologyPlan(desired.name(), all, List.copyOf(kept));
    }

    /** Everything of the topology deleted (for {@code vmctl down}): VMs, then routers, then networks. */
    public static TopologyPlan teardown(String topology, Current current) {
        TopologySpec none = new TopologySpec(TopologySpec.API_VERSION, TopologySpec.KIND, topology, null, null, null);
        return of(none, new Current(current.networks(), current.routers(), current.vms())); // cloned nodes too
    }

    // ---- reading -------------------------------------------------------------------------------

    public boolean isEmpty() { return actions.isEmpty(); }

    /** The actions to execute in a phase; a {@link ChangeVm} is in both DELETE_VMS and CREATE_VMS. */
    public List<Action> phase(Phase p) {
        return switch (p) {
            case DELETE_VMS -> actions.stream().filter(a -> a instanceof DeleteVm || a instanceof ChangeVm).toList();
            case DELETE_ROUTERS -> actions.stream().filter(a -> a instanceof DeleteRouter).toList();
            case DELETE_NETWORKS -> actions.stream().filter(a -> a instanceof DeleteNetwork).toList();
            case CREATE_NETWORKS -> actions.stream().filter(a -> a instanceof CreateNetwork).toList();
            case CREATE_ROUTERS -> actions.stream().filter(a -> a instanceof CreateRouter).toList();
            case CREATE_VMS -> actions.stream().filter(a -> a instanceof CreateVm || a instanceof ChangeVm).toList();
        };
    }

    /**
     * The VM creations (CreateVm, and the create half of ChangeVm) grouped by start stage: wave 0 first;
     * a wave starts when every VM of the previous waves is RUNNING.
     */
    public List<List<Action>> vmCreateWaves() {
        TreeMap<Integer, List<Action>> waves = new TreeMap<>();
        for (Action a : phase(Phase.CREATE_VMS)) waves.computeIfAbsent(stageOf(a), k -> new ArrayList<>()).add(a);
        return List.copyOf(waves.values());
    }

    /**
     * The VM deletions (DeleteVm, and the delete half of ChangeVm) in waves: VMs that leave the
     * topology first, then changed VMs by start stage, highest stage first (dependants stop first).
     */
    public List<List<Action>> vmDeleteWaves() {
        TreeMap<Integer, List<Action>> waves = new TreeMap<>(Comparator.reverseOrder());
        for (Action a : phase(Phase.DELETE_VMS)) {
            waves.computeIfAbsent(a instanceof ChangeVm c ? c.stage() : Integer.MAX_VALUE, k -> new ArrayList<>()).add(a);
        }
        return List.copyOf(waves.values());
    }

    /** One line per action, or the single line "nothing to do". */
    public List<String> lines() {
        return actions.isEmpty() ? List.of("nothing to do") : actions.stream().map(Action::description).toList();
    }

    /** The line shown for a node the plan leaves as it is ({@link #keptNodes()}). */
    public static String keepLine(String node) {
        return "keep node " + node + " (made by vmctl node clone; the file does not list it)";
    }

    /** "nothing to do", or e.g. "3 to create, 1 to change, 2 to delete". */
    public String summary() {
        if (actions.isEmpty()) return "nothing to do";
        List<String> parts = new ArrayList<>();
        for (String verb : List.of("create", "change", "delete")) {
            long n = actions.stream().filter(a -> a.verb().equals(verb)).count();
            if (n > 0) parts.add(n + " to " + verb);
        }
        return String.join(", ", parts);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static List<String> vmDiff(Current.Vm c, TopologySpec.Vm v, Map<String, String> recreatedNets) {
        List<String> diff = new ArrayList<>();
        if (!nicsMatch(c.nics(), v.nics())) {
            diff.add("nics " + currentNics(c.nics()) + " → " + desiredNics(v.nics()));
        }
        if (c.cpus() != v.effectiveCpus()) diff.add("cpus " + c.cpus() + " → " + v.effectiveCpus());
        if (c.memoryMiB() != v.memoryMiB()) diff.add("memory " + c.memoryMiB() + "M → " + v.memoryMiB() + "M");
        if (!Objects.equals(c.image(), v.image())) diff.add("image " + c.image() + " → " + v.image());
        if (!Objects.equals(c.role(), v.effectiveRole())) diff.add("role " + c.role() + " → " + v.effectiveRole());
        for (String n : new LinkedHashSet<>(v.networkNames())) {
            if (recreatedNets.containsKey(n)) diff.add("network " + n + " is re-created");
        }
        return diff;
    }

    /** Same networks in the same order; an address is compared only where the file gives one. */
    private static boolean nicsMatch(List<Current.Nic> cur, List<TopologySpec.Nic> want) {
        if (cur.size() != want.size()) return false;
        for (int i = 0; i < cur.size(); i++) {
            if (!Objects.equals(cur.get(i).network(), want.get(i).network())) return false;
            if (want.get(i).ip() != null && !want.get(i).ip().strip().equals(cur.get(i).ip())) return false;
        }
        return true;
    }

    private static String currentNics(List<Current.Nic> nics) {
        if (nics.isEmpty()) return "(none)";
        return nics.stream().map(n -> n.network() + (n.ip() == null ? "" : " (" + n.ip() + ")")).collect(Collectors.joining(", "));
    }

    private static String desiredNics(List<TopologySpec.Nic> nics) {
        if (nics.isEmpty()) return "(none)";
        return nics.stream().map(n -> n.network() + (n.ip() == null ? "" : " (" + n.ip() + ")")).collect(Collectors.joining(", "));
    }

    private static String nics(List<TopologySpec.Nic> nics) {
        return nics.isEmpty() ? "without NICs" : "on " + desiredNics(nics);
    }

    private static int stageOf(Action a) {
        return switch (a) {
            case CreateVm c -> c.stage();
            case ChangeVm c -> c.stage();
            default -> 0;
        };
    }

    private static Set<String> routeSet(List<TopologySpec.Route> routes) {
        Set<String> s = new HashSet<>();
        for (TopologySpec.Route r : routes) s.add(strip(r.to()) + " via " + strip(r.via()));
        return s;
    }

    private static String routes(List<TopologySpec.Route> routes) {
        if (routes.isEmpty()) return "";
        return "; routes " + routes.stream().map(r -> r.to() + " via " + r.via()).collect(Collectors.joining(", "));
    }

    private static String routesOrNone(List<TopologySpec.Route> routes) {
        return routes.isEmpty() ? "(none)" : routes.stream().map(r -> r.to() + " via " + r.via()).collect(Collectors.joining(", "));
    }

    private static String joinOrNone(List<String> l) { return l.isEmpty() ? "(none)" : String.join(", ", l); }

    private static String orNone(Object o) { return o == null ? "(none)" : o.toString(); }

    private static String strip(String s) { return s == null ? "" : s.strip(); }

    private static String because(String reason) { return reason == null ? "" : " (" + reason + ")"; }

    private static <T> Map<String, T> byName(List<T> l, java.util.function.Function<T, String> name) {
        Map<String, T> m = new LinkedHashMap<>();
        for (T t : l) m.put(name.apply(t), t);
        return m;
    }
}
