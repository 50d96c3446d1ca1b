package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operations core on real VMs: every mutating call answers with an Operation-Location; calls on one VM
 * run one at a time in arrival order; a stop pre-empts a boot; a VM held by a deploy refuses rm.
 */
@ExtendWith(Fixture.class)
class OperationsIT {

    @Test
    void mutatingCallsAnswerWithAnOperationThatCanBeAwaited(Fixture f) {
        Api.Response net = f.api.post("/api/v1/networks", Map.of("name", "ops-net", "subnet", "198.18.70.0/24"));
        assertThat(net.status()).as(net.body()).isEqualTo(201);
        assertThat(net.header("Operation-Location")).startsWith("/api/v1/operations/");
        JsonNode netOp = f.api.get(net.header("Operation-Location")).json();
        assertThat(netOp.path("kind").asText()).isEqualTo("network.create");
        assertThat(netOp.path("state").asText()).isEqualTo("succeeded");
        assertThat(netOp.path("targets").toString()).contains("network:ops-net");

        Api.Response created = f.api.post("/api/v1/vms", Map.of("name", "ops-a", "image", "tiny", "start", true,
                "nics", List.of(Map.of("network", "ops-net"))));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().path("state").asText()).isEqualTo("PREPARING");
        String op = created.operation();
        assertThat(op).isNotNull();
        // long-poll: answers once the boot has finished
        JsonNode done = f.api.get("/api/v1/operations/" + op + "?wait=120").json();
        assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("kind").asText()).isEqualTo("vm.create");
        assertThat(done.path("startedAt").asText()).isNotBlank();
        assertThat(Instant.parse(done.path("finishedAt").asText())).isAfter(Instant.parse(done.path("startedAt").asText()));
        assertThat(f.api.get("/api/v1/vms/ops-a").json().path("state").asText()).isEqualTo("RUNNING");

        Api.Response patch = f.api.send("PATCH", "/api/v1/vms/ops-a/nics/eth0", Map.of("link", "down"));
        assertThat(patch.status()).as(patch.body()).isEqualTo(200);
        assertThat(f.api.get(patch.header("Operation-Location")).json().path("kind").asText()).isEqualTo("nic.patch");

        Api.Response stop = f.api.post("/api/v1/vms/ops-a/stop?wait=true", null);
        assertThat(stop.status()).isEqualTo(200);
        assertThat(stop.json().path("state").asText()).isEqualTo("STOPPED");
        assertThat(f.api.get("/api/v1/operations/" + stop.operation()).json().path("state").asText()).isEqualTo("succeeded");

        // a wrong state is still a 409 at once, and the refused call is recorded as failed
        Api.Response again = f.api.post("/api/v1/vms/ops-a/stop", null);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().path("detail").asText()).contains("current state: STOPPED");

        // the CLI lists them for the VM, newest first
        Cli.Result r = f.cli.run("op", "ls", "--target", "ops-a");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("vm.create").contains("nic.patch").contains("vm.stop").contains("succeeded").contains("failed");
        r = f.cli.run("op", "wait", op);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("succeeded");
        r = f.cli.run("op", "show", "nope");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("operation not found: nope");

        Api.Response rm = f.api.delete("/api/v1/vms/ops-a");
        assertThat(rm.status()).as(rm.body()).isEqualTo(200);
        assertThat(rm.operation()).isNotNull();
        assertThat(f.api.delete("/api/v1/networks/ops-net").status()).isEqualTo(200);
    }

    @Test
    void twentyConcurrentCallsOnOneVmRunInOrderWithoutServerErrors(Fixture f) throws Exception {
        f.runningVm("ops-busy");
        String id = f.api.get("/api/v1/vms/ops-busy").json().path("id").asText();
        List<String> calls = new ArrayList<>();
        Random rnd = new Random(42);
        String[] kinds = {"start", "stop", "reboot", "exec", "exec"};
        for (int i = 0; i < 19; i++) calls.add(kinds[rnd.nextInt(kinds.length)]);
        calls.add(10, "rm");
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<String> statuses = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (String c : calls) {
                fs.add(ex.submit(() -> {
                    Api.Response r = switch (c) {
                        case "exec" -> f.api.post("/api/v1/vms/" + id + "/exec", Map.of("argv", List.of("true")));
                        case "rm" -> f.api.delete("/api/v1/vms/" + id);
                        default -> f.api.post("/api/v1/vms/" + id + "/" + c, null);
                    };
                    statuses.add(c + " " + r.status());
                    if (r.status() >= 500) failures.add(c + " → " + r.status() + " " + r.body());
                    return null;
                }));
                Thread.sleep(15);
            }
            for (Future<?> x : fs) x.get(5, TimeUnit.MINUTES);
        }
        assertThat(failures).as("5xx answers (all: " + statuses + ")").isEmpty();

        // every operation on the VM finished, listed in arrival order, ran one at a time
        List<JsonNode> ops = awaitAllFinished(f, id, Duration.ofMinutes(3));
        assertThat(ops).isNotEmpty();
        Set<String> ends = Set.of("succeeded", "failed", "cancelled");
        for (JsonNode o : ops) assertThat(ends).as(o.toString()).contains(o.path("state").asText());
        List<JsonNode> ran = ops.stream().filter(o -> !o.path("startedAt").isNull() && !o.path("startedAt").asText().isEmpty()).toList();
        for (int i = 1; i < ran.size(); i++) {
            Instant prevEnd = Instant.parse(ran.get(i - 1).path("finishedAt").asText());
            Instant start = Instant.parse(ran.get(i).path("startedAt").asText());
            assertThat(start).as("operation %s started before %s had finished", ran.get(i).path("id").asText(),
                    ran.get(i - 1).path("id").asText()).isAfterOrEqualTo(prevEnd);
            assertThat(Instant.parse(ran.get(i).path("createdAt").asText()))
                    .isAfterOrEqualTo(Instant.parse(ran.get(i - 1).path("createdAt").asText()));
        }

        // a consistent end: RUNNING with a live QEMU that answers, STOPPED/ERROR without one, or gone
        Api.Response vm = f.api.get("/api/v1/vms/" + id);
        if (vm.status() == 404) {
            assertThat(f.qemuProcesses()).isEmpty();
            return;
        }
        String state = vm.json().path("state").asText();
        assertThat(state).isIn("RUNNING", "STOPPED", "ERROR");
        if (state.equals("RUNNING")) {
            assertThat(f.api.post("/api/v1/vms/" + id + "/exec", Map.of("argv", List.of("true"))).status()).isEqualTo(200);
            assertThat(f.qemuProcesses()).contains(vm.json().path("pid").asLong());
        } else {
            assertThat(vm.json().path("pid").isNull()).isTrue();
        }
        assertThat(f.api.delete("/api/v1/vms/" + id + "?force=true").status()).isEqualTo(200);
    }

    @Test
    void stopDuringBootCancelsTheBootAndLeavesTheVmStopped(Fixture f) {
        Api.Response created = f.api.post("/api/v1/vms", Map.of("name", "ops-early", "image", "tiny", "start", true));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String boot = created.operation();
        Api.Response stop = f.api.post("/api/v1/vms/ops-early/stop?wait=true", null);
        assertThat(stop.status()).as(stop.body()).isEqualTo(200);
        assertThat(stop.json().path("state").asText()).isEqualTo("STOPPED");
        JsonNode bootOp = f.api.get("/api/v1/operations/" + boot + "?wait=30").json();
        assertThat(bootOp.path("state").asText()).as(bootOp.toString()).isIn("cancelled", "succeeded");
        JsonNode stopOp = f.api.get("/api/v1/operations/" + stop.operation()).json();
        assertThat(stopOp.path("state").asText()).isEqualTo("succeeded");
        JsonNode vm = f.api.get("/api/v1/vms/ops-early").json();
        assertThat(vm.path("state").asText()).isEqualTo("STOPPED");
        assertThat(vm.path("pid").isNull()).isTrue();
        String id = vm.path("id").asText();
        assertThat(f.qemuProcesses().stream().filter(p -> dev.vmctl.host.Procs.cmdline(p).orElse(List.of()).toString().contains(id)))
                .as("no qemu left for the stopped VM").isEmpty();
        // and it boots again
        Api.Response start = f.api.post("/api/v1/vms/ops-early/start?wait=true", null);
        assertThat(start.json().path("state").asText()).as(start.body()).isEqualTo("RUNNING");
        assertThat(f.api.delete("/api/v1/vms/ops-early?force=true").status()).isEqualTo(200);
    }

    @Test
    void rmOfAVmThatADeployHoldsIsAConflictNamingTheDeploy(Fixture f) throws Exception {
        String topo = """
                apiVersion: vmctl/v1
                kind: Topology
                name: opsheld
                networks:
                  - {name: lan, subnet: 198.18.71.0/24}
                nodes:
                  - name: n
                    vms:
                      - {name: a, image: tiny, nics: [lan], startBefore: [b]}
                      - {name: b, image: tiny, nics: [lan]}
                """;
        CompletableFuture<Api.Response> up = CompletableFuture.supplyAsync(() ->
                f.api.send("POST", "/api/v1/topologies?file=opsheld.yaml", topo, Duration.ofMinutes(5)));
        try {
            // wait until the deploy has created its first VM
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (f.api.get("/api/v1/vms/opsheld-n-a").status() != 200) {
                assertThat(System.nanoTime() - deadline).as("the deploy created no VM").isNegative();
                Thread.sleep(20);
            }
            // the deploy still has two boots ahead of it (a, then b once a runs): the VM is held
            Api.Response rm = f.api.delete("/api/v1/vms/opsheld-n-a?force=true");
            assertThat(up).as("the deploy finished before the rm").isNotDone();
            assertThat(rm.status()).as(rm.body()).isEqualTo(409);
            assertThat(rm.json().path("error").asText()).contains("held by operation").contains("topology.apply");
            String holder = f.api.get("/api/v1/operations?kind=topology.apply&state=running").json().get(0).path("id").asText();
            assertThat(rm.json().path("error").asText()).contains(holder);
            Cli.Result cli = f.cli.run("vm", "rm", "opsheld-n-a", "--force");
            assertThat(cli.code()).as(cli.toString()).isEqualTo(1);
            assertThat(cli.err()).contains("held by operation " + holder);
            Api.Response report = up.get(5, TimeUnit.MINUTES);
            assertThat(report.status()).as(report.body()).isEqualTo(200);
            assertThat(report.json().path("ok").asBoolean()).as(report.body()).isTrue();
            assertThat(f.api.get("/api/v1/vms/opsheld-n-a").json().path("state").asText()).isEqualTo("RUNNING");
            // the node is an entity of its own
            JsonNode node = f.api.get("/api/v1/nodes/opsheld/n").json();
            assertThat(node.path("state").asText()).isEqualTo("RUNNING");
        } finally {
            up.get(5, TimeUnit.MINUTES);
            Api.Response down = f.api.delete("/api/v1/topologies/opsheld");
            assertThat(down.status()).as(down.body()).isEqualTo(200);
            assertThat(down.operation()).isNotNull();
        }
    }

    /** The VM's operations, oldest first, once none is queued or running. */
    private static List<JsonNode> awaitAllFinished(Fixture f, String vmId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode list = f.api.get("/api/v1/operations?target=vm:" + vmId + "&limit=500").json();
            List<JsonNode> ops = new ArrayList<>();
            list.forEach(ops::add);
            Collections.reverse(ops);
            boolean open = ops.stream().anyMatch(o -> Set.of("queued", "running").contains(o.path("state").asText()));
            if (!open) return ops;
            for (JsonNode o : ops) {
                if (Set.of("queued", "running").contains(o.path("state").asText())) {
                    f.api.get("/api/v1/operations/" + o.path("id").asText() + "?wait=30");
                }
            }
            assertThat(System.nanoTime() - deadline).as("operations still open: " + list).isNegative();
        }
    }
}
