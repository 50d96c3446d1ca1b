package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsCommandsTest {
    private final FakeServer server;

    MetricsCommandsTest() throws IOException {
        server = new FakeServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static final String SAMPLE = """
            {"t":1767225600000,"cpu":0.125,"cpuSeconds":3.5,"rss":104857600,"pss":52428800,
             "nics":{"eth0":{"rxBytes":1000,"txBytes":2000,"rxPackets":1,"txPackets":2,"rxDrops":0,"txDrops":0,"rxBytesPerSec":2048,"txBytesPerSec":10}},
             "guest":{"t":1767225599000,"memTotal":134217728,"memAvailable":104857600,"load1":0.5,"uptime":75.2}}""";

    @Test
    void metricsAsksForTheWindowAndPrintsATable() {
        server.json("GET", "/api/v1/vms/web1/metrics", 200,
                "{\"vm\":\"web1\",\"node\":null,\"topology\":null,\"intervalMs\":2000,\"windowMs\":300000,\"samples\":[" + SAMPLE + "]}");
        CliRun r = CliRun.run(server.url(), "vm", "metrics", "web1", "--window", "5m");
        assertThat(r.code()).isZero();
        assertThat(server.requests().getFirst().query()).isEqualTo("window=300000ms");
        assertThat(r.out()).contains("TIME", "CPU%", "12.5", "100.0 MiB", "50.0 MiB", "2.0 KiB", "LOAD1", "0.50");
    }

    @Test
    void badWindowIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "vm", "metrics", "web1", "--window", "soon");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--window").contains("soon");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void topOncePrintsOneTableBusiestFirst() {
        server.json("GET", "/api/v1/metrics/vms", 200, "[{\"vm\":\"idle\",\"id\":\"i1\",\"node\":null,\"topology\":null,\"state\":\"STOPPED\",\"sample\":null},"
                + "{\"vm\":\"web1\",\"id\":\"w1\",\"node\":\"svc\",\"topology\":\"shop\",\"state\":\"RUNNING\",\"sample\":" + SAMPLE + "}]");
        CliRun r = CliRun.run(server.url(), "vm", "top", "--once");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("vmctl top - ").contains("vms: 2, running: 1").doesNotContain("\033[");
        String[] lines = r.out().split("\n");
        assertThat(lines[1]).startsWith("NAME").contains("CPU%").contains("UPTIME");
        assertThat(lines[2]).startsWith("web1").contains("shop/svc").contains("12.5").contains("1m15s");
        assertThat(lines[3]).startsWith("idle").contains("STOPPED");
    }
}
