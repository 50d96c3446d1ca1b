package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.NetworkView;
import dev.vmctl.model.NodeSnapshotView;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.NodeVm;
import dev.vmctl.model.RouterView;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.TopologyStep;
import dev.vmctl.model.TopologyView;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.topology.Current;
import dev.vmctl.topology.StartOrder;
import dev.vmctl.topology.TopologyPlan;
import dev.vmctl.topology.TopologySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Topologies (networks, routers and nodes of VMs from one file) deployed and removed as a unit.
 * apply = parse → validate → diff against what carries the topology's labels → execute in stages
 * (deletions, networks, routers, VMs per node in start order) with bounded parallelism; progress on the
 * event stream; a report naming each element that failed and why; optional roll-back.
 */
public final class TopologyService {
    private static final Logger log = LoggerFactory.getLogger(TopologyService.class);

    private final Store store;
    private final EventBus events;
    private final VmService vms;
    private final Networks nets;
    private final SnapshotService snaps;
    private final Operations ops;
    private final ImageService images;
    private final int parallelBoots;
    private final Duration bootTimeout;

    public TopologyService(Store store, EventBus events, Engine engine, ImageService images, Duration bootTimeout) {
        this.store = store;
        this.events = events;
        this.vms = engine.vms();
        this.nets = engine.networks();
        this.snaps = engine.snapshots();
        this.ops = engine.ops();
        this.images = images;
        this.bootTimeout = bootTimeout;
        // TCG boots are CPU-bound and each keeps more than its vCPU thread busy: one boot per core deploys 10 VMs
        // on 2 cores in ~12.9 s against ~15.5 s with two per core (bench/topology/run 10, README)
        this.parallelBoots = Integer.getInteger("vmctl.parallelBoots", Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    public int parallelBoots() { return parallelBoots; }

    // ---------------------------------------------------------------- apply

    static String lane(String topo) {
        return "topology:" + topo;
    }

    static String nodeLane(String topo, String node) {
        return "node:" + topo + "/" + node;
    }

    /**
     * Applies a topology file. A dry run only plans (no operation); otherwise one {@code topology.apply}
     * operation on the topology's lane plans again when its turn comes and executes the plan; it holds the
     * VMs it creates until it ends.
     */
    public Accepted<TopologyReport> apply(String text, String fileName, boolean dryRun, boolean rollbackOnError) {
        TopologySpec spec = dev.vmctl.topology.TopologyParser.parse(text, fileName == null ? "topology" : fileName, images.names());
        if (dryRun) return new Accepted<>(null, plan(spec, text, fileName, true, rollbackOnError));
        return ops.run(Operations.Spec.of("topology.apply", lane(spec.name())), Duration.ofHours(2),
                o -> plan(spec, text, fileName, false, rollbackOnError));
    }

    private TopologyReport plan(TopologySpec spec, String text, String fileName, boolean dryRun, boolean rollbackOnError) {
        {
            Current current = current(spec.name());
            TopologyPlan plan = TopologyPlan.of(spec, current);
            checkConflicts(spec, plan);
            if (dryRun || plan.isEmpty()) {
                List<TopologyStep> steps = plan.actions().stream()
                        .map(a -> new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "planned", null, null)).toList();
                String summary = plan.isEmpty() ? "topology " + spec.name() + " is up to date: nothing to do"
                        : plan.actions().size() + " change(s) planned (dry run)";
                if (!dryRun && plan.isEmpty()) store.saveTopology(new Store.TopologyRow(spec.name(), text, fileName, Instant.now().toString()));
                return new TopologyReport(spec.name(), dryRun, true, summary, steps, 0, parallelBoots, false);
            }
            return execute(spec, text, fileName, plan, rollbackOnError);
        }
    }

    /** Names the plan would create must not belong to something outside the topology. */
    private void checkConflicts(TopologySpec spec, TopologyPlan plan) {
        List<String> clashes = new ArrayList<>();
        for (TopologyPlan.Action a : plan.actions()) {
            if (!a.verb().equals("create")) continue;
            // a re-created network or router follows the delete of the same name in this plan: no clash
            if (a instanceof TopologyPlan.CreateNetwork cn && cn.reason() != null) continue;
            if (a instanceof TopologyPlan.CreateRouter cr && cr.reason() != null) continue;
            String n = a.deployedName();
            switch (a.type()) {
                case "vm" -> store.byIdOrName(n).ifPresent(r -> clashes.add("vm " + n));
                case "network" -> store.network(n).ifPresent(r -> clashes.add("network " + n));
                default -> store.router(n).ifPresent(r -> clashes.add("router " + n));
            }
        }
        if (!clashes.isEmpty()) {
            throw VmctlException.conflict("topology " + spec.name() + ": " + String.join(", ", clashes)
                    + " already exist(s) outside this topology", "remove or rename them, or rename the topology");
        }
    }

    private TopologyReport execute(TopologySpec spec, String text, String fileName, TopologyPlan plan, boolean rollback) {
        long t0 = System.nanoTime();
        String topo = spec.name();
        List<TopologyStep> steps = Collections.synchronizedList(new ArrayList<>());
        List<Runnable> undo = Collections.synchronizedList(new ArrayList<>());
        store.saveTopology(new Store.TopologyRow(topo, text, fileName, Instant.now().toString()));
        progress(topo, "applying " + plan.actions().size() + " change(s) with up to " + parallelBoots + " boots at once");

        // The plan's phases, in order; the actions of one phase (of one wave, for VM deletions) are independent.
        // 1. deletions: VMs wave by wave (changes delete their old VM first), then routers, then networks
        for (List<TopologyPlan.Action> wave : plan.vmDeleteWaves()) {
            parallel(wave, a -> step(steps, a, () -> vms.destroy(deployedOld(a), true)));
        }
        deleteEmptyNodes(topo);
        parallel(plan.phase(TopologyPlan.Phase.DELETE_ROUTERS), a -> step(steps, a, () -> nets.deleteRouter(a.deployedName())));
        parallel(plan.phase(TopologyPlan.Phase.DELETE_NETWORKS), a -> step(steps, a, () -> nets.deleteNetwork(a.deployedName())));
        // 2. networks, then routers
        parallel(plan.phase(TopologyPlan.Phase.CREATE_NETWORKS), a -> {
            TopologyPlan.CreateNetwork cn = (TopologyPlan.CreateNetwork) a;
            step(steps, a, () -> {
                NetworkView v = nets.createNetwork(cn.deployedName(), cn.network().subnet(), cn.network().vlan()).value();
                store.label(new Store.Label("network", v.id(), topo, null, cn.network().name(), null));
                undo.add(() -> nets.deleteNetwork(v.id()));
            });
        });
        parallel(plan.phase(TopologyPlan.Phase.CREATE_ROUTERS), a -> {
            TopologyPlan.CreateRouter cr = (TopologyPlan.CreateRouter) a;
            step(steps, a, () -> {
                List<String> netNames = cr.router().networks().stream().map(spec::networkName).toList();
                List<NetService.RouteSpec> routes = cr.router().routes().stream()
                        .map(r -> new NetService.RouteSpec(r.to(), r.via())).toList();
                RouterView v = nets.createRouter(cr.deployedName(), netNames, routes).value();
                store.label(new Store.Label("router", v.id(), topo, null, cr.router().name(), null));
                undo.add(() -> nets.deleteRouter(v.id()));
            });
        });
        // 3. VMs: created one after the other (fixed addresses first, so an allocated address never takes one a
        // later VM asks for), each started as soon as it exists and the VMs that must start before it (startBefore)
        // are RUNNING — not stage by stage — with at most parallelBoots boots at once.
        List<TopologyPlan.Action> toCreate = new ArrayList<>(plan.phase(TopologyPlan.Phase.CREATE_VMS));
        toCreate.sort(java.util.Comparator.comparing(x -> vmOf(x).nics().stream().anyMatch(n -> n.ip() != null) ? 0 : 1));
        // node/vm → completes with null once RUNNING, or with the node/vm whose failure keeps it from starting
        Map<String, java.util.concurrent.CompletableFuture<String>> up = new ConcurrentHashMap<>();
        for (TopologyPlan.Action a : toCreate) up.put(nodeOf(a) + "/" + vmOf(a).name(), new java.util.concurrent.CompletableFuture<>());
        int total = toCreate.size();
        AtomicInteger running = new AtomicInteger();
        Semaphore slots = new Semaphore(parallelBoots);
        try (ExecutorService boots = Executors.newVirtualThreadPerTaskExecutor()) {
            for (TopologyPlan.Action a : toCreate) {
                String node = nodeOf(a);
                TopologySpec.Vm vm = vmOf(a);
                String key = node + "/" + vm.name();
                String id;
                try {
                    List<NetService.NicRequest> nics = vm.nics().stream()
                            .map(n -> new NetService.NicRequest(spec.networkName(n.network()), n.ip())).toList();
                    VmView v = vms.create(new VmService.CreateRequest(a.deployedName(), vm.image(), vm.effectiveCpus(),
                            vm.memoryMiB() + "M", vm.effectiveAccel().cli(), false, nics)).value();
                    store.saveNode(topo, node);
                    store.label(new Store.Label("vm", v.id(), topo, node, vm.name(), vm.effectiveRole()));
                    undo.add(() -> vms.destroy(v.id(), true));
                    id = v.id();
                } catch (RuntimeException ex) {
                    steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "failed", ex.getMessage(), null));
                    up.get(key).complete(key);
                    continue;
                }
                List<String> before = spec.node(node).vms().stream().filter(x -> x.startBefore().contains(vm.name()))
                        .map(x -> node + "/" + x.name()).filter(up::containsKey).toList();
                boots.submit(Operations.propagate(() -> {
                    for (String b : before) {
                        String failed = up.get(b).join();
                        if (failed != null) {
                            steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "skipped",
                                    "not started: " + failed + " (which must start before it) failed", null));
                            up.get(key).complete(failed);
                            return;
                        }
                    }
                    long s0 = System.nanoTime();
                    String failure;
                    try {
                        slots.acquireUninterruptibly();
                        VmView r;
                        try {
                            var started = vms.start(id);
                            r = vms.awaitOperation(started.op(), id, bootTimeout.plusSeconds(30));
                        } finally {
                            slots.release();
                        }
                        long ms = (System.nanoTime() - s0) / 1_000_000;
                        if (r.state() == VmState.RUNNING) {
                            steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "done", null, ms));
                            progress(topo, running.incrementAndGet() + "/" + total + " VMs running (" + a.deployedName() + ")");
                            failure = null;
                        } else {
                            steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "failed",
                                    r.state() + ": " + firstLine(r.error()), ms));
                            progress(topo, a.deployedName() + " failed: " + firstLine(r.error()));
                            failure = key;
                        }
                    } catch (RuntimeException ex) {
                        steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "failed", ex.getMessage(), null));
                        failure = key;
                    }
                    up.get(key).complete(failure);
                }));
            }
        }

        boolean ok = steps.stream().noneMatch(s -> s.status().equals("failed") || s.status().equals("skipped"));
        boolean rolledBack = false;
        if (!ok && rollback) {
            progress(topo, "rolling back what this run created");
            List<Runnable> u = new ArrayList<>(undo);
            Collections.reverse(u);
            for (Runnable r : u) {
                try {
                    r.run();
                } catch (RuntimeException ex) {
                    log.warn("topology {}: roll back: {}", topo, ex.getMessage());
                }
            }
            vms.networkRemoved();
            deleteEmptyNodes(topo);
            if (current(topo).vms().isEmpty() && current(topo).networks().isEmpty()) store.deleteTopology(topo);
            rolledBack = true;
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long failures = steps.stream().filter(s -> !s.status().equals("done")).count();
        String summary = ok ? "topology " + topo + ": " + steps.size() + " change(s) applied in " + ms / 1000.0 + " s"
                : "topology " + topo + ": " + failures + " of " + steps.size() + " change(s) failed" + (rolledBack ? "; rolled back" : "; kept what was created (vmctl down " + topo + " removes it)");
        progress(topo, summary);
        return new TopologyReport(topo, false, ok, summary, sortSteps(steps), ms, parallelBoots, rolledBack);
    }

    private static String nodeOf(TopologyPlan.Action a) {
        return a instanceof TopologyPlan.CreateVm c ? c.node() : ((TopologyPlan.ChangeVm) a).node();
    }

    private static TopologySpec.Vm vmOf(TopologyPlan.Action a) {
        return a instanceof TopologyPlan.CreateVm c ? c.vm() : ((TopologyPlan.ChangeVm) a).vm();
    }

    private static List<TopologyStep> sortSteps(List<TopologyStep> steps) {
        List<TopologyStep> s = new ArrayList<>(steps);
        List<String> order = List.of("delete", "change", "create");
        s.sort((a, b) -> {
            int c = Integer.compare(typeRank(a.type()), typeRank(b.type()));
            return c != 0 ? c : Integer.compare(order.indexOf(a.verb()), order.indexOf(b.verb()));
        });
        return s;
    }

    private static int typeRank(String t) {
        return switch (t) { case "network" -> 0; case "router" -> 1; default -> 2; };
    }

    private static String deployedOld(TopologyPlan.Action a) {
        return a instanceof TopologyPlan.ChangeVm c ? c.old().topologyVmName() : a.deployedName();
    }

    private void step(List<TopologyStep> steps, TopologyPlan.Action a, Runnable r) {
        long s0 = System.nanoTime();
        try {
            r.run();
            if (!(a instanceof TopologyPlan.ChangeVm)) {
                steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "done", null, (System.nanoTime() - s0) / 1_000_000));
            }
        } catch (RuntimeException e) {
            steps.add(new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "failed", e.getMessage(), null));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    private void progress(String topo, String msg) {
        events.publish(dev.vmctl.model.EventType.TOPOLOGY_PROGRESS, null, topo, null, null, msg);
    }

    /** Runs the work items in parallel, each as part of the calling operation (its child operations are the caller's). */
    private static <T> void parallel(List<T> items, java.util.function.Consumer<T> work) {
        if (items.isEmpty()) return;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (T t : items) fs.add(ex.submit(Operations.propagate(() -> work.accept(t))));
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (Exception e) {
                    log.warn("parallel task: {}", e.getMessage());
                }
            }
        }
    }

    // ---------------------------------------------------------------- current state, down, nodes

    /** What carries the topology's labels, in the topology's own (local) names. */
    public Current current(String topo) {
        List<Current.Network> networks = new ArrayList<>();
        List<Current.Router> routers = new ArrayList<>();
        List<Current.Vm> vmsNow = new ArrayList<>();
        Map<String, String> netLocal = new LinkedHashMap<>();
        List<Store.Label> labels = store.labels(topo);
        for (Store.Label l : labels) if (l.kind().equals("network")) netLocal.put(l.id(), l.localName());
        for (Store.Label l : labels) {
            switch (l.kind()) {
                case "network" -> store.network(l.id()).ifPresent(n -> networks.add(new Current.Network(l.localName(), n.subnet(), n.vlan())));
                case "router" -> store.router(l.id()).ifPresent(r -> routers.add(new Current.Router(l.localName(),
                        store.routerNetworks(r.id()).stream().map(id -> netLocal.getOrDefault(id, id)).toList(),
                        store.routes(r.id()).stream().map(x -> new TopologySpec.Route(x.to(), x.via())).toList())));
                default -> store.byIdOrName(l.id()).ifPresent(r -> vmsNow.add(new Current.Vm(r.name(), l.node(), l.localName(), l.role(),
                        r.image(), r.cpus(), r.memoryMiB(), store.nics(r.id()).stream()
                        .map(n -> new Current.Nic(netLocal.getOrDefault(n.networkId(), n.networkId()), n.ip())).toList())));
            }
        }
        return new Current(networks, routers, vmsNow);
    }

    /** Destroys every VM, router and network of the topology (operation {@code topology.down}). */
    public Accepted<TopologyReport> down(String topo) {
        if (store.topologies().stream().noneMatch(t -> t.name().equals(topo)) && store.labels(topo).isEmpty()) {
            throw VmctlException.notFound("topology", topo);
        }
        return ops.run(Operations.Spec.of("topology.down", lane(topo)), Duration.ofHours(1), o -> downNow(topo));
    }

    private TopologyReport downNow(String topo) {
        {
            long t0 = System.nanoTime();
            List<TopologyStep> steps = Collections.synchronizedList(new ArrayList<>());
            List<Store.Label> labels = store.labels(topo);
            progress(topo, "destroying " + labels.size() + " element(s)");
            parallel(labels.stream().filter(l -> l.kind().equals("vm")).toList(), l -> {
                String name = store.byIdOrName(l.id()).map(VmRow::name).orElse(l.id());
                stepOf(steps, "vm", name, () -> vms.destroy(l.id(), true));
            });
            for (Store.Label l : labels) {
                if (l.kind().equals("router")) stepOf(steps, "router", l.localName(), () -> nets.deleteRouter(l.id()));
            }
            for (Store.Label l : labels) {
                if (l.kind().equals("network")) stepOf(steps, "network", l.localName(), () -> nets.deleteNetwork(l.id()));
            }
            vms.networkRemoved();
            boolean ok = steps.stream().allMatch(s -> s.status().equals("done"));
            deleteEmptyNodes(topo);
            if (ok) store.deleteTopology(topo);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            String summary = "topology " + topo + ": " + steps.size() + " element(s) destroyed in " + ms / 1000.0 + " s"
                    + (ok ? "" : " (some failed: run vmctl down " + topo + " again)");
            progress(topo, summary);
            return new TopologyReport(topo, false, ok, summary, steps, ms, parallelBoots, false);
        }
    }

    /** Node rows whose VMs are all gone. */
    private void deleteEmptyNodes(String topo) {
        java.util.Set<String> withVms = new java.util.HashSet<>();
        for (Store.Label l : store.labels(topo)) if (l.kind().equals("vm") && l.node() != null) withVms.add(l.node());
        for (String n : store.nodeNames(topo)) if (!withVms.contains(n)) store.deleteNode(topo, n);
    }

    private void stepOf(List<TopologyStep> steps, String type, String name, Runnable r) {
        long s0 = System.nanoTime();
        try {
            r.run();
            steps.add(new TopologyStep("delete", type, name, "delete " + type + " " + name, "done", null, (System.nanoTime() - s0) / 1_000_000));
        } catch (RuntimeException e) {
            steps.add(new TopologyStep("delete", type, name, "delete " + type + " " + name, "failed", e.getMessage(), null));
        }
    }

    public List<TopologyView> topologies() {
        return store.topologies().stream().map(t -> view(t.name())).toList();
    }

    public TopologyView view(String topo) {
        Store.TopologyRow row = store.topologies().stream().filter(t -> t.name().equals(topo)).findFirst()
                .orElseThrow(() -> VmctlException.notFound("topology", topo));
        List<Store.Label> labels = store.labels(topo);
        List<String> networks = labels.stream().filter(l -> l.kind().equals("network")).map(Store.Label::localName).toList();
        List<String> routers = labels.stream().filter(l -> l.kind().equals("router")).map(Store.Label::localName).toList();
        List<NodeView> nodes = nodes(topo);
        String state = nodes.isEmpty() ? "EMPTY" : aggregate(nodes.stream().map(NodeView::state).toList());
        return new TopologyView(topo, row.file(), row.appliedAt(), state, networks, routers, nodes);
    }

    public List<NodeView> nodes(String topo) {
        Map<String, List<NodeVm>> byNode = new LinkedHashMap<>();
        for (String n : store.nodeNames(topo)) byNode.put(n, new ArrayList<>());
        for (Store.Label l : store.labels(topo)) {
            if (!l.kind().equals("vm")) continue;
            VmView v;
            try {
                v = vms.get(l.id());
            } catch (VmctlException gone) {
                continue; // removed meanwhile
            }
            byNode.computeIfAbsent(l.node(), k -> new ArrayList<>()).add(new NodeVm(v.name(), l.localName(), l.role(), v.state(),
                    v.nics().stream().map(n -> n.ip()).toList(), v.error()));
        }
        List<NodeView> out = new ArrayList<>();
        for (var e : byNode.entrySet()) {
            out.add(new NodeView(topo, e.getKey(), aggregate(e.getValue().stream().map(x -> x.state().name()).toList()), e.getValue()));
        }
        return out;
    }

    public List<NodeView> allNodes() {
        List<NodeView> out = new ArrayList<>();
        for (Store.TopologyRow t : store.topologies()) out.addAll(nodes(t.name()));
        return out;
    }

    /** One word for many states: the common state, ERROR if any, else MIXED. */
    private static String aggregate(List<String> states) {
        if (states.isEmpty()) return "EMPTY";
        if (states.contains("ERROR")) return "ERROR";
        Set<String> set = new java.util.HashSet<>(states);
        return set.size() == 1 ? set.iterator().next() : "MIXED";
    }

    private TopologySpec spec(String topo) {
        Store.TopologyRow row = store.topologies().stream().filter(t -> t.name().equals(topo)).findFirst()
                .orElseThrow(() -> VmctlException.notFound("topology", topo));
        return dev.vmctl.topology.TopologyParser.parse(row.spec(), row.file() == null ? topo : row.file());
    }

    private Map<String, String> nodeVmIds(String topo, String node) {
        Map<String, String> ids = new LinkedHashMap<>();
        for (Store.Label l : store.labels(topo)) if (l.kind().equals("vm") && node.equals(l.node())) ids.put(l.localName(), l.id());
        if (ids.isEmpty()) throw VmctlException.notFound("node", topo + "/" + node);
        return ids;
    }

    /** Runs node work as one operation on the node's lane ({@code node.start} …) and returns its result. */
    private <T> Accepted<T> nodeOp(String kind, String topo, String node, java.util.function.Supplier<T> work) {
        nodeVmIds(topo, node); // 404 before any operation
        return ops.run(Operations.Spec.of(kind, nodeLane(topo, node)), Duration.ofHours(1), o -> work.get());
    }

    /** Starts a node's VMs in start order (each stage RUNNING before the next starts). */
    public Accepted<NodeView> startNode(String topo, String node) {
        return nodeOp("node.start", topo, node, () -> {
            Map<String, String> ids = nodeVmIds(topo, node);
            StartOrder order = StartOrder.of(spec(topo).node(node));
            for (List<String> stage : order.stages()) {
                List<String> stageIds = stage.stream().map(ids::get).filter(java.util.Objects::nonNull).toList();
                List<String> errors = Collections.synchronizedList(new ArrayList<>());
                parallel(stageIds, id -> {
                    VmView v = vms.get(id);
                    if (v.state() != VmState.RUNNING) {
                        var a = vms.start(id);
                        VmView r = vms.awaitOperation(a.op(), id, bootTimeout.plusSeconds(30));
                        if (r.state() != VmState.RUNNING) errors.add(r.name() + ": " + r.state() + " " + firstLine(r.error()));
                    }
                });
                if (!errors.isEmpty()) {
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "start node " + topo + "/" + node + ": " + String.join("; ", errors),
                            "the VMs after it in start order were not started");
                }
            }
            events.publish(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "started");
            return node(topo, node);
        });
    }

    /** Stops a node's VMs in reverse start order. */
    public Accepted<NodeView> stopNode(String topo, String node) {
        return nodeOp("node.stop", topo, node, () -> {
            Map<String, String> ids = nodeVmIds(topo, node);
            StartOrder order = StartOrder.of(spec(topo).node(node));
            for (List<String> stage : order.stopStages()) {
                List<String> stageIds = stage.stream().map(ids::get).filter(java.util.Objects::nonNull).toList();
                parallel(stageIds, id -> {
                    VmView v = vms.get(id);
                    if (v.state() == VmState.RUNNING || v.state() == VmState.PREPARING) {
                        var a = vms.stop(id);
                        vms.awaitOperation(a.op(), id, Duration.ofSeconds(60));
                    }
                });
            }
            events.publish(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "stopped");
            return node(topo, node);
        });
    }

    public Accepted<NodeView> removeNode(String topo, String node) {
        return nodeOp("node.remove", topo, node, () -> {
            Map<String, String> ids = nodeVmIds(topo, node);
            NodeView before = node(topo, node);
            parallel(new ArrayList<>(ids.values()), id -> vms.destroy(id, true));
            deleteEmptyNodes(topo);
            events.publish(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "removed");
            return before;
        });
    }

    /** Snapshots every VM of a node at the same moment (all paused, saved, resumed): snapshots NAME-VM plus a node record NAME. */
    public Accepted<NodeSnapshotView> snapshotNode(String topo, String node, String name) {
        dev.vmctl.model.Names.check("name", name);
        if (store.nodeSnapshot(name).isPresent()) throw VmctlException.conflict("node snapshot " + name + " already exists", "choose another name");
        return nodeOp("node.snapshot", topo, node, () -> {
            if (store.nodeSnapshot(name).isPresent()) throw VmctlException.conflict("node snapshot " + name + " already exists", "choose another name");
            Map<String, String> ids = nodeVmIds(topo, node);
            Map<String, String> byId = new LinkedHashMap<>();
            Map<String, String> members = new LinkedHashMap<>();
            for (var e : ids.entrySet()) {
                String snap = name + "-" + e.getKey();
                byId.put(e.getValue(), snap);
                members.put(e.getKey(), snap);
            }
            snaps.snapshotGroup(byId);
            NodeSnapshotView ns = new NodeSnapshotView(name, topo, node, members, Instant.now().toString());
            store.saveNodeSnapshot(ns);
            events.publish(dev.vmctl.model.EventType.NODE_SNAPSHOT, null, topo + "/" + node, null, null, name + ": " + members.values());
            return ns;
        });
    }

    /** Rolls every VM of a node back to a node snapshot (in parallel); returns when all are RUNNING again. */
    public Accepted<NodeView> restoreNode(String topo, String node, String name) {
        NodeSnapshotView ns = store.nodeSnapshot(name).orElseThrow(() -> VmctlException.notFound("node snapshot", name));
        if (!ns.topology().equals(topo) || !ns.node().equals(node)) {
            throw VmctlException.invalid("snapshot", "node snapshot " + name + " belongs to " + ns.topology() + "/" + ns.node(),
                    "a snapshot of node " + topo + "/" + node);
        }
        return nodeOp("node.restore", topo, node, () -> {
            Map<String, String> ids = nodeVmIds(topo, node);
            for (String vm : ns.members().keySet()) {
                if (!ids.containsKey(vm)) throw VmctlException.conflict("node " + topo + "/" + node + " no longer has vm " + vm, "re-apply the topology first");
            }
            for (var e : ns.members().entrySet()) snaps.store().verify(e.getValue());
            List<String> errors = Collections.synchronizedList(new ArrayList<>());
            parallel(new ArrayList<>(ns.members().entrySet()), e -> {
                String id = ids.get(e.getKey());
                var a = snaps.restore(id, e.getValue());
                VmView r = vms.awaitOperation(a.op(), id, bootTimeout.plusSeconds(30));
                if (r.state() != VmState.RUNNING) errors.add(r.name() + ": " + r.state() + " " + firstLine(r.error()));
            });
            if (!errors.isEmpty()) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, "restore node " + topo + "/" + node + ": " + String.join("; ", errors), null);
            }
            events.publish(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "restored from " + name);
            return node(topo, node);
        });
    }

    public NodeView node(String topo, String node) {
        return nodes(topo).stream().filter(n -> n.name().equals(node)).findFirst()
                .orElseThrow(() -> VmctlException.notFound("node", topo + "/" + node));
    }
}
