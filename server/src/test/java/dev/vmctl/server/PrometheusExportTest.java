package dev.vmctl.server;

import dev.vmctl.engine.EventBus;
import dev.vmctl.engine.MetricsService;
import dev.vmctl.model.EventType;
import dev.vmctl.model.Metrics;
import dev.vmctl.model.Operation;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Prometheus names and labels the issue asks for, from samples handed in (no VM, no server). */
class PrometheusExportTest {
    @Test
    void seriesNamesLabelsAndRemoval() {
        List<MetricsService.Live> live = new ArrayList<>();
        EventBus events = new EventBus();
        PrometheusExport export = new PrometheusExport(() -> live, events);
        Metrics.Sample s = new Metrics.Sample(1000, 0.5, 12.5, 100 << 20, 60 << 20,
                Map.of("eth0", new Metrics.Nic(1000, 2000, 10, 20, 1, 2, 0, 0)),
                new Metrics.Guest(900, 128L << 20, 100L << 20, 0.25, 33.0));
        live.add(new MetricsService.Live("abc", "shop-svc-api", "svc", "shop", s));
        live.add(new MetricsService.Live("def", "lonely", null, null, new Metrics.Sample(1000, 0, 1, 1, 1, Map.of(), null)));
        String text = export.scrape();
        assertThat(text)
                .contains("vmctl_vm_cpu_seconds_total{node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"} 12.5")
                .contains("vmctl_vm_memory_rss_bytes{node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"} 1.048576E8")
                .contains("vmctl_vm_memory_pss_bytes{node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"}")
                .contains("vmctl_nic_receive_bytes_total{nic=\"eth0\",node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"} 1000.0")
                .contains("vmctl_nic_transmit_bytes_total{nic=\"eth0\",node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"} 2000.0")
                .contains("vmctl_nic_drops_total{nic=\"eth0\",node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"} 3.0")
                .contains("vmctl_vm_guest_memory_available_bytes{node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"}")
                .contains("vmctl_vm_guest_load1{node=\"svc\",topology=\"shop\",vm=\"shop-svc-api\"} 0.25")
                .contains("vm=\"lonely\"");

        Operation op = new Operation("o1", "vm.start", List.of("a"), "succeeded", null, "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:00Z", "2026-01-01T00:00:01.5Z", null, null);
        events.publish(EventType.OPERATION_SUCCEEDED, null, "a", null, null, "vm.start", "o1", op);
        events.publish(EventType.OPERATION_FAILED, null, "a", null, null, "vm.start", "o2",
                new Operation("o2", "vm.start", List.of("a"), "failed", null, null, null, "2026-01-01T00:00:02Z", "boom", null));
        text = export.scrape();
        assertThat(text)
                .contains("vmctl_operations_total{kind=\"vm.start\",outcome=\"succeeded\"} 1.0")
                .contains("vmctl_operations_total{kind=\"vm.start\",outcome=\"failed\"} 1.0")
                .contains("vmctl_vm_boot_duration_seconds_bucket{kind=\"vm.start\",le=\"2.0\"} 1")
                .contains("vmctl_vm_boot_duration_seconds_count{kind=\"vm.start\"} 1");

        live.removeFirst(); // the VM's QEMU is gone: its series go
        text = export.scrape();
        assertThat(text).doesNotContain("shop-svc-api").contains("vm=\"lonely\"");
    }
}
