package dev.vmctl.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.ProcStats;
import dev.vmctl.model.Metrics;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.GuestAgentClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Samples every running VM each interval (default 2 s, {@code -Dvmctl.metrics.interval=2s}) into a bounded ring per VM
 * (default 30 min, {@code -Dvmctl.metrics.retention=30m}).
 *
 * <p>Host side, per VM: /proc/PID/stat (CPU seconds) and /proc/PID/statm (RSS) of its QEMU every round, and
 * /proc/PID/smaps_rollup (PSS; a page-table walk) every {@code guestEvery} rounds. The NIC counters
 * of every VM come from one read per round and network namespace of /proc/PID/net/dev of a QEMU in it (the fabric's, or a segment's), so
 * that file lists every tap. Guest side, every {@code vmctl.metrics.guestEvery} rounds (default 5): /proc/meminfo,
 * /proc/loadavg and /proc/uptime read through the guest agent (guest-file-open/read/close, no process started in the
 * guest), on a virtual thread per VM with 2 s per request, skipped while an operation works on the VM's lane. No
 * process is spawned by the sampler.
 */
public final class MetricsService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsService.class);
    static final Duration GUEST_REQUEST = Duration.ofSeconds(2);
    private static final Pattern WINDOW = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final VmCore core;
    private final Duration interval;
    private final Duration retention;
    private final int guestEvery;
    private final int capacity;
    private final Map<String, Series> series = new ConcurrentHashMap<>();
    private final List<Consumer<Long>> roundListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicLong rounds = new AtomicLong();
    private final AtomicLong roundNanos = new AtomicLong();
    private ScheduledExecutorService timer;

    MetricsService(VmCore core) {
        this(core, duration("vmctl.metrics.interval", Duration.ofSeconds(2)), duration("vmctl.metrics.retention", Duration.ofMinutes(30)),
                Integer.getInteger("vmctl.metrics.guestEvery", 5));
    }

    MetricsService(VmCore core, Duration interval, Duration retention, int guestEvery) {
        if (interval.toMillis() < 100) throw new IllegalArgumentException("vmctl.metrics.interval: at least 100ms, got " + interval);
        this.core = core;
        this.interval = interval;
        this.retention = retention;
        this.guestEvery = Math.max(1, guestEvery);
        this.capacity = (int) Math.max(2, retention.toMillis() / interval.toMillis());
    }

    /** Starts the sampling thread (one platform daemon thread for the whole server). */
    public synchronized void start() {
        if (timer != null) return;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vmctl-metrics");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            try {
                round();
            } catch (RuntimeException e) {
                log.warn("metrics round: {}", e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("metrics: sampling every {} ms, {} samples kept per VM, guest every {} rounds", interval.toMillis(), capacity, guestEvery);
    }

    public Duration interval() { return interval; }
    public Duration retention() { return retention; }

    /** Rounds so far and the average wall time of one round (what the sampler costs). */
    public long rounds() { return rounds.get(); }
    public double averageRoundMillis() {
        long n = rounds.get();
        return n == 0 ? 0 : roundNanos.get() / 1e6 / n;
    }

    /** Wall time of every round so far together, in seconds (its rate over the rounds' rate is the cost of one round). */
    public double roundSeconds() {
        return roundNanos.get() / 1e9;
    }

    /** Called after every round with its timestamp (the server's Prometheus export follows the VMs it lists). */
    public Runnable onRound(Consumer<Long> listener) {
        roundListeners.add(listener);
        return () -> roundListeners.remove(listener);
    }

    // ---------------------------------------------------------------- queries

    /** A VM's samples of the last {@code window} (e.g. "10m"; at most the retention). */
    public Metrics.Window vm(String idOrName, String window) {
        long w = window(window);
        VmRow r = core.row(idOrName);
        Series s = series.get(r.id());
        Labels l = labels(r.id());
        List<Metrics.Sample> out = s == null ? List.of() : s.since(System.currentTimeMillis() - w);
        return new Metrics.Window(r.name(), l.node(), l.topology(), interval.toMillis(), w, out);
    }

    /** The sums over the VMs of a node, one per sampling round of the window. */
    public Metrics.Window node(String topology, String node, String window) {
        long w = window(window);
        List<Store.Label> members = core.store.labelsOfKind("vm").stream()
                .filter(l -> topology.equals(l.topology()) && node.equals(l.node())).toList();
        if (members.isEmpty() && core.store.nodeRow(topology, node).isEmpty()) throw VmctlException.notFound("node", topology + "/" + node);
        long since = System.currentTimeMillis() - w;
        TreeMap<Long, List<Metrics.Sample>> byRound = new TreeMap<>();
        for (Store.Label l : members) {
            Series s = series.get(l.id());
            if (s == null) continue;
            for (Metrics.Sample x : s.since(since)) byRound.computeIfAbsent(x.t(), k -> new ArrayList<>()).add(x);
        }
        List<Metrics.Sample> sums = new ArrayList<>();
        for (Map.Entry<Long, List<Metrics.Sample>> e : byRound.entrySet()) sums.add(sum(e.getKey(), e.getValue()));
        return new Metrics.Window(null, node, topology, interval.toMillis(), w, sums);
    }

    /** The latest sample of every VM (null sample for one not sampled yet). */
    public List<Metrics.Latest> latest() {
        Map<String, Labels> labels = labelsById();
        List<Metrics.Latest> out = new ArrayList<>();
        for (VmRow r : core.store.all()) {
            Series s = series.get(r.id());
            Labels l = labels.getOrDefault(r.id(), Labels.NONE);
            out.add(new Metrics.Latest(r.name(), r.id(), l.node(), l.topology(), r.state(), s == null ? null : s.last()));
        }
        return out;
    }

    /** The latest sample of a VM whose QEMU runs now, with its labels (the Prometheus export). */
    public record Live(String id, String name, String node, String topology, Metrics.Sample sample) {}

    public List<Live> live() {
        List<Live> out = new ArrayList<>();
        for (Series s : series.values()) {
            Metrics.Sample last = s.last();
            if (last != null && s.live) out.add(new Live(s.id, s.name, s.node, s.topology, last));
        }
        return out;
    }

    static long window(String text) {
        if (text == null || text.isBlank()) return Duration.ofMinutes(10).toMillis();
        Matcher m = WINDOW.matcher(text.trim());
        if (!m.matches()) {
            throw VmctlException.invalid("window", "'" + text + "' is no duration", "a number with ms, s, m or h (10m, 90s, 1h)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> n;
            case "s" -> n * 1000;
            case "m" -> n * 60_000;
            default -> n * 3_600_000;
        };
    }

    // ---------------------------------------------------------------- sampling

    /** One round over every running VM; public for the bench, which measures its cost. */
    public void round() {
        long t0 = System.nanoTime();
        long t = System.currentTimeMillis();
        long round = rounds.get();
        Map<String, Labels> labels = labelsById();
        Map<String, List<NetRows.NicRow>> nics = new HashMap<>();
        for (NetRows.NicRow n : core.store.nics()) nics.computeIfAbsent(n.vmId(), k -> new ArrayList<>()).add(n);
        // one read of net/dev per network namespace a QEMU runs in (the fabric's, or an isolated segment's)
        Map<String, Map<String, ProcStats.NetDev>> devsByNs = new java.util.HashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (VmRow r : core.store.all()) {
            seen.add(r.id());
            Series s = series.computeIfAbsent(r.id(), id -> new Series(id, capacity));
            Labels l = labels.getOrDefault(r.id(), Labels.NONE);
            s.name = r.name();
            s.node = l.node();
            s.topology = l.topology();
            VmRuntime rt = core.runtimes.get(r.id());
            if (r.state() != VmState.RUNNING || rt == null || !rt.alive()) {
                s.live = false;
                continue;
            }
            long pid = rt.pid();
            Optional<String> stat = ProcStats.read(pid, "stat");
            Optional<String> statm = ProcStats.read(pid, "statm");
            Metrics.Sample prev = s.pid == pid ? s.last() : null;
            // PSS needs smaps_rollup, which walks QEMU's page tables under its mmap lock (~1.7 ms per VM measured under
            // load, bench/metrics): read it with the guest's readings and on a new process; RSS from statm every round
            boolean rollup = prev == null || (round + s.phase) % guestEvery == 0;
            Optional<String> smaps = rollup ? ProcStats.read(pid, "smaps_rollup") : Optional.empty();
            if (stat.isEmpty() || statm.isEmpty() || (rollup && smaps.isEmpty())) {
                s.live = false;
                continue;
            }
            String ns;
            try {
                ns = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/" + pid + "/ns/net")).toString();
            } catch (java.io.IOException e) {
                ns = "pid:" + pid;
            }
            Map<String, ProcStats.NetDev> devs = devsByNs.computeIfAbsent(ns,
                    k -> ProcStats.read(pid, "net/dev").map(ProcStats::netDev).orElse(Map.of()));
            double cpuSeconds = ProcStats.cpuSeconds(stat.get());
            long rss = ProcStats.statmRss(statm.get());
            long pss = rollup ? ProcStats.smapsRollup(smaps.get()).pss() : prev.pss();
            double dt = prev == null ? 0 : (t - prev.t()) / 1000.0;
            double cpu = prev == null || dt <= 0 ? 0 : Math.max(0, (cpuSeconds - prev.cpuSeconds()) / dt);
            Map<String, Metrics.Nic> nicSamples = new LinkedHashMap<>();
            for (NetRows.NicRow n : nics.getOrDefault(r.id(), List.of())) {
                ProcStats.NetDev d = devs.get(NetService.tap(r.id(), n.index()));
                if (d == null) continue;
                // the tap's transmit is what the guest receives, and the other way round
                Metrics.Nic before = prev == null ? null : prev.nics().get(n.name());
                double rxRate = before == null || dt <= 0 ? 0 : Math.max(0, (d.txBytes() - before.rxBytes()) / dt);
                double txRate = before == null || dt <= 0 ? 0 : Math.max(0, (d.rxBytes() - before.txBytes()) / dt);
                nicSamples.put(n.name(), new Metrics.Nic(d.txBytes(), d.rxBytes(), d.txPackets(), d.rxPackets(), d.txDrops(), d.rxDrops(),
                        rxRate, txRate));
            }
            s.pid = pid;
            s.live = true;
            if (s.pid != s.guestPid) s.guest = null; // a new QEMU: the old guest reading is stale
            s.add(new Metrics.Sample(t, cpu, cpuSeconds, rss, Math.min(pss, rss), nicSamples, s.guest));
            if ((round + s.phase) % guestEvery == 0) sampleGuest(s, rt);
        }
        series.keySet().removeIf(id -> !seen.contains(id)); // the VM was removed
        rounds.incrementAndGet();
        roundNanos.addAndGet(System.nanoTime() - t0);
        for (Consumer<Long> c : roundListeners) {
            try {
                c.accept(t);
            } catch (RuntimeException e) {
                log.debug("metrics round listener: {}", e.toString());
            }
        }
    }

    private void sampleGuest(Series s, VmRuntime rt) {
        GuestAgentClient agent = rt.agent();
        if (agent == null || !agent.isOpen()) return;
        if (core.ops.running(VmCore.lane(s.id)) != null) return; // a boot, snapshot, NIC change … owns the guest now
        if (!s.guestInFlight.compareAndSet(false, true)) return; // the last reading has not come back yet
        long pid = rt.pid();
        Thread.ofVirtual().name("metrics-guest " + s.name).start(() -> {
            try {
                String meminfo = readGuestFile(agent, "/proc/meminfo");
                String loadavg = readGuestFile(agent, "/proc/loadavg");
                String uptime = readGuestFile(agent, "/proc/uptime");
                Map<String, Long> mem = ProcStats.meminfo(meminfo);
                s.guest = new Metrics.Guest(System.currentTimeMillis(), mem.get("MemTotal"), mem.get("MemAvailable"),
                        ProcStats.load1(loadavg), ProcStats.uptime(uptime));
                s.guestPid = pid;
            } catch (RuntimeException e) {
                log.debug("vm {}: guest metrics: {}", s.name, e.toString());
            } finally {
                s.guestInFlight.set(false);
            }
        });
    }

    /** One small /proc file through the agent: open, one read, close (2 s per request). */
    static String readGuestFile(GuestAgentClient agent, String path) {
        JsonNode h = agent.execute("guest-file-open", Map.of("path", path, "mode", "r"), GUEST_REQUEST);
        long handle = h.asLong();
        try {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < 4; i++) { // /proc/meminfo is ~1.5 KB; 4 × 16 KB bounds a strange guest
                JsonNode r = agent.execute("guest-file-read", Map.of("handle", handle, "count", 16384), GUEST_REQUEST);
                String b64 = r.path("buf-b64").asText("");
                out.append(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8));
                if (r.path("eof").asBoolean(false) || r.path("count").asInt(0) == 0) break;
            }
            return out.toString();
        } finally {
            try {
                agent.execute("guest-file-close", Map.of("handle", handle), GUEST_REQUEST);
            } catch (RuntimeException ignored) {
                // the handle dies with the agent anyway
            }
        }
    }

    private static Metrics.Sample sum(long t, List<Metrics.Sample> xs) {
        double cpu = 0, cpuSeconds = 0;
        long rss = 0, pss = 0;
        Map<String, Metrics.Nic> nics = new TreeMap<>();
        long gTotal = 0, gAvail = 0;
        double gLoad = 0;
        long gT = 0;
        boolean anyGuest = false;
        for (Metrics.Sample x : xs) {
            cpu += x.cpu();
            cpuSeconds += x.cpuSeconds();
            rss += x.rss();
            pss += x.pss();
            for (Map.Entry<String, Metrics.Nic> e : x.nics().entrySet()) nics.merge(e.getKey(), e.getValue(), MetricsService::add);
            Metrics.Guest g = x.guest();
            if (g != null) {
                anyGuest = true;
                gTotal += g.memTotal() == null ? 0 : g.memTotal();
                gAvail += g.memAvailable() == null ? 0 : g.memAvailable();
                gLoad += g.load1() == null ? 0 : g.load1();
                gT = Math.max(gT, g.t());
            }
        }
        return new Metrics.Sample(t, cpu, cpuSeconds, rss, pss, nics, anyGuest ? new Metrics.Guest(gT, gTotal, gAvail, gLoad, null) : null);
    }

    private static Metrics.Nic add(Metrics.Nic a, Metrics.Nic b) {
        return new Metrics.Nic(a.rxBytes() + b.rxBytes(), a.txBytes() + b.txBytes(), a.rxPackets() + b.rxPackets(),
                a.txPackets() + b.txPackets(), a.rxDrops() + b.rxDrops(), a.txDrops() + b.txDrops(),
                a.rxBytesPerSec() + b.rxBytesPerSec(), a.txBytesPerSec() + b.txBytesPerSec());
    }

    private record Labels(String topology, String node) {
        static final Labels NONE = new Labels(null, null);
    }

    private Labels labels(String id) {
        return core.store.labelOf("vm", id).map(l -> new Labels(l.topology(), l.node())).orElse(Labels.NONE);
    }

    private Map<String, Labels> labelsById() {
        Map<String, Labels> out = new HashMap<>();
        for (Store.Label l : core.store.labelsOfKind("vm")) out.put(l.id(), new Labels(l.topology(), l.node()));
        return out;
    }

    private static Duration duration(String property, Duration fallback) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) return fallback;
        return Duration.ofMillis(window(v));
    }

    @Override
    public synchronized void close() {
        if (timer != null) timer.shutdownNow();
        timer = null;
    }

    /** The ring of one VM: the last {@code capacity} samples, oldest first. */
    private static final class Series {
        private static final AtomicLong PHASES = new AtomicLong();
        final String id;
        /** Spreads the VMs' guest readings over the rounds. */
        final long phase = PHASES.getAndIncrement();
        final Metrics.Sample[] ring;
        final AtomicBoolean guestInFlight = new AtomicBoolean();
        volatile String name, node, topology;
        volatile boolean live;
        volatile long pid = -1, guestPid = -1;
        volatile Metrics.Guest guest;
        private int head, size;

        Series(String id, int capacity) {
            this.id = id;
            this.ring = new Metrics.Sample[capacity];
        }

        synchronized void add(Metrics.Sample s) {
            ring[head] = s;
            head = (head + 1) % ring.length;
            if (size < ring.length) size++;
        }

        synchronized Metrics.Sample last() {
            return size == 0 ? null : ring[(head - 1 + ring.length) % ring.length];
        }

        synchronized List<Metrics.Sample> since(long t) {
            List<Metrics.Sample> out = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Metrics.Sample s = ring[(head - size + i + ring.length) % ring.length];
                if (s.t() >= t) out.add(s);
            }
            return out;
        }
    }
}
