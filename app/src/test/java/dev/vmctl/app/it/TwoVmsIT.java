package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Two VMs booted at the same time; each is its own guest; the event stream tells the whole story. */
@ExtendWith(Fixture.class)
class TwoVmsIT {

    @Test
    void twoVmsAtOnceWithEvents(Fixture f) throws Exception {
        try (Sse sse = new Sse(f.server.url(), f.token())) {
            for (String n : List.of("pair-a", "pair-b")) {
                Api.Response r = f.api.post("/api/v1/vms", Map.of("name", n, "image", "tiny", "start", true, "memory", "96M"));
                assertThat(r.status()).as(r.body()).isEqualTo(201);
                assertThat(r.json().path("state").asText()).isEqualTo("PREPARING");
            }
            for (String n : List.of("pair-a", "pair-b")) sse.await(Sse.state(n, "RUNNING"), Duration.ofMinutes(3));
            for (String n : List.of("pair-a", "pair-b")) {
                List<String> states = sse.events().stream()
                        .filter(e -> "vm.state".equals(e.path("type").asText()) && n.equals(e.path("name").asText()))
                        .map(e -> e.path("state").asText()).toList();
                assertThat(states).as(n).containsExactly("REQUESTED", "PREPARING", "RUNNING");
            }
            JsonNode a = f.api.get("/api/v1/vms/pair-a").json();
            JsonNode b = f.api.get("/api/v1/vms/pair-b").json();
            assertThat(a.path("pid").asLong()).isNotEqualTo(b.path("pid").asLong());
            assertThat(b.path("memoryMiB").asInt()).isEqualTo(96);
            for (String n : List.of("pair-a", "pair-b")) {
                Api.Response r = f.api.post("/api/v1/vms/" + n + "/exec", Map.of("argv", List.of("hostname")));
                assertThat(r.json().path("stdout").asText().trim()).isEqualTo(n);
            }
            // memory as the guest sees it
            Api.Response mem = f.api.post("/api/v1/vms/pair-b/exec", Map.of("argv", List.of("sh", "-c", "grep MemTotal /proc/meminfo")));
            long kb = Long.parseLong(mem.json().path("stdout").asText().replaceAll("\\D", ""));
            assertThat(kb).isBetween(60_000L, 96 * 1024L);

            // destroy emits DESTROYED and leaves nothing
            long pidA = a.path("pid").asLong();
            assertThat(f.api.delete("/api/v1/vms/pair-a?force=true").status()).isEqualTo(200);
            sse.await(Sse.state("pair-a", "DESTROYED"), Duration.ofSeconds(10));
            assertThat(f.qemuProcesses()).doesNotContain(pidA);
            assertThat(f.api.get("/api/v1/vms/pair-b").json().path("state").asText()).isEqualTo("RUNNING");
        } finally {
            f.destroyQuietly("pair-a");
            f.destroyQuietly("pair-b");
        }
    }
}
