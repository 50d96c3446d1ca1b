package dev.vmctl.server;

import dev.vmctl.engine.EventBus;
import dev.vmctl.engine.MetricsService;
import dev.vmctl.model.Metrics;
import dev.vmctl.model.Operation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /metrics}: the sampler's latest values per running VM and NIC, and the server's own series (operations by
 * kind and outcome, boot and restore durations, the sampler's cost, the JVM), through Micrometer's Prometheus registry.
 * Per-VM meters follow the VMs the sampler lists at each scrape: a VM whose QEMU is gone loses its series.
 */
final class PrometheusExport {
    /** Operation kinds whose duration is a boot (kernel or warm start) or a restore from a snapshot. */
    static final Set<String> BOOTS = Set.of("vm.create", "vm.start", "vm.reboot");
    static final Set<String> RESTORES = Set.of("vm.restore", "vm.clone");
    private static final Duration[] BUCKETS = {Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final java.util.function.Supplier<List<MetricsService.Live>> live;
    private final Map<String, VmMeters> vms = new HashMap<>();

    PrometheusExport(MetricsService metrics, EventBus events) {
        this(metrics::live, events);
        FunctionCounter.builder("vmctl.metrics.rounds", metrics, MetricsService::rounds)
                .description("sampling rounds of the metrics sampler").register(registry);
        FunctionCounter.builder("vmctl.metrics.round", metrics, MetricsService::roundSeconds).baseUnit("seconds")
                .description("wall time of the sampler's rounds over every running VM, all together").register(registry);
    }

    /** With the live VMs from elsewhere (the unit test). */
    PrometheusExport(java.util.function.Supplier<List<MetricsService.Live>> live, EventBus events) {
        this.live = live;
        new ProcessorMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        events.subscribe(e -> {
            if (e.data() instanceof Operation op && op.finished()) operationFinished(op);
        });
    }

    void operationFinished(Operation op) {
        Counter.builder("vmctl.operations").description("finished operations by kind and outcome")
                .tags("kind", op.kind(), "outcome", op.state()).register(registry).increment();
        if (!"succeeded".equals(op.state()) || op.startedAt() == null || op.finishedAt() == null) return;
        String name = BOOTS.contains(op.kind()) ? "vmctl.vm.boot.duration" : RESTORES.contains(op.kind()) ? "vmctl.vm.restore.duration" : null;
        if (name == null) return;
        Duration d = Duration.between(Instant.parse(op.startedAt()), Instant.parse(op.finishedAt()));
        Timer.builder(name).description("succeeded " + (name.contains("boot") ? "boots" : "restores") + " until the guest agent answered")
                .tags("kind", op.kind()).serviceLevelObjectives(BUCKETS).register(registry).record(d);
    }

    synchronized String scrape() {
        sync();
        return registry.scrape();
    }

    PrometheusMeterRegistry registry() { return registry; }

    /** Registers the meters of VMs and NICs that appeared and removes those of VMs that are gone. */
    private void sync() {
        Set<String> seen = new HashSet<>();
        for (MetricsService.Live l : live.get()) {
            String key = l.id() + "|" + l.name() + "|" + l.node() + "|" + l.topology();
            seen.add(key);
            VmMeters m = vms.computeIfAbsent(key, k -> new VmMeters(l));
            m.sample = l.sample();
            m.update();
        }
        vms.entrySet().removeIf(e -> {
            if (seen.contains(e.getKey())) return false;
            e.getValue().remove();
            return true;
        });
    }

    /** The meters of one VM; they read the latest sample, which each scrape sets. */
    private final class VmMeters {
        final Tags tags;
        final List<Meter> meters = new ArrayList<>();
        final Set<String> nics = new HashSet<>();
        boolean guest;
        volatile Metrics.Sample sample;

        VmMeters(MetricsService.Live l) {
            this.tags = Tags.of("vm", l.name(), "node", nz(l.node()), "topology", nz(l.topology()));
            this.sample = l.sample();
            meters.add(FunctionCounter.builder("vmctl.vm.cpu", this, v -> v.sample.cpuSeconds()).baseUnit("seconds").tags(tags)
                    .description("CPU time (user + system) of the VM's QEMU process").register(registry));
            meters.add(Gauge.builder("vmctl.vm.memory.rss", this, v -> v.sample.rss()).baseUnit("bytes").tags(tags)
                    .description("resident set size of the VM's QEMU process").register(registry));
            meters.add(Gauge.builder("vmctl.vm.memory.pss", this, v -> v.sample.pss()).baseUnit("bytes").tags(tags)
                    .description("proportional set size of the VM's QEMU process (shared pages divided among their users)").register(registry));
        }

        void update() {
            for (String nic : sample.nics().keySet()) {
                if (!nics.add(nic)) continue;
                Tags t = tags.and("nic", nic);
                meters.add(FunctionCounter.builder("vmctl.nic.receive", this, v -> nic(v, nic).rxBytes()).baseUnit("bytes").tags(t)
                        .description("bytes the guest received on the NIC (its tap's transmit counter)").register(registry));
                meters.add(FunctionCounter.builder("vmctl.nic.transmit", this, v -> nic(v, nic).txBytes()).baseUnit("bytes").tags(t)
                        .description("bytes the guest sent on the NIC (its tap's receive counter)").register(registry));
                meters.add(FunctionCounter.builder("vmctl.nic.receive.packets", this, v -> nic(v, nic).rxPackets()).tags(t)
                        .description("packets the guest received on the NIC").register(registry));
                meters.add(FunctionCounter.builder("vmctl.nic.transmit.packets", this, v -> nic(v, nic).txPackets()).tags(t)
                        .description("packets the guest sent on the NIC").register(registry));
                meters.add(FunctionCounter.builder("vmctl.nic.drops", this, v -> nic(v, nic).rxDrops() + nic(v, nic).txDrops()).tags(t)
                        .description("packets dropped on the NIC's tap, both directions").register(registry));
            }
            if (!guest && sample.guest() != null) {
                guest = true;
                meters.add(Gauge.builder("vmctl.vm.guest.memory.available", this, v -> guestValue(v.sample.guest().memAvailable()))
                        .baseUnit("bytes").tags(tags).description("MemAvailable inside the guest (agent)").register(registry));
                meters.add(Gauge.builder("vmctl.vm.guest.load1", this, v -> guestValue(v.sample.guest().load1())).tags(tags)
                        .description("1-minute load average inside the guest (agent)").register(registry));
                meters.add(Gauge.builder("vmctl.vm.guest.uptime", this, v -> guestValue(v.sample.guest().uptime())).baseUnit("seconds")
                        .tags(tags).description("seconds since the guest booted (agent)").register(registry));
            }
        }

        void remove() {
            for (Meter m : meters) registry.remove(m);
        }
    }

    private static Metrics.Nic nic(VmMeters v, String nic) {
        Metrics.Nic n = v.sample.nics().get(nic);
        return n != null ? n : new Metrics.Nic(0, 0, 0, 0, 0, 0, 0, 0);
    }

    private static double guestValue(Number n) {
        return n == null ? Double.NaN : n.doubleValue();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
