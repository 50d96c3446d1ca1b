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
    private final Segments segments;
    private final SnapshotService snaps;
    private final Operations ops;
    private final ImageService images;
    private final int parallelBoots;
    private final Duration bootTimeout;
    private final Engine engine;

    public TopologyService(Store store, EventBus events, Engine engine, ImageService images, Duration bootTimeout) {
        this.store = store;
        this.events = events;
        this.engine = engine;
        this.vms = engine.vms();
        this.nets = engine.networks();
        this.segments = engine.segments();
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
        return apply(text, fileName, null, dryRun, rollbackOnError, null);
    }

    /**
     * As {@link #apply(String, String, boolean, boolean)}; {@code base} (the directory of the file on the server's host,
     * as {@code vmctl up} sends it, or null) is what relative {@code src} and {@code git} paths of artifacts are
     * relative to; the whole topology inside isolated segment {@code segment} (null: where it is already, else the
     * default fabric): its networks and routers in the segment's namespace, its VMs' QEMU there too. A topology stays
     * where it was first deployed (409 for another segment).
     */
    public Accepted<TopologyReport> apply(String text, String fileName, String base, boolean dryRun, boolean rollbackOnError, String segment) {
        TopologySpec parsed = dev.vmctl.topology.TopologyParser.parse(text, fileName == null ? "topology" : fileName, images.names());
        TopologySpec spec = withBase(parsed, base);
        if (segment != null && !segments.exists(segment)) {
            List<String> names = segments.list().stream().map(dev.vmctl.model.SegmentView::name).toList();
            throw VmctlException.invalid("segment", "unknown segment '" + segment + "'",
                    names.isEmpty() ? "(none yet: vmctl segment create NAME)" : "names of existing segments: " + String.join(", ", names));
        }
        if (dryRun) return new Accepted<>(null, plan(spec, text, fileName, true, rollbackOnError, placeOf(spec.name(), segment)));
        return ops.run(Operations.Spec.of("topology.apply", lane(spec.name())), Duration.ofHours(2), o -> {
            String place = placeOf(spec.name(), segment);
            if (place != null) segments.addTopology(spec.name(), place);
            return plan(spec, text, fileName, false, rollbackOnError, place);
        });
    }

    /** The spec with relative artifact paths made absolute against {@code base} (unchanged without a base). */
    static TopologySpec withBase(TopologySpec s, String base) {
        if (base == null || base.isBlank()) return s;
        if (!base.startsWith("/")) throw VmctlException.invalid("base", "'" + base + "' is not an absolute path", "the topology file's directory");
        java.nio.file.Path b = java.nio.file.Path.of(base);
        List<TopologySpec.Node> nodes = new ArrayList<>();
        for (TopologySpec.Node n : s.nodes()) {
            List<TopologySpec.Vm> vmsOut = new ArrayList<>();
            for (TopologySpec.Vm v : n.vms()) {
                List<dev.vmctl.model.ArtifactSpec> arts = new ArrayList<>();
                for (dev.vmctl.model.ArtifactSpec a : v.artifacts()) {
                    if (a.src() != null && !a.src().startsWith("/")) a = a.withSrc(b.resolve(a.src()).normalize().toString());
                    if (a.git() != null && !a.git().startsWith("/") && !a.git().contains("://") && !a.git().matches("^[^/]+@[^/:]+:.*")) {
                        a = new dev.vmctl.model.ArtifactSpec(null, null, null, b.resolve(a.git()).normalize().toString(), a.dest(), a.mode(),
                                a.owner(), a.sha256(), a.ref(), a.repo());
                    }
                    arts.add(a);
                }
                vmsOut.add(new TopologySpec.Vm(v.name(), v.role(), v.image(), v.cpus(), v.memory(), v.accel(), v.nics(), v.startBefore(),
                        arts, v.run()));
            }
            nodes.add(new TopologySpec.Node(n.name(), vmsOut));
        }
        return new TopologySpec(s.apiVersion(), s.kind(), s.name(), s.networks(), s.routers(), nodes);
    }

    private static String leftoverLine(VmView v) {
        return "start vm " + v.name() + (v.state() == VmState.REQUESTED ? " (left REQUESTED by an interrupted deploy)"
                : " (it is in " + v.state() + ": started again)");
    }

    /**
     * The VMs of the file's nodes that exist but do not run and were not stopped on purpose: REQUESTED (created by a
     * deploy that did not get to start them) or ERROR (e.g. a boot a crash of the server interrupted); STOPPED VMs were
     * stopped by someone and stay so; cloned nodes, which the file does not list, are left as they are.
     */
    private List<VmView> unstartedVms(TopologySpec spec) {
        List<VmView> out = new ArrayList<>();
        for (Store.Label l : store.labels(spec.name())) {
            if (!l.kind().equals("vm") || l.node() == null) continue;
            TopologySpec.Node inFile = spec.node(l.node());
            if (inFile == null || inFile.vm(l.localName()) == null) continue;
            try {
                VmView v = vms.get(l.id());
                if (v.state() == VmState.REQUESTED || v.state() == VmState.ERROR) out.add(v);
            } catch (VmctlException gone) {
                // removed meanwhile
            }
        }
        return out;
    }

    /**
     * A re-apply of an unchanged file after a deploy was interrupted: starts the VMs it left REQUESTED or in ERROR (one after the other,
     * each a vm.start operation) so that {@code up} converges instead of saying "nothing to do".
     */
    private TopologyReport startLeftovers(TopologySpec spec, String text, String fileName, List<VmView> unstarted) {
        long t0 = System.nanoTime();
        List<TopologyStep> steps = new ArrayList<>();
        boolean ok = true;
        for (VmView v : unstarted) {
            long s0 = System.nanoTime();
            try {
                var a = vms.start(v.id());
                VmView r = vms.awaitOperation(a.op(), v.id(), bootTimeout.plusSeconds(30));
                if (r.state() == VmState.RUNNING) {
                    steps.add(new TopologyStep("start", "vm", v.name(), leftoverLine(v), "done", null, (System.nanoTime() - s0) / 1_000_000));
                } else {
                    ok = false;
                    steps.add(new TopologyStep("start", "vm", v.name(), leftoverLine(v), "failed", r.state() + " " + firstLine(r.error()), null));
                }
            } catch (RuntimeException e) {
                ok = false;
                steps.add(new TopologyStep("start", "vm", v.name(), leftoverLine(v), "failed", e.getMessage(), null));
            }
        }
        store.saveTopology(new Store.TopologyRow(spec.name(), text, fileName, Instant.now().toString()));
        String summary = "topology " + spec.name() + ": " + steps.stream().filter(x -> x.status().equals("done")).count() + " of "
                + steps.size() + " VM(s) left unstarted or in ERROR started";
        return new TopologyReport(spec.name(), false, ok, summary, steps, (System.nanoTime() - t0) / 1_000_000, parallelBoots, false);
    }

    /** The segment a topology's elements go into: where it is deployed already, else the one asked for (null: the fabric). */
    private String placeOf(String topology, String segment) {
        boolean deployed = store.topologies().stream().anyMatch(t -> t.name().equals(topology));
        if (!deployed) return segment;
        String current = segments.segmentOfTopology(topology).orElse(null);
        if (segment != null && !segment.equals(current)) {
            throw VmctlException.conflict("topology " + topology + " is deployed in " + (current == null ? "the default fabric" : "segment " + current)
                    + ", not in segment " + segment, "a topology stays where it was deployed: vmctl down " + topology + " first to deploy it elsewhere");
        }
        return current;
    }

    private TopologyReport plan(TopologySpec spec, String text, String fileName, boolean dryRun, boolean rollbackOnError, String segment) {
        {
            Current current = current(spec.name());
            TopologyPlan plan = TopologyPlan.of(spec, current);
            checkConflicts(spec, plan, current);
            // VMs of the file that exist but were never started (a deploy interrupted by a crash left them REQUESTED)
            List<VmView> unstarted = plan.isEmpty() ? unstartedVms(spec) : List.of();
            if (!dryRun && plan.isEmpty() && !unstarted.isEmpty()) return startLeftovers(spec, text, fileName, unstarted);
            if (dryRun || plan.isEmpty()) {
                List<TopologyStep> steps = new ArrayList<>(plan.actions().stream()
                        .map(a -> new TopologyStep(a.verb(), a.type(), a.deployedName(), a.description(), "planned", null, null)).toList());
                for (VmView v : unstarted) steps.add(new TopologyStep("start", "vm", v.name(), leftoverLine(v), "planned", null, null));
                steps.addAll(keepSteps(spec.name(), plan, "planned"));
                String summary = (plan.isEmpty() ? "topology " + spec.name() + " is up to date: nothing to do"
                        : plan.actions().size() + " change(s) planned (dry run)") + keptSuffix(plan);
                if (!dryRun && plan.isEmpty()) {
                    store.saveTopology(new Store.TopologyRow(spec.name(), text, fileName, Instant.now().toString()));
                    engine.refreshLimits(); // a file that changed only resources (cpu, memory, egress) or NIC rates of kept VMs
                }
                return new TopologyReport(spec.name(), dryRun, true, summary, steps, 0, parallelBoots, false);
            }
            return execute(spec, text, fileName, plan, rollbackOnError, segment);
        }
    }

    /** The nodes a plan leaves as they are (made by node clone, not in the file), as report steps. */
    private static List<TopologyStep> keepSteps(String topo, TopologyPlan plan, String status) {
        return plan.keptNodes().stream()
                .map(n -> new TopologyStep("keep", "node", topo + "/" + n, TopologyPlan.keepLine(n), status, null, null)).toList();
    }

    private static String keptSuffix(TopologyPlan plan) {
        return plan.keptNodes().isEmpty() ? "" : "; cloned node(s) " + String.join(", ", plan.keptNodes()) + " left as they are";
    }

    /**
     * Names the plan would create must not belong to something outside the topology, and a network it deletes (or
     * re-creates) must not carry a VM of a node it keeps (a clone the file does not list).
     */
    private void checkConflicts(TopologySpec spec, TopologyPlan plan, Current current) {
        List<String> underClones = new ArrayList<>();
        for (TopologyPlan.Action a : plan.phase(TopologyPlan.Phase.DELETE_NETWORKS)) {
            String net = ((TopologyPlan.DeleteNetwork) a).network().name();
            for (Current.Vm v : current.vms()) {
                if (plan.keptNodes().contains(v.node()) && v.nics().stream().anyMatch(n -> net.equals(n.network()))) {
                    underClones.add("network " + net + " (vm " + v.topologyVmName() + " of cloned node " + v.node() + ")");
                }
            }
        }
        if (!underClones.isEmpty()) {
            throw VmctlException.conflict("topology " + spec.name() + ": the plan deletes or re-creates " + String.join(", ", underClones),
                    "remove the cloned node first (vmctl node rm " + spec.name() + "/NODE), or keep the network as it is in the file");
        }
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

    /**
     * Admits the memory of every VM the plan boots, up front and all together (a 409 naming memory, requested and
     * available, before anything is created or deleted; the VMs the plan deletes give back what they use), then executes it.
     */
    private TopologyReport execute(TopologySpec spec, String text, String fileName, TopologyPlan plan, boolean rollback, String segment) {
        List<TopologyPlan.Action> boots = plan.phase(TopologyPlan.Phase.CREATE_VMS);
        long need = boots.stream().mapToLong(a -> vmOf(a).memoryMiB()).sum();
        java.util.Set<String> replaced = new java.util.HashSet<>();
        for (TopologyPlan.Action a : plan.actions()) {
            if (a instanceof TopologyPlan.DeleteVm || a instanceof TopologyPlan.ChangeVm) store.byIdOrName(deployedOld(a)).ifPresent(r -> replaced.add(r.id()));
        }
        try (MemoryBudget.Group budget = need == 0 ? null
                : engine.memory().group("deploy topology " + spec.name() + " (" + boots.size() + " VM(s))", need, replaced)) {
            return execute(spec, text, fileName, plan, rollback, segment, budget);
        }
    }

    private TopologyReport execute(TopologySpec spec, String text, String fileName, TopologyPlan plan, boolean rollback, String segment,
                                   MemoryBudget.Group budget) {
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
                NetworkView v = nets.createNetwork(cn.deployedName(), cn.network().subnet(), cn.network().vlan(), segment).value();
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
                            .map(n -> new NetService.NicRequest(spec.networkName(n.network()), n.ip(), n.rate())).toList();
                    VmView v = vms.create(new VmService.CreateRequest(a.deployedName(), vm.image(), vm.effectiveCpus(),
                            vm.memoryMiB() + "M", vm.effectiveAccel().cli(), false, nics, vm.artifacts(),
                            vm.run().isEmpty() ? null : vm.run(), false, vm.disk())).value();
                    if (budget != null) budget.assign(v.id(), vm.memoryMiB()); // admitted with the whole deploy
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
        String summary = (ok ? "topology " + topo + ": " + steps.size() + " change(s) applied in " + ms / 1000.0 + " s"
                : "topology " + topo + ": " + failures + " of " + steps.size() + " change(s) failed" + (rolledBack ? "; rolled back" : "; kept what was created (vmctl down " + topo + " removes it)"))
                + keptSuffix(plan);
        progress(topo, summary);
        engine.refreshLimits(); // node resources and cpuLimits of VMs the plan kept
        List<TopologyStep> all = sortSteps(steps);
        all.addAll(keepSteps(topo, plan, "done"));
        return new TopologyReport(topo, false, ok, summary, all, ms, parallelBoots, rolledBack);
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
        Set<String> cloned = new java.util.HashSet<>();
        for (Store.NodeRow n : store.nodeRows(topo)) if (n.clonedFrom() != null) cloned.add(n.name());
        return new Current(networks, routers, vmsNow, cloned);
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

    /** Every deployed topology, without their specs. */
    public List<TopologyView> topologies() {
        return store.topologies().stream().map(t -> view(t, false)).toList();
    }

    /** One deployed topology with the text of the file it was last applied from. */
    public TopologyView view(String topo) {
        Store.TopologyRow row = store.topologies().stream().filter(t -> t.name().equals(topo)).findFirst()
                .orElseThrow(() -> VmctlException.notFound("topology", topo));
        return view(row, true);
    }

    private TopologyView view(Store.TopologyRow row, boolean withSpec) {
        String topo = row.name();
        List<Store.Label> labels = store.labels(topo);
        List<String> networks = labels.stream().filter(l -> l.kind().equals("network")).map(Store.Label::localName).toList();
        List<String> routers = labels.stream().filter(l -> l.kind().equals("router")).map(Store.Label::localName).toList();
        List<NodeView> nodes = nodes(topo);
        String state = nodes.isEmpty() ? "EMPTY" : aggregate(nodes.stream().map(NodeView::state).toList());
        return new TopologyView(topo, row.file(), row.appliedAt(), state, networks, routers, nodes, withSpec ? row.spec() : null);
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

    /**
     * The start stages of a node's VMs {@code vms} (each once): the file's order for a node the file names, the one
     * recorded with a node made by node clone, and VMs neither knows first, all at once.
     */
    /** The start stages of node TOPO/NODE's VMs (names in the node). */
    public List<List<String>> nodeStages(String topo, String node) {
        return stagesOf(topo, node, nodeVmIds(topo, node).keySet());
    }

    private List<List<String>> stagesOf(String topo, String node, java.util.Collection<String> vms) {
        TopologySpec.Node inFile = spec(topo).node(node);
        List<List<String>> base = inFile != null ? StartOrder.of(inFile).stages()
                : store.nodeRow(topo, node).map(Store.NodeRow::startOrder).orElse(null);
        List<List<String>> out = new ArrayList<>();
        Set<String> placed = new java.util.HashSet<>();
        for (List<String> stage : base == null ? List.<List<String>>of() : base) {
            List<String> s = stage.stream().filter(v -> vms.contains(v) && placed.add(v)).toList();
            if (!s.isEmpty()) out.add(s);
        }
        List<String> rest = vms.stream().filter(v -> !placed.contains(v)).toList();
        if (!rest.isEmpty()) out.addFirst(rest);
        return out;
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
            StartOrder order = new StartOrder(node, stagesOf(topo, node, ids.keySet()));
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
            NodeView started = node(topo, node);
            events.publishData(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "started", started);
            return started;
        });
    }

    /** Stops a node's VMs in reverse start order. */
    public Accepted<NodeView> stopNode(String topo, String node) {
        return nodeOp("node.stop", topo, node, () -> {
            Map<String, String> ids = nodeVmIds(topo, node);
            StartOrder order = new StartOrder(node, stagesOf(topo, node, ids.keySet()));
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
            NodeView stopped = node(topo, node);
            events.publishData(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "stopped", stopped);
            return stopped;
        });
    }

    public Accepted<NodeView> removeNode(String topo, String node) {
        return nodeOp("node.remove", topo, node, () -> {
            Map<String, String> ids = nodeVmIds(topo, node);
            NodeView before = node(topo, node);
            parallel(new ArrayList<>(ids.values()), id -> vms.destroy(id, true));
            deleteEmptyNodes(topo);
            events.publishData(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "removed", before);
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
            events.publishData(dev.vmctl.model.EventType.NODE_SNAPSHOT, null, topo + "/" + node, null, null, name + ": " + members.values(), ns);
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
            NodeView restored = node(topo, node);
            events.publishData(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + node, null, null, "restored from " + name, restored);
            return restored;
        });
    }

    // ---------------------------------------------------------------- node clone

    /**
     * What {@code POST /api/v1/nodes/{topology}/{node}/clone} asks for: a node snapshot of that node, the new node's
     * name, and networks to put the clones on instead of the original's ({@code nets}: old → new; an old network by
     * its name in the file or its deployed name, a new one by the name of any network of the server).
     */
    public record CloneNodeRequest(String snapshot, String name, Map<String, String> nets) {
        public CloneNodeRequest {
            nets = nets == null ? Map.of() : nets;
        }
    }

    /** One VM of a node clone, resolved before anything is created: its snapshot and the networks of its NICs (in the snapshot's NIC order). */
    private record CloneMember(String vm, String role, String snapshot, String deployedName, List<String> networks) {}

    /**
     * Clones node {@code topo/node} from one of its node snapshots into a new node of the same topology (operation
     * {@code node.clone} on lane {@code node:TOPO/NAME}): every VM of the snapshot becomes a clone {@code TOPO-NAME-VM}
     * with its own identity (host name, machine-id, MACs, addresses from IPAM), on the original's networks unless
     * remapped, labelled as a VM of node NAME; the clones boot in the node's start order, each boot a {@code vm.clone}
     * child operation. On any failure what was created is removed. Input errors (400/404/409) are thrown before
     * anything happens. With {@code waitFor} the answer comes when the operation has ended (its failure is thrown),
     * else once the VMs exist.
     */
    public Accepted<NodeView> cloneNode(String topo, String node, CloneNodeRequest req, Duration waitFor) {
        List<CloneMember> members = planClone(topo, node, req);
        NodeSnapshotView ns = store.nodeSnapshot(req.snapshot()).orElseThrow(() -> VmctlException.notFound("node snapshot", req.snapshot()));
        String name = req.name();
        List<List<String>> stages = stagesOf(topo, node, members.stream().map(CloneMember::vm).toList());
        // the clones are admitted all together before any exists (a 409 naming memory when they do not fit)
        Map<String, Long> mib = new LinkedHashMap<>();
        for (CloneMember m : members) mib.put(m.vm(), (long) snaps.store().get(m.snapshot()).vm().memoryMiB());
        MemoryBudget.Group budget = engine.memory().group("clone node " + topo + "/" + node + " as " + topo + "/" + name + " ("
                + members.size() + " VM(s))", mib.values().stream().mapToLong(Long::longValue).sum(), java.util.Set.of());
        Operations.Op op;
        try {
            op = ops.submitAndAccept(Operations.Spec.of("node.clone", nodeLane(topo, name)),
                    o -> cloneNow(o, topo, node, ns, name, members, stages, (vm, id) -> budget.assign(id, mib.get(vm))));
        } catch (RuntimeException e) {
            budget.close();
            throw e;
        }
        op.whenDone(budget::close);
        if (waitFor != null) {
            op.await(waitFor);
            if (op.state().finished()) {
                op.join(Duration.ofSeconds(1)); // its failure, as it is
                return new Accepted<>(op.view(), node(topo, name));
            }
        }
        NodeView accepted = (NodeView) op.acceptedValue();
        return new Accepted<>(op.view(), accepted != null ? accepted : new NodeView(topo, name, VmState.REQUESTED.name(), List.of()));
    }

    /** Every check of a node clone, in the order a user fixes them; nothing is created. */
    private List<CloneMember> planClone(String topo, String node, CloneNodeRequest req) {
        if (req.snapshot() == null || req.snapshot().isBlank()) {
            throw VmctlException.invalid("snapshot", "missing", snapshotsOf(topo, node));
        }
        dev.vmctl.model.Names.check("name", req.name());
        TopologySpec spec = spec(topo);
        NodeSnapshotView ns = store.nodeSnapshot(req.snapshot()).orElseThrow(() -> VmctlException.notFound("node snapshot", req.snapshot()));
        if (!ns.topology().equals(topo) || !ns.node().equals(node)) {
            throw VmctlException.invalid("snapshot", "node snapshot " + ns.name() + " belongs to " + ns.topology() + "/" + ns.node(), snapshotsOf(topo, node));
        }
        List<String> deployed = ns.members().keySet().stream().map(vm -> spec.vmName(req.name(), vm)).toList();
        checkFree(topo, req.name(), deployed);

        // the networks of the original VMs, NIC by NIC
        List<CloneMember> members = new ArrayList<>();
        for (var e : ns.members().entrySet()) {
            var manifest = snaps.store().get(e.getValue());
            Store.Label original = store.labels(topo).stream()
                    .filter(l -> l.kind().equals("vm") && node.equals(l.node()) && e.getKey().equals(l.localName())).findFirst().orElse(null);
            TopologySpec.Node inFile = spec.node(node);
            TopologySpec.Vm vmInFile = inFile == null ? null : inFile.vm(e.getKey());
            String role = original != null && original.role() != null ? original.role() : vmInFile != null ? vmInFile.effectiveRole() : e.getKey();
            members.add(new CloneMember(e.getKey(), role, e.getValue(), spec.vmName(req.name(), e.getKey()),
                    sourceNetworks(topo, node, spec, e.getKey(), original, vmInFile, manifest)));
        }

        // --net OLD=NEW
        Set<String> used = new java.util.LinkedHashSet<>();
        for (CloneMember m : members) used.addAll(m.networks());
        Map<String, String> localOf = new LinkedHashMap<>(); // deployed name → name in the file
        for (Store.Label l : store.labels(topo)) {
            if (l.kind().equals("network")) store.network(l.id()).ifPresent(n -> localOf.put(n.name(), l.localName()));
        }
        List<String> usedNames = used.stream().map(n -> localOf.containsKey(n) ? localOf.get(n) + " (" + n + ")" : n).toList();
        Map<String, String> remap = new LinkedHashMap<>();
        for (var e : req.nets().entrySet()) {
            String old = used.stream().filter(n -> n.equals(e.getKey()) || e.getKey().equals(localOf.get(n))).findFirst()
                    .orElseThrow(() -> VmctlException.invalid("nets", "'" + e.getKey() + "' is not a network of node " + topo + "/" + node,
                            "networks of the node: " + String.join(", ", usedNames)));
            if (e.getValue() == null || e.getValue().isBlank()) {
                throw VmctlException.invalid("nets." + e.getKey(), "missing", "names of existing networks: " + networkNames());
            }
            var target = store.network(e.getValue()).orElseThrow(() -> VmctlException.invalid("nets." + e.getKey(),
                    "unknown network '" + e.getValue() + "'", "names of existing networks: " + networkNames()));
            remap.put(old, target.name());
        }
        List<CloneMember> out = new ArrayList<>();
        for (CloneMember m : members) {
            List<String> nets = m.networks().stream().map(n -> remap.getOrDefault(n, n)).toList();
            for (String n : nets) {
                if (store.network(n).isEmpty()) {
                    throw VmctlException.invalid("nets", "network " + n + " of vm " + m.vm() + " no longer exists",
                            "put its NICs on another network: --net " + localOf.getOrDefault(n, n) + "=NEW, NEW one of " + networkNames());
                }
            }
            out.add(new CloneMember(m.vm(), m.role(), m.snapshot(), m.deployedName(), nets));
        }
        return out;
    }

    private String snapshotsOf(String topo, String node) {
        List<String> names = store.nodeSnapshotNames(topo, node);
        return names.isEmpty() ? "a node snapshot of " + topo + "/" + node + " (it has none: vmctl node snapshot " + topo + "/" + node + " --name NAME)"
                : "node snapshots of " + topo + "/" + node + ": " + String.join(", ", names);
    }

    private List<String> networkNames() {
        return store.networks().stream().map(NetRows.NetRow::name).toList();
    }

    /** A new node's name and its VMs' names must be free (checked again when the clone's turn comes). */
    private void checkFree(String topo, String name, List<String> deployedVms) {
        boolean exists = store.nodeNames(topo).contains(name)
                || store.labels(topo).stream().anyMatch(l -> l.kind().equals("vm") && name.equals(l.node()));
        if (exists) {
            throw VmctlException.conflict("node " + topo + "/" + name + " already exists", "choose another name, or remove it first: vmctl node rm " + topo + "/" + name);
        }
        if (spec(topo).node(name) != null) {
            throw VmctlException.conflict("node " + topo + "/" + name + " is declared in the topology's file", "choose another name: the file's node would take the clone over");
        }
        for (String vm : deployedVms) {
            if (!vm.matches(dev.vmctl.model.Names.PATTERN)) {
                throw VmctlException.invalid("name", "'" + name + "' makes the VM name '" + vm + "', which is not a valid name",
                        "a shorter node name: VM names are <topology>-<node>-<vm>, " + dev.vmctl.model.Names.PATTERN);
            }
            if (store.byIdOrName(vm).isPresent()) {
                throw VmctlException.conflict("node " + topo + "/" + name + ": vm name " + vm + " is already in use", "choose another node name");
            }
        }
    }

    /**
     * The deployed networks of a snapshot's NICs, in the snapshot's NIC order: the original VM's NICs as they are
     * (when it still has the snapshot's NIC numbers), else the file's NICs of that VM.
     */
    private List<String> sourceNetworks(String topo, String node, TopologySpec spec, String vm, Store.Label original,
                                        TopologySpec.Vm inFile, dev.vmctl.snapshot.SnapshotManifest manifest) {
        List<Integer> indexes = manifest.vm().nics().stream().map(dev.vmctl.snapshot.SnapshotManifest.Nic::index).toList();
        if (original != null) {
            Map<Integer, String> byIndex = new java.util.HashMap<>();
            for (NetRows.NicRow n : store.nics(original.id())) {
                store.network(n.networkId()).ifPresent(net -> byIndex.put(n.index(), net.name()));
            }
            if (byIndex.keySet().containsAll(indexes)) return indexes.stream().map(byIndex::get).toList();
        }
        if (inFile != null && inFile.nics().size() == indexes.size()) {
            return inFile.nics().stream().map(n -> spec.networkName(n.network())).toList();
        }
        throw VmctlException.conflict("clone node " + topo + "/" + node + ": cannot tell which networks the " + indexes.size()
                + " NIC(s) of vm " + vm + " were on", "neither the VM nor the topology file has them as they were at snapshot " + manifest.name());
    }

    /** The body of {@code node.clone}: create every VM (labelled, held), answer, boot stage by stage; on failure remove it all. */
    private NodeView cloneNow(Operations.Op o, String topo, String node, NodeSnapshotView ns, String name,
                              List<CloneMember> members, List<List<String>> stages, java.util.function.BiConsumer<String, String> admitted) {
        String what = "clone node " + topo + "/" + node + " as " + topo + "/" + name;
        checkFree(topo, name, members.stream().map(CloneMember::deployedName).toList());
        Map<String, dev.vmctl.snapshot.VerifiedSnapshot> verified = new LinkedHashMap<>();
        for (CloneMember m : members) verified.put(m.vm(), snaps.store().verify(m.snapshot()));
        Map<String, String> ids = new LinkedHashMap<>(); // vm → id
        boolean nodeSaved = false;
        try {
            store.insertClonedNode(topo, name, ns.name(), stages);
            nodeSaved = true;
            Map<String, CloneMember> byVm = new LinkedHashMap<>();
            for (CloneMember m : members) byVm.put(m.vm(), m);
            for (List<String> stage : stages) {
                for (String vm : stage) {
                    CloneMember m = byVm.get(vm);
                    VmView v = snaps.createClone(verified.get(vm).manifest(), m.deployedName(), m.networks());
                    admitted.accept(vm, v.id());
                    ids.put(vm, v.id());
                    ops.hold(VmCore.lane(v.id()), o);
                    store.label(new Store.Label("vm", v.id(), topo, name, vm, m.role()));
                }
            }
            o.accept(node(topo, name));
            int running = 0;
            for (List<String> stage : stages) {
                List<String> errors = Collections.synchronizedList(new ArrayList<>());
                parallel(stage, vm -> {
                    String id = ids.get(vm);
                    Operations.Op boot = snaps.bootClone(id, verified.get(vm));
                    VmView r = vms.awaitOperation(boot.view(), id, bootTimeout.plusSeconds(30));
                    if (r.state() != VmState.RUNNING) errors.add(r.name() + ": " + r.state() + " " + firstLine(r.error()));
                });
                if (!errors.isEmpty()) {
                    throw new VmctlException(VmctlException.Kind.INTERNAL, String.join("; ", errors), "the VMs after it in start order were not started");
                }
                running += stage.size();
                o.progress(running + "/" + ids.size() + " VMs running");
            }
            NodeView cloned = node(topo, name);
            events.publishData(dev.vmctl.model.EventType.NODE_STATE, null, topo + "/" + name, null, null,
                    "cloned from node snapshot " + ns.name() + " of " + topo + "/" + node, cloned);
            return cloned;
        } catch (RuntimeException e) {
            boolean clean = true;
            for (String id : ids.values()) {
                try {
                    vms.destroy(id, true);
                } catch (RuntimeException ex) {
                    clean = false;
                    log.warn("{}: remove {} after the failure: {}", what, id, ex.getMessage());
                }
            }
            if (nodeSaved && clean) store.deleteNode(topo, name);
            VmctlException.Kind kind = e instanceof VmctlException ve ? ve.kind() : VmctlException.Kind.INTERNAL;
            String detail = e instanceof VmctlException ve ? ve.detail() : null;
            throw new VmctlException(kind, what + ": " + e.getMessage() + (clean ? "; removed what was created"
                    : "; some of it is left: vmctl node rm " + topo + "/" + name), detail, e);
        }
    }

    public NodeView node(String topo, String node) {
        return nodes(topo).stream().filter(n -> n.name().equals(node)).findFirst()
                .orElseThrow(() -> VmctlException.notFound("node", topo + "/" + node));
    }
}
