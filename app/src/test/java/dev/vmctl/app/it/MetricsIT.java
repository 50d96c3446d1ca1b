package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Metrics of a real VM of a one-node topology: the Prometheus series present and increasing, the window APIs of the VM
 * and of its node, {@code vmctl vm top --once} and {@code vmctl vm metrics}, and the series gone with the VM.
 */
@ExtendWith(Fixture.class)
class MetricsIT {
    static final String VM = "mx-n1-a";
    static final String LABELS = "node=\"n1\",topology=\"mx\",vm=\"" + VM + "\"";

    @Test
    void seriesWindowsAndTop(Fixture f, @TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("mx.yaml");
        Files.writeString(file, """
                apiVersion: vmctl/v1
                kind: Topology
                name: mx
                networks:
                  - {name: lan, subnet: 198.18.160.0/24}
                nodes:
                  - name: n1
                    vms:
                      - {name: a, image: tiny, memory: 128M, nics: [lan]}
                """);
        try {
            Cli.Result up = f.cli.run("up", "-f", file.toString());
            assertThat(up.code()).as(up.toString()).isZero();

            // host series at once (2 s rounds), the guest's after its first agent reading (every 5 rounds)
            await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                String text = f.api.get("/metrics").body();
                assertThat(text).contains("vmctl_vm_cpu_seconds_total{" + LABELS + "}")
                        .contains("vmctl_vm_memory_rss_bytes{" + LABELS + "}")
                        .contains("vmctl_vm_memory_pss_bytes{" + LABELS + "}")
                        .contains("vmctl_nic_receive_bytes_total{nic=\"eth0\"," + LABELS + "}")
                        .contains("vmctl_nic_transmit_bytes_total{nic=\"eth0\"," + LABELS + "}")
                        .contains("vmctl_nic_drops_total{nic=\"eth0\"," + LABELS + "}")
                        .contains("vmctl_vm_guest_memory_available_bytes{" + LABELS + "}")
                        .contains("vmctl_vm_guest_load1{" + LABELS + "}");
            });
            String before = f.api.get("/metrics").body();
            double cpu1 = value(before, "vmctl_vm_cpu_seconds_total{" + LABELS + "}");
            double tx1 = value(before, "vmctl_nic_transmit_bytes_total{nic=\"eth0\"," + LABELS + "}");
            assertThat(value(before, "vmctl_vm_memory_rss_bytes{" + LABELS + "}")).isGreaterThan(16 << 20);
            assertThat(value(before, "vmctl_vm_guest_memory_available_bytes{" + LABELS + "}")).isGreaterThan(8 << 20);
            // the server's own: operations by kind and outcome, boot durations
            assertThat(before).contains("vmctl_operations_total{kind=\"topology.apply\",outcome=\"succeeded\"}")
                    .contains("vmctl_vm_boot_duration_seconds_count{kind=\"vm.start\"}")
                    .contains("vmctl_metrics_rounds_total");

            // some work and some traffic in the guest (ARP for an address nobody has: broadcasts the guest sends)
            Api.Response ex = f.api.post("/api/v1/vms/" + VM + "/exec", Map.of("argv", List.of("sh", "-c",
                    "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; ping -c 2 -W 1 198.18.160.99; true"), "timeoutSec", 60));
            assertThat(ex.status()).as(ex.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                String after = f.api.get("/metrics").body();
                assertThat(value(after, "vmctl_vm_cpu_seconds_total{" + LABELS + "}")).isGreaterThan(cpu1);
                assertThat(value(after, "vmctl_nic_transmit_bytes_total{nic=\"eth0\"," + LABELS + "}")).isGreaterThan(tx1);
            });

            // the window API: samples every 2 s, oldest first (wait for five rounds: a fast boot gets here sooner)
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertThat(f.api.get("/api/v1/vms/" + VM + "/metrics?window=1m").json().path("samples").size())
                            .isGreaterThanOrEqualTo(5));
            JsonNode w = f.api.get("/api/v1/vms/" + VM + "/metrics?window=1m").json();
            assertThat(w.path("vm").asText()).isEqualTo(VM);
            assertThat(w.path("node").asText()).isEqualTo("n1");
            assertThat(w.path("intervalMs").asLong()).isEqualTo(2000);
            JsonNode samples = w.path("samples");
            assertThat(samples.size()).isGreaterThanOrEqualTo(5);
            long lastT = 0;
            double lastCpu = 0;
            for (JsonNode s : samples) {
                assertThat(s.path("t").asLong()).isGreaterThan(lastT);
                assertThat(s.path("cpuSeconds").asDouble()).isGreaterThanOrEqualTo(lastCpu);
                assertThat(s.path("rss").asLong()).isPositive();
                assertThat(s.path("pss").asLong()).isPositive().isLessThanOrEqualTo(s.path("rss").asLong());
                assertThat(s.path("nics").has("eth0")).as(s.toString()).isTrue();
                lastT = s.path("t").asLong();
                lastCpu = s.path("cpuSeconds").asDouble();
            }
            JsonNode last = samples.get(samples.size() - 1);
            assertThat(last.path("guest").path("memAvailable").asLong()).isPositive();
            assertThat(last.path("guest").path("uptime").asDouble()).isPositive();
            assertThat(f.api.get("/api/v1/vms/" + VM + "/metrics?window=5s").json().path("samples").size()).isLessThanOrEqualTo(3);

            // bad input names the field and the allowed values
            Api.Response bad = f.api.get("/api/v1/vms/" + VM + "/metrics?window=soon");
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.body()).contains("window").contains("10m");
            assertThat(f.api.get("/api/v1/vms/no-such-vm/metrics").status()).isEqualTo(404);

            // the node's sums (one VM: the same values)
            JsonNode node = f.api.get("/api/v1/nodes/mx/n1/metrics?window=1m").json();
            assertThat(node.path("topology").asText()).isEqualTo("mx");
            assertThat(node.path("samples").size()).isGreaterThanOrEqualTo(5);
            assertThat(node.path("samples").get(0).path("rss").asLong()).isPositive();
            assertThat(f.api.get("/api/v1/nodes/mx/nope/metrics").status()).isEqualTo(404);

            // the CLI
            Cli.Result top = f.cli.run("vm", "top", "--once");
            assertThat(top.code()).as(top.toString()).isZero();
            assertThat(top.out()).contains("NAME").contains("CPU%");
            String row = top.out().lines().filter(l -> l.startsWith(VM)).findFirst().orElseThrow();
            assertThat(row).contains("mx/n1").contains("RUNNING").contains("MiB");
            Cli.Result m = f.cli.run("vm", "metrics", VM, "-o", "json", "--window", "30s");
            assertThat(m.code()).as(m.toString()).isZero();
            assertThat(Api.JSON.readTree(m.out()).path("samples").size()).isGreaterThanOrEqualTo(3);
            Cli.Result table = f.cli.run("vm", "metrics", VM);
            assertThat(table.code()).as(table.toString()).isZero();
            assertThat(table.out()).contains("TIME").contains("RSS");
        } finally {
            f.cli.run("down", "mx");
        }
        // the VM is gone: so are its series
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(f.api.get("/metrics").body()).doesNotContain(VM));
    }

    static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertThat(m.find()).as("series " + series + " in\n" + text.lines().filter(l -> l.startsWith("vmctl_")).toList()).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
