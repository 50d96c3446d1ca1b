package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input for every field gets a 400 that names it and the allowed values, and creates nothing. */
@ExtendWith(Fixture.class)
class ValidationIT {

    private static Map<String, Object> body(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("name", "val1", "image", "tiny"));
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void everyFieldIsChecked(Fixture f) {
        record Case(Map<String, Object> body, String field, String allowed) {}
        List<Case> cases = List.of(
                new Case(body("name", "Bad_Name"), "name", "[a-z0-9][a-z0-9-]{0,62}"),
                new Case(body("name", ""), "name", "[a-z0-9]"),
                new Case(body("name", "x".repeat(64)), "name", "1-63"),
                new Case(body("image", "windows"), "image", "tiny"),
                new Case(body("cpus", 0), "cpus", "1..16"),
                new Case(body("cpus", 99), "cpus", "1..16"),
                new Case(body("cpus", "two"), "cpus", "Integer"),
                new Case(body("memory", "12"), "memory", "64M..16384M"),
                new Case(body("memory", "lots"), "memory", "64M..16384M"),
                new Case(body("memoryMiB", 1 << 20), "memory", "64M..16384M"),
                new Case(body("accel", "hvf"), "accel", "auto, kvm, tcg"),
                new Case(body("colour", "blue"), "colour", "name"));
        int before = f.api.get("/api/v1/vms").json().size();
        for (Case c : cases) {
            Api.Response r = f.api.post("/api/v1/vms", c.body());
            assertThat(r.status()).as("%s → %s", c.body(), r.body()).isEqualTo(400);
            assertThat(r.json().path("error").asText()).as(r.body()).contains(c.field());
            assertThat(r.json().path("detail").asText()).as(r.body()).contains(c.allowed());
        }
        assertThat(f.api.get("/api/v1/vms").json().size()).as("nothing created").isEqualTo(before);
        assertThat(f.api.get("/api/v1/vms/val1").status()).isEqualTo(404);

        Api.Response bad = f.api.post("/api/v1/vms", "{not json");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().has("error")).isTrue();
    }

    @Test
    void cliReportsTheFieldAndExitsNonZero(Fixture f) {
        Cli.Result r = f.cli.run("vm", "create", "ok-name", "--image", "tiny", "--memory", "1T");
        assertThat(r.code()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("memory");
        r = f.cli.run("vm", "create", "ok-name", "--image", "tiny", "--cpus", "0");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("cpus").contains("1..16");
        assertThat(f.api.get("/api/v1/vms/ok-name").status()).isEqualTo(404);
    }

    @Test
    void duplicateNamesAndWrongStatesAre409(Fixture f) {
        Api.Response r = f.api.post("/api/v1/vms", body("name", "dup1"));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().path("state").asText()).isEqualTo("REQUESTED");
        try {
            Api.Response again = f.api.post("/api/v1/vms", body("name", "dup1"));
            assertThat(again.status()).isEqualTo(409);
            assertThat(again.json().path("error").asText()).contains("already in use");

            // a VM that has never started: exec, stop and reboot are wrong-state calls naming the states
            for (String op : List.of("stop", "reboot")) {
                Api.Response w = f.api.post("/api/v1/vms/dup1/" + op, null);
                assertThat(w.status()).as(op + " " + w.body()).isEqualTo(409);
                assertThat(w.json().path("error").asText()).contains("REQUESTED");
                assertThat(w.json().path("detail").asText()).contains("allowed in");
            }
            Api.Response ex = f.api.post("/api/v1/vms/dup1/exec", Map.of("argv", List.of("true")));
            assertThat(ex.status()).isEqualTo(409);
            assertThat(ex.json().path("detail").asText()).contains("current state: REQUESTED").contains("RUNNING");
            // a file call on a VM that is not running says what was asked, not "exec"
            Api.Response read = f.api.get("/api/v1/vms/dup1/files?path=/etc/hostname");
            assertThat(read.status()).isEqualTo(409);
            assertThat(read.json().path("error").asText()).startsWith("read file").doesNotContain("exec");
            assertThat(f.api.get("/api/v1/vms/dup1").json().path("state").asText()).isEqualTo("REQUESTED");
        } finally {
            assertThat(f.api.delete("/api/v1/vms/dup1").status()).isEqualTo(200);
        }
        Api.Response missing = f.api.get("/api/v1/vms/no-such-vm");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().path("error").asText()).contains("no-such-vm");
    }

    @Test
    void wrongStateOnARunningVmAndBadExecInput(Fixture f) {
        JsonNode vm = f.runningVm("val-run");
        try {
            Api.Response start = f.api.post("/api/v1/vms/val-run/start", null);
            assertThat(start.status()).isEqualTo(409);
            assertThat(start.json().path("detail").asText()).contains("current state: RUNNING").contains("STOPPED");
            Api.Response del = f.api.delete("/api/v1/vms/val-run");
            assertThat(del.status()).isEqualTo(409);
            Api.Response noArgv = f.api.post("/api/v1/vms/val-run/exec", Map.of("argv", List.of()));
            assertThat(noArgv.status()).isEqualTo(400);
            assertThat(noArgv.json().path("error").asText()).contains("argv");
            Api.Response badTimeout = f.api.post("/api/v1/vms/val-run/exec", Map.of("argv", List.of("true"), "timeoutSec", 0));
            assertThat(badTimeout.status()).isEqualTo(400);
            assertThat(badTimeout.json().path("error").asText()).contains("timeoutSec");
            // a command that outlives its timeout is reported, and the VM stays usable
            Api.Response slow = f.api.post("/api/v1/vms/val-run/exec", Map.of("argv", List.of("sleep", "30"), "timeoutSec", 1));
            assertThat(slow.status()).isEqualTo(200);
            assertThat(slow.json().path("timedOut").asBoolean()).isTrue();
            // a program the guest does not have: the caller's argv[0] is wrong (400), not the server (5xx)
            Api.Response noProgram = f.api.post("/api/v1/vms/val-run/exec", Map.of("argv", List.of("/no/such/program")));
            assertThat(noProgram.status()).as(noProgram.body()).isEqualTo(400);
            assertThat(noProgram.json().path("error").asText()).contains("argv[0]").contains("/no/such/program");
            // networks and routers: a subnet with spaces around it, a route via the router's own address
            Api.Response spaced = f.api.post("/api/v1/networks", Map.of("name", "val-sp", "subnet", " 198.18.91.0/24"));
            assertThat(spaced.status()).isEqualTo(400);
            assertThat(spaced.json().path("error").asText()).contains("subnet").contains("spaces");
            assertThat(f.api.post("/api/v1/networks", Map.of("name", "val-n1", "subnet", "198.18.92.0/24")).status()).isEqualTo(201);
            try {
                Api.Response self = f.api.post("/api/v1/routers", Map.of("name", "val-r1", "networks", List.of("val-n1"),
                        "routes", List.of(Map.of("to", "198.18.93.0/24", "via", "198.18.92.1"))));
                assertThat(self.status()).as(self.body()).isEqualTo(400);
                assertThat(self.json().path("error").asText()).contains("routes.via").contains("own address");
                assertThat(f.api.get("/api/v1/routers/val-r1").status()).isEqualTo(404);
            } finally {
                f.api.delete("/api/v1/networks/val-n1");
            }
            Api.Response ok = f.api.post("/api/v1/vms/val-run/exec", Map.of("argv", List.of("echo", "alive")));
            assertThat(ok.json().path("stdout").asText()).isEqualTo("alive\n");
            assertThat(f.api.get("/api/v1/vms/val-run").json().path("id").asText()).isEqualTo(vm.path("id").asText());
        } finally {
            f.destroyQuietly("val-run");
        }
    }
}
