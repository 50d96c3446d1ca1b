package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.EventType;
import dev.vmctl.model.InvocationView;
import dev.vmctl.model.Names;
import dev.vmctl.model.TemplateView;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.net.Ipam;
import dev.vmctl.net.NetnsDialer;
import dev.vmctl.snapshot.SnapshotManifest;
import dev.vmctl.snapshot.VerifiedSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Request-driven nodes (F-13). A template is a node snapshot of a running node whose service answers on a port; each
 * request gets a fresh copy of that node: an isolated segment (from the segment pool) with the template's subnet, the
 * node's VMs cloned into it from the snapshot with the template's own addresses (nothing can clash inside a segment),
 * the service's readiness, the request forwarded and the answer streamed back, then node and segment removed.
 * <p>
 * The server reaches the service without any route: {@link NetnsDialer} creates the TCP socket inside the segment's
 * namespace (the namespace holds the network's gateway address), so the segment has no way out and nothing of the
 * host's network gets in. Every run is written (with its segment's name) before the segment exists, so that a start-up
 * after a crash removes what a request left ({@link #start()}). A warm pool keeps {@code poolWarm} copies per template
 * restored, ready and paused (vCPUs stopped), resumed per request.
 */
public final class Templates implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Templates.class);
    private static final Pattern SOURCE = Pattern.compile("([^/\\s]+)/([^/\\s]+)");
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(ms|s|m)");
    static final int MAX_BODY = 16 * 1024 * 1024;

    /** The largest request body /run takes (bytes). */
    public static int maxBody() { return MAX_BODY; }
    private static final Duration CREATE_READY = Duration.ofSeconds(60);

    private final Store store;
    private final TemplateStore rows;
    private final EventBus events;
    private final Operations ops;
    private final Engine engine;
    private final TopologyService topologies;
    private final Map<String, Semaphore> admission = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();
    private final Map<String, Map<String, VerifiedSnapshot>> verified = new ConcurrentHashMap<>();
    private final Map<String, ConcurrentLinkedDeque<Slot>> pools = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> filling = new ConcurrentHashMap<>();
    private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
    private volatile NetnsDialer dialer;
    private volatile boolean closed;

    public Templates(Engine engine, TopologyService topologies, EventBus events) {
        this.engine = engine;
        this.store = engine.store();
        this.rows = new TemplateStore(store);
        this.events = events;
        this.ops = engine.ops();
        this.topologies = topologies;
        engine.snapshots().snapshotOwner = snap -> rows.ownerOfSnapshot(snap).map(t -> "template " + t).orElse(null);
    }

    /** At start-up, after the engine's reconcile: removes every segment a request or pool slot left, then fills the pools. */
    public void start() {
        for (InvocationView r : rows.uncleaned()) {
            background.submit(() -> teardown(r.id(), r.segment(), System.nanoTime(), "left by a previous server"));
        }
        for (TemplateStore.Row t : rows.all()) {
            background.submit(() -> {
                try {
                    verifiedOf(t); // once, before the first request needs it
                } catch (RuntimeException e) {
                    log.warn("template {}: snapshot check failed: {}", t.name(), e.getMessage());
                }
                if (t.poolWarm() > 0) refill(t.name());
            });
        }
    }

    // ---------------------------------------------------------------- create, list, remove

    /** What {@code vmctl template create} sends. */
    public record CreateRequest(String name, String from, Integer port, String ready, Integer maxConcurrent, String timeout, String vm) {}

    /**
     * Makes template {@code name} from running node TOPO/NODE (operation {@code template.create}): waits until the service
     * answers on the port (in the VM named, else the first of the node's VMs that answers), takes a node snapshot the
     * template owns (the topology may go; the template stays) and records the addresses every copy gets.
     */
    public Accepted<TemplateView> create(CreateRequest req) {
        if (req == null) throw VmctlException.invalid("body", "missing", "{\"name\", \"from\": \"TOPO/NODE\", \"port\", \"ready\", \"maxConcurrent\", \"timeout\"}");
        Names.check("name", req.name());
        if (req.from() == null || !SOURCE.matcher(req.from()).matches()) {
            throw VmctlException.invalid("from", req.from() == null ? "missing" : "'" + req.from() + "' is not TOPO/NODE", "TOPOLOGY/NODE of a deployed node, e.g. shop/api");
        }
        int port = req.port() == null ? -1 : req.port();
        if (port < 1 || port > 65535) throw VmctlException.invalid("port", req.port() == null ? "missing" : String.valueOf(req.port()), "the service's TCP port, 1-65535");
        String ready = ready(req.ready());
        int max = req.maxConcurrent() == null ? 10 : req.maxConcurrent();
        if (max < 1 || max > 1000) throw VmctlException.invalid("maxConcurrent", String.valueOf(max), "1-1000 requests at once (default 10)");
        long timeoutMs = durationMs("timeout", req.timeout(), 30_000, 1_000, 600_000);
        if (rows.get(req.name()).isPresent()) throw VmctlException.conflict("template " + req.name() + " already exists", "choose another name, or vmctl template rm " + req.name());
        var m = SOURCE.matcher(req.from());
        m.matches();
        String topo = m.group(1), node = m.group(2);
        Map<String, String> ids = new LinkedHashMap<>();
        for (Store.Label l : store.labels(topo)) if (l.kind().equals("vm") && node.equals(l.node())) ids.put(l.localName(), l.id());
        if (ids.isEmpty()) throw VmctlException.notFound("node", req.from());
        if (req.vm() != null && !ids.containsKey(req.vm())) throw VmctlException.invalid("vm", "'" + req.vm() + "' is not a VM of node " + req.from(), "VMs of the node: " + String.join(", ", ids.keySet()));
        // one network for the whole node: a segment is one network
        Set<String> nets = new LinkedHashSet<>();
        for (String id : ids.values()) for (NetRows.NicRow n : store.nics(id)) nets.add(n.networkId());
        if (nets.isEmpty()) throw VmctlException.invalid("from", "node " + req.from() + " has no NIC", "a node whose VMs are on one network (the service is reached on it)");
        if (nets.size() > 1) {
            throw VmctlException.invalid("from", "node " + req.from() + " is on " + nets.size() + " networks ("
                    + String.join(", ", nets.stream().map(n -> store.network(n).map(NetRows.NetRow::name).orElse(n)).toList()) + ")",
                    "a node whose VMs are all on one network: a request's copy runs in one isolated segment, which is one network");
        }
        NetRows.NetRow net = store.network(nets.iterator().next()).orElseThrow();
        Ipam subnet = Ipam.of(net.subnet());
        for (var e : ids.entrySet()) {
            for (NetRows.NicRow n : store.nics(e.getValue())) {
                if (subnet.gateway().equals(n.ip())) {
                    throw VmctlException.invalid("from", "vm " + e.getKey() + " has the network's gateway address " + n.ip(),
                            "VMs with other addresses: inside a copy's segment the gateway address is vmctl's, to reach the service");
                }
            }
        }
        return ops.run(Operations.Spec.of("template.create", "template:" + req.name()), Duration.ofMinutes(10), o -> {
            if (rows.get(req.name()).isPresent()) throw VmctlException.conflict("template " + req.name() + " already exists", "choose another name");
            for (var e : ids.entrySet()) {
                VmView v = engine.vms().get(e.getValue());
                if (v.state() != VmState.RUNNING) {
                    throw VmctlException.conflict("vm " + v.name() + " of node " + req.from() + " is " + v.state(), "start the node first: vmctl node start " + req.from());
                }
            }
            o.progress("waiting for the service on port " + port + " (" + ready + ")");
            String target = waitForService(ids, req.vm(), port, ready, o);
            String snapName = "tpl-" + req.name() + "-" + Long.toString(System.currentTimeMillis() / 1000, 36);
            o.progress("node snapshot " + snapName);
            var ns = topologies.snapshotNode(topo, node, snapName).value();
            List<TemplateView.Member> members = new ArrayList<>();
            for (var e : ns.members().entrySet()) {
                List<String> ips = store.nics(ids.get(e.getKey())).stream().sorted(java.util.Comparator.comparingInt(NetRows.NicRow::index))
                        .map(NetRows.NicRow::ip).toList();
                members.add(new TemplateView.Member(e.getKey(), e.getValue(), ips));
            }
            List<List<String>> stages = topologies.nodeStages(topo, node);
            TemplateStore.Row row = new TemplateStore.Row(req.name(), req.from(), snapName, target, port, ready, max, timeoutMs, subnet.cidr(),
                    members, stages, 0, Instant.now().toString());
            rows.insert(row);
            o.progress("verifying the snapshot (SHA-256 of its files, once)");
            verifiedOf(row);
            TemplateView created = view(row);
            events.publishData(EventType.TEMPLATE_CREATED, null, req.name(), null, null, "from " + req.from() + " (node snapshot " + snapName + "), "
                    + target + ":" + port, created);
            return created;
        });
    }

    /** Polls the service in the guest (the agent runs a TCP or HTTP check against 127.0.0.1:port); the VM that answered. */
    private String waitForService(Map<String, String> ids, String vm, int port, String ready, Operations.Op o) {
        long deadline = System.nanoTime() + CREATE_READY.toNanos();
        List<String> candidates = vm != null ? List.of(vm) : List.copyOf(ids.keySet());
        String last = "";
        while (System.nanoTime() < deadline) {
            for (String c : candidates) {
                List<String> argv = ready.startsWith("http:")
                        ? List.of("/bin/sh", "-c", "exec timeout 3 wget -q -O /dev/null \"http://127.0.0.1:$1$2\"", "ready", String.valueOf(port), ready.substring(5))
                        : List.of("/bin/sh", "-c", "exec nc -w 2 127.0.0.1 \"$1\" </dev/null", "ready", String.valueOf(port));
                var r = engine.vms().exec(ids.get(c), argv, null, Duration.ofSeconds(5));
                if (r.exitCode() == 0) return c;
                last = c + ": " + (r.stderr().isBlank() ? "exit " + r.exitCode() : r.stderr().strip());
            }
            o.checkCancelled();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "interrupted", null);
            }
        }
        throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "the service did not answer on port " + port + " (" + ready + ") within "
                + CREATE_READY.toSeconds() + "s", "last check: " + last);
    }

    public List<TemplateView> list() {
        return rows.all().stream().map(this::view).toList();
    }

    public TemplateView get(String name) {
        return view(row(name));
    }

    public List<InvocationView> invocations(String name, int limit) {
        row(name);
        return rows.runs(name, Math.max(1, Math.min(limit, 1000)));
    }

    /** Removes a template: its pool, then its node snapshot (operation {@code template.delete}); 409 while it serves requests. */
    public Accepted<TemplateView> delete(String name) {
        TemplateStore.Row r = row(name);
        return ops.run(Operations.Spec.of("template.delete", "template:" + name), Duration.ofMinutes(10), o -> {
            int busy = active(name).get();
            if (busy > 0) throw VmctlException.conflict("template " + name + " is serving " + busy + " request(s)", "try again when they are done");
            TemplateView before = view(r);
            rows.delete(name); // no new request finds it; then what it had
            ConcurrentLinkedDeque<Slot> pool = pools.remove(name);
            if (pool != null) for (Slot s; (s = pool.poll()) != null; ) teardown(s.runId(), s.segment(), System.nanoTime(), "template removed");
            for (TemplateView.Member m : r.members()) {
                try {
                    engine.snapshots().deleteOwned(m.snapshot());
                } catch (RuntimeException e) {
                    log.warn("template {}: remove snapshot {}: {}", name, m.snapshot(), e.getMessage());
                }
            }
            store.deleteNodeSnapshot(r.snapshot());
            verified.remove(name);
            admission.remove(name);
            events.publishData(EventType.TEMPLATE_DELETED, null, name, null, null, "removed with its node snapshot " + r.snapshot(), before);
            return before;
        });
    }

    /** Sets the warm pool of a template to {@code warm} copies (0: none); extra slots are removed, missing ones prepared in the background. */
    public TemplateView pool(String name, Integer warm) {
        TemplateStore.Row r = row(name);
        int n = warm == null ? -1 : warm;
        if (n < 0 || n > 64) throw VmctlException.invalid("warm", warm == null ? "missing" : String.valueOf(warm), "0-64 ready copies");
        ConcurrentLinkedDeque<Slot> have = pools.get(name);
        int more = n - (have == null ? 0 : have.size());
        if (more > 0) {
            // the copies to add must fit now (a 409 naming memory); each is admitted again when it is made
            long each = memoryOf(r).values().stream().mapToLong(Long::longValue).sum();
            engine.memory().group("template " + name + ": " + more + " more warm copies of " + each + " MiB", more * each, java.util.Set.of()).close();
        }
        rows.setPool(name, n);
        ConcurrentLinkedDeque<Slot> pool = pools.computeIfAbsent(name, k -> new ConcurrentLinkedDeque<>());
        while (pool.size() > n) {
            Slot s = pool.pollLast();
            if (s != null) background.submit(() -> teardown(s.runId(), s.segment(), System.nanoTime(), "pool shrunk"));
        }
        refill(name);
        return view(r.withPool(n));
    }

    private TemplateStore.Row row(String name) {
        return rows.get(name).orElseThrow(() -> VmctlException.notFound("template", name));
    }

    private TemplateView view(TemplateStore.Row r) {
        ConcurrentLinkedDeque<Slot> pool = pools.get(r.name());
        return new TemplateView(r.name(), r.source(), r.snapshot(), r.vm(), r.port(), r.ready(), r.maxConcurrent(), r.timeoutMs(), r.subnet(),
                r.members(), r.stages(), r.poolWarm(), pool == null ? 0 : pool.size(), active(r.name()).get(), rows.countRuns(r.name()), r.createdAt());
    }

    private AtomicInteger active(String name) {
        return active.computeIfAbsent(name, k -> new AtomicInteger());
    }

    static String ready(String ready) {
        if (ready == null || ready.isBlank() || ready.equals("tcp")) return "tcp";
        if (ready.startsWith("http:/") && ready.length() < 1024 && ready.substring(5).chars().allMatch(c -> c > ' ' && c < 127)) return ready;
        throw VmctlException.invalid("ready", "'" + ready + "'", "tcp (the port accepts a connection) or http:/PATH (a GET of PATH answers 2xx/3xx), e.g. http:/healthz");
    }

    static long durationMs(String field, String text, long dflt, long min, long max) {
        if (text == null || text.isBlank()) return dflt;
        var m = DURATION.matcher(text.strip());
        String allowed = "a duration of " + min / 1000 + "s to " + max / 60_000 + "m: a number with ms, s or m, e.g. 30s";
        if (!m.matches()) throw VmctlException.invalid(field, "'" + text + "' is not a duration", allowed);
        long n = Long.parseLong(m.group(1));
        long ms = switch (m.group(2)) {
            case "ms" -> n;
            case "s" -> n * 1000;
            default -> n * 60_000;
        };
        if (ms < min || ms > max) throw VmctlException.invalid(field, text + " is out of range", allowed);
        return ms;
    }

    // ---------------------------------------------------------------- one request

    /** A request for a template's node, as it came to {@code /run/NAME/...}. */
    public record Invocation(String method, String target, List<Map.Entry<String, String>> headers, byte[] body) {}

    /** Where the answer goes: the head first (status, headers, Server-Timing), then the body as it comes. */
    public interface Sink {
        void head(int status, List<Map.Entry<String, String>> headers) throws IOException;

        OutputStream body() throws IOException;
    }

    /** vmctl's own answer instead of the service's: 429 (with retryAfter seconds), 502, 504, 404. */
    public static final class Refused extends RuntimeException {
        public final int status;
        public final Integer retryAfter;
        public final String serverTiming;

        Refused(int status, String message, Integer retryAfter, String serverTiming) {
            super(message);
            this.status = status;
            this.retryAfter = retryAfter;
            this.serverTiming = serverTiming;
        }
    }

    private static final class Timer {
        final long t0 = System.nanoTime();
        final Map<String, Double> t = new LinkedHashMap<>();
        long mark = t0;

        void lap(String name) {
            long now = System.nanoTime();
            t.put(name, (now - mark) / 1e6);
            mark = now;
        }

        double since() {
            return (System.nanoTime() - t0) / 1e6;
        }

        String header() {
            StringBuilder b = new StringBuilder();
            for (var e : t.entrySet()) {
                if (!b.isEmpty()) b.append(", ");
                b.append(e.getKey()).append(";dur=").append(String.format(Locale.ROOT, "%.1f", e.getValue()));
            }
            return b.toString();
        }
    }

    /** A copy of a template's node: its run, its segment (namespace), its VMs and the service's address. */
    private record Slot(String runId, String segment, String netns, List<String> vmIds, String ip, boolean paused) {}

    /**
     * Serves one request with a fresh copy of template {@code name}'s node (see the class comment). The answer's
     * {@code Server-Timing} has queue, segment, restore, ready, upstream (to the service's response head) and total (to
     * the head vmctl sends); vmctl's own answers are {@link Refused}. The node and segment are removed after the
     * answer, in the background; the template's limit counts a request until its answer is complete.
     */
    public InvocationView invoke(String name, Invocation req, Sink sink) {
        Timer timer = new Timer();
        TemplateStore.Row t = rows.get(name).orElseThrow(() -> VmctlException.notFound("template", name));
        long deadline = timer.t0 + t.timeoutMs() * 1_000_000L;
        Semaphore gate = admission.computeIfAbsent(name, k -> new Semaphore(t.maxConcurrent()));
        if (!gate.tryAcquire()) {
            timer.lap("queue");
            throw new Refused(429, "template " + name + " is serving its limit of " + t.maxConcurrent() + " requests at once", 1, timer.header());
        }
        active(name).incrementAndGet();
        String runId = VmCore.newId().substring(0, 8);
        Slot slot = null;
        Integer status = null;
        String error = null;
        boolean pooled = false;
        boolean recorded = false;
        String method = req.method().toUpperCase(Locale.ROOT);
        try {
            slot = takeSlot(name);
            timer.lap("queue");
            if (slot != null) {
                pooled = true;
                recorded = true;
                runId = slot.runId();
                rows.claimRun(runId, method, req.target());
                resume(slot);
                timer.t.put("segment", 0.0);
                timer.t.put("restore", 0.0);
                timer.lap("resume");
                refill(name);
            } else {
                rows.insertRun(runId, name, "request", method, req.target(), segmentName(runId), Instant.now().toString());
                recorded = true;
                slot = prepare(t, runId, deadline, timer);
            }
            Socket s = connectReady(t, slot, deadline, timer);
            try (s) {
                s.setSoTimeout((int) Math.max(1, remainingMs(deadline, t)));
                HttpRelay.Response resp;
                try {
                    resp = HttpRelay.exchange(s, slot.ip() + ":" + t.port(), new HttpRelay.Request(method, req.target(), req.headers(), req.body()));
                } catch (java.net.SocketTimeoutException e) {
                    throw new Refused(504, "template " + name + ": no answer from the service within the template's timeout of " + t.timeoutMs() + " ms", null, null);
                } catch (IOException e) {
                    throw new Refused(502, "template " + name + ": the service failed: " + e.getMessage(), null, null);
                }
                timer.lap("upstream");
                timer.t.put("total", timer.since());
                List<Map.Entry<String, String>> headers = new ArrayList<>(resp.head().headers());
                headers.add(Map.entry("Server-Timing", timer.header()));
                if (resp.head().contentLength() >= 0 && !resp.head().chunked()) headers.add(Map.entry("Content-Length", String.valueOf(resp.head().contentLength())));
                status = resp.head().status();
                sink.head(status, headers);
                OutputStream out = sink.body();
                byte[] buf = new byte[64 * 1024];
                InputStream in = resp.body();
                try {
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        out.write(buf, 0, n);
                        out.flush();
                        s.setSoTimeout((int) Math.max(1, remainingMs(deadline, t)));
                    }
                } catch (IOException e) {
                    error = "the answer broke off: " + e.getMessage();
                    throw new Refused(0, error, null, null); // the head is out: the client sees a cut answer
                }
                out.flush();
            }
            timer.t.put("total", timer.since());
            return finish(runId, name, method, req.target(), status, null, slot, pooled, timer);
        } catch (Refused r) {
            if (!recorded) throw r;
            error = r.getMessage();
            status = r.status == 0 ? status : r.status;
            finish(runId, name, method, req.target(), status, error, slot, pooled, timer);
            throw r.serverTiming != null || r.status == 0 ? r : new Refused(r.status, r.getMessage(), r.retryAfter, timer.header());
        } catch (RuntimeException e) {
            boolean timedOut = System.nanoTime() > deadline;
            status = timedOut ? 504 : 502;
            error = timedOut ? "template " + name + ": past its timeout of " + t.timeoutMs() + " ms (" + e.getMessage() + ")"
                    : "template " + name + ": " + e.getMessage();
            finish(runId, name, method, req.target(), status, error, slot, pooled, timer);
            throw new Refused(status, error, null, timer.header());
        } catch (IOException e) {
            status = 502;
            error = "template " + name + ": " + e.getMessage();
            finish(runId, name, method, req.target(), status, error, slot, pooled, timer);
            throw new Refused(status, error, null, timer.header());
        } finally {
            active(name).decrementAndGet();
            gate.release();
            String seg = slot != null ? slot.segment() : segmentName(runId);
            String id = runId;
            long t1 = System.nanoTime();
            if (recorded) {
                background.submit(() -> teardown(id, seg, t1, "request done"));
            }
        }
    }

    private InvocationView finish(String runId, String name, String method, String path, Integer status, String error, Slot slot,
                                  boolean pooled, Timer timer) {
        timer.t.putIfAbsent("total", timer.since());
        try {
            rows.finishRun(runId, status, error, pooled, timer.t, Instant.now().toString());
        } catch (RuntimeException e) {
            log.warn("template {}: record run {}: {}", name, runId, e.getMessage());
        }
        InvocationView v = new InvocationView(runId, name, method, path, status, error, slot == null ? null : slot.segment(), pooled, timer.t,
                null, Instant.now().toString(), false);
        events.publish(EventType.TEMPLATE_INVOKED, null, name, null, null,
                method + " " + path + " → " + status + String.format(Locale.ROOT, " in %.1f ms", timer.t.get("total")) + (error == null ? "" : ": " + error), dev.vmctl.engine.op.Operations.currentId(), v);
        return v;
    }

    private static long remainingMs(long deadline, TemplateStore.Row t) {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) throw new Refused(504, "template " + t.name() + ": past its timeout of " + t.timeoutMs() + " ms", null, null);
        return left;
    }

    static String segmentName(String runId) {
        return "run-" + runId;
    }

    /** A segment with the template's subnet and its node cloned into it, the template's addresses kept, all RUNNING. */
    private Slot prepare(TemplateStore.Row t, String runId, long deadline, Timer timer) {
        // the copy's VMs are admitted all together before anything is made (memory: a 503 with Retry-After to the client)
        MemoryBudget.Group budget;
        try {
            budget = engine.memory().group("template " + t.name() + ": a copy of its node", memoryOf(t).values().stream().mapToLong(Long::longValue).sum(),
                    java.util.Set.of());
        } catch (VmctlException e) {
            throw new Refused(503, e.getMessage(), 5, null);
        }
        try (budget) {
            return prepare(t, runId, deadline, timer, budget);
        }
    }

    /** The memory (MiB) of each VM of a template's node, from its snapshots. */
    private Map<String, Long> memoryOf(TemplateStore.Row t) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (TemplateView.Member m : t.members()) out.put(m.vm(), (long) engine.snapshots().store().get(m.snapshot()).vm().memoryMiB());
        return out;
    }

    private Slot prepare(TemplateStore.Row t, String runId, long deadline, Timer timer, MemoryBudget.Group budget) {
        String seg = segmentName(runId);
        long ttlS = Math.max(60, t.timeoutMs() / 1000 + 60); // a safety net: the segment goes at its TTL even if vmctl forgot it
        var sv = engine.segments().create(new Segments.CreateRequest(seg, "template." + t.name(), t.subnet(), ttlS + "s", true)).value();
        if (timer != null) timer.lap("segment");
        Map<String, VerifiedSnapshot> snaps = verifiedOf(t);
        Map<String, TemplateView.Member> byVm = new LinkedHashMap<>();
        for (TemplateView.Member m : t.members()) byVm.put(m.vm(), m);
        Map<String, String> ids = new LinkedHashMap<>();
        for (List<String> stage : t.stages()) {
            for (String vm : stage) {
                TemplateView.Member m = byVm.get(vm);
                List<NetService.NicRequest> nics = m.ips().stream().map(ip -> new NetService.NicRequest(seg, ip)).toList();
                VmView v = engine.snapshots().createClone(snaps.get(vm).manifest(), seg + "-" + vm, nics, true);
                budget.assign(v.id(), snaps.get(vm).manifest().vm().memoryMiB());
                ids.put(vm, v.id());
            }
        }
        for (List<String> stage : t.stages()) {
            List<String> errors = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (String vm : stage) {
                threads.add(Thread.ofVirtual().start(() -> {
                    String id = ids.get(vm);
                    Operations.Op boot = engine.snapshots().bootClone(id, snaps.get(vm));
                    long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
                    VmView r = engine.vms().awaitOperation(boot.view(), id, Duration.ofMillis(left));
                    if (r.state() != VmState.RUNNING) errors.add(r.name() + ": " + r.state() + (r.error() == null ? "" : " " + r.error()));
                }));
            }
            for (Thread th : threads) {
                try {
                    th.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!errors.isEmpty()) throw VmctlException.internal("restore of the node failed: " + String.join("; ", errors), null);
            if (System.nanoTime() > deadline) throw new Refused(504, "template " + t.name() + ": the node was not restored within " + t.timeoutMs() + " ms", null, null);
        }
        if (timer != null) timer.lap("restore");
        TemplateView.Member target = byVm.get(t.vm());
        return new Slot(runId, seg, sv.netns(), List.copyOf(ids.values()), target.ips().getFirst(), false);
    }

    private Map<String, VerifiedSnapshot> verifiedOf(TemplateStore.Row t) {
        return verified.computeIfAbsent(t.name(), k -> {
            Map<String, VerifiedSnapshot> m = new LinkedHashMap<>();
            for (TemplateView.Member mem : t.members()) m.put(mem.vm(), engine.snapshots().store().verify(mem.snapshot()));
            return m;
        });
    }

    /**
     * The service's readiness from inside the segment: a TCP connection to ip:port (with {@code tcp} that connection is
     * the request's), with {@code http:/PATH} a GET of PATH answering below 400 first.
     */
    private Socket connectReady(TemplateStore.Row t, Slot slot, long deadline, Timer timer) throws IOException {
        NetnsDialer d = dialer();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            SocketChannel ch = null;
            try {
                ch = d.connect(slot.netns(), slot.ip(), t.port(), Duration.ofMillis(Math.min(1000, Math.max(1, remainingMs(deadline, t)))));
                if (t.ready().startsWith("http:")) {
                    Socket probe = ch.socket();
                    probe.setSoTimeout((int) Math.min(2000, Math.max(1, remainingMs(deadline, t))));
                    var r = HttpRelay.exchange(probe, slot.ip() + ":" + t.port(), new HttpRelay.Request("GET", t.ready().substring(5), List.of(), null));
                    r.body().transferTo(OutputStream.nullOutputStream());
                    probe.close();
                    ch = null;
                    if (r.head().status() >= 400) throw new IOException("ready check " + t.ready() + " answered " + r.head().status());
                    ch = d.connect(slot.netns(), slot.ip(), t.port(), Duration.ofMillis(Math.max(1, remainingMs(deadline, t))));
                }
                if (timer != null) timer.lap("ready");
                return ch.socket();
            } catch (IOException e) {
                last = e;
                if (ch != null) ch.close();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new Refused(504, "template " + t.name() + ": the service was not ready on " + slot.ip() + ":" + t.port() + " within "
                + t.timeoutMs() + " ms" + (last == null ? "" : " (" + last.getMessage() + ")"), null, null);
    }

    private NetnsDialer dialer() {
        NetnsDialer d = dialer;
        if (d == null) {
            synchronized (this) {
                if (dialer == null) {
                    if (!NetnsDialer.available()) {
                        throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "cannot reach a segment: no setns through Java's foreign function API",
                                "run the server with --enable-native-access=ALL-UNNAMED (the vmctl script does)");
                    }
                    dialer = new NetnsDialer();
                }
                d = dialer;
            }
        }
        return d;
    }

    /** Removes a run's segment (and with it its VMs) and marks the run cleaned. */
    private void teardown(String runId, String segment, long t0, String why) {
        try {
            if (engine.segments().exists(segment)) engine.segments().delete(segment);
            rows.markCleaned(runId, (System.nanoTime() - t0) / 1e6);
            log.debug("run {}: segment {} removed ({})", runId, segment, why);
        } catch (RuntimeException e) {
            log.warn("run {}: remove segment {} ({}): {}", runId, segment, why, e.getMessage());
        }
    }

    // ---------------------------------------------------------------- warm pool

    private Slot takeSlot(String name) {
        ConcurrentLinkedDeque<Slot> pool = pools.get(name);
        return pool == null ? null : pool.pollFirst();
    }

    private void resume(Slot s) {
        for (String id : s.vmIds()) {
            VmRuntime rt = engine.core().runtimes.get(id);
            if (rt == null || !rt.alive()) throw VmctlException.internal("pooled vm " + id + " is gone", null);
            rt.vm.cont();
        }
    }

    /** Prepares missing pool slots of a template in the background, one at a time per template. */
    private void refill(String name) {
        if (closed) return;
        AtomicInteger f = filling.computeIfAbsent(name, k -> new AtomicInteger());
        if (!f.compareAndSet(0, 1)) return;
        background.submit(() -> {
            try {
                while (!closed) {
                    TemplateStore.Row t = rows.get(name).orElse(null);
                    if (t == null) return;
                    ConcurrentLinkedDeque<Slot> pool = pools.computeIfAbsent(name, k -> new ConcurrentLinkedDeque<>());
                    if (pool.size() >= t.poolWarm()) return;
                    String runId = VmCore.newId().substring(0, 8);
                    rows.insertRun(runId, name, "pool", null, null, segmentName(runId), Instant.now().toString());
                    try {
                        Slot s = prepare(t, runId, System.nanoTime() + Duration.ofMinutes(2).toNanos(), null);
                        warmUp(t, s, connectReady(t, s, System.nanoTime() + Duration.ofSeconds(60).toNanos(), null));
                        for (String id : s.vmIds()) engine.core().runtimes.get(id).vm.stopCpus();
                        TemplateStore.Row now = rows.get(name).orElse(null);
                        if (closed || now == null || pool.size() >= now.poolWarm()) {
                            // the pool was shrunk (or the template removed) while this copy was prepared
                            teardown(s.runId(), s.segment(), System.nanoTime(), "pool shrunk while preparing");
                            return;
                        }
                        pool.addLast(new Slot(s.runId(), s.segment(), s.netns(), s.vmIds(), s.ip(), true));
                        log.info("template {}: pool slot {} ready ({} of {})", name, s.segment(), pool.size(), t.poolWarm());
                    } catch (RuntimeException | IOException e) {
                        log.warn("template {}: pool slot failed: {}", name, e.getMessage());
                        teardown(runId, segmentName(runId), System.nanoTime(), "pool slot failed");
                        return;
                    }
                }
            } finally {
                f.set(0);
            }
        });
    }

    /**
     * One GET of the ready path (or /) on a pool copy before it is paused, its answer read and dropped: under TCG the
     * first connection a restored guest serves translates the service's code paths (accept, fork, …; ~0.1–0.3 s), so
     * the copy's first real request does not pay for it. Any answer will do; no answer is logged, not fatal.
     */
    private void warmUp(TemplateStore.Row t, Slot s, Socket ready) {
        String path = t.ready().startsWith("http:") ? t.ready().substring(5) : "/";
        try (ready) {
            ready.setSoTimeout(10_000);
            HttpRelay.Response r = HttpRelay.exchange(ready, s.ip() + ":" + t.port(), new HttpRelay.Request("GET", path, List.of(), null));
            r.body().transferTo(OutputStream.nullOutputStream());
        } catch (IOException | RuntimeException e) {
            log.info("template {}: warm-up GET {} of pool copy {}: {}", t.name(), path, s.segment(), e.getMessage());
        }
    }

    @Override
    public void close() {
        closed = true;
        background.shutdownNow();
        NetnsDialer d = dialer;
        if (d != null) d.close();
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
