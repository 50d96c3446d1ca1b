package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;

import static dev.vmctl.cli.Snapshots.vmWithIp;
import static dev.vmctl.cli.Vms.vm;
import static org.assertj.core.api.Assertions.assertThat;

/** vm restore and vm clone against a fake server: request bodies, waiting, tables, failures. */
class RestoreAndCloneTest {
    private final FakeServer server;

    RestoreAndCloneTest() {
        try {
            server = new FakeServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static JsonNode parse(String json) {
        try {
            return Json.parse(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // --- restore -------------------------------------------------------------------------------------

    @Test
    void restoreSendsTheSnapshotAndWaitsUntilRunning() {
        server.json("POST", "/api/v1/vms/web1/restore", 202, vm("web1", "PREPARING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "PREPARING", null, "t1"),
                vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "web1-warm");

        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).matches("web1  PREPARING  \\(restoring\\)\nweb1  RUNNING  \\d+\\.\\ds\n");
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.body()).isEqualTo("{\"snapshot\":\"web1-warm\"}");
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        assertThat(req.query()).isNull();
        assertThat(server.requests("GET", "/api/v1/vms/id-web1")).hasSize(2);
    }

    @Test
    void restoreNoWaitReturnsAtOnce() {
        server.json("POST", "/api/v1/vms/web1/restore", 202, vm("web1", "PREPARING", null, "t1"));
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "s", "--no-wait");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("web1  PREPARING\n");
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void restoreAnsweredWithTheOldRunningViewWaitsForTheRestoredOne() {
        server.json("POST", "/api/v1/vms/web1/restore", 202, vm("web1", "RUNNING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "RUNNING", null, "t1"),
                vm("web1", "PREPARING", null, "t2"),
                vm("web1", "RUNNING", null, "t3"));
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "s");
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().toList()).hasSize(3)
                .satisfies(l -> assertThat(l.get(1)).isEqualTo("web1  PREPARING  (restoring)"))
                .satisfies(l -> assertThat(l.get(2)).startsWith("web1  RUNNING  "));
        assertThat(server.requests("GET", "/api/v1/vms/id-web1")).hasSize(3);
    }

    @Test
    void restoreOfAStoppedVmAnsweredWithTheOldViewKeepsWaiting() {
        server.json("POST", "/api/v1/vms/web1/restore", 202, vm("web1", "STOPPED", null, "t0"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "PREPARING", null, "t1"),
                vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "s");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("web1  STOPPED\nweb1  PREPARING  (restoring)\nweb1  RUNNING  ");
    }

    @Test
    void restoreThatFailsExits1WithTheError() {
        server.json("POST", "/api/v1/vms/web1/restore", 202, vm("web1", "PREPARING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "ERROR", "restore: migrate-incoming failed: state file truncated", "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "s");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("web1  PREPARING  (restoring)\nweb1  ERROR\n");
        assertThat(r.err()).isEqualTo("error: vm web1 failed\n  restore: migrate-incoming failed: state file truncated\n");
    }

    @Test
    void restoreRefusedByTheServer() {
        server.json("POST", "/api/v1/vms/web1/restore", 409,
                "{\"error\":\"restore vm web1 from s: the VM's NICs [] differ from the snapshot's [0=52:54:00:12:34:56]\","
                        + "\"detail\":\"restore a VM from its own snapshot, or clone the snapshot instead\"}");
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "s");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: restore vm web1 from s: the VM's NICs")
                .endsWith("\n  restore a VM from its own snapshot, or clone the snapshot instead\n");
    }

    @Test
    void restoreNeedsASnapshot() {
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--snapshot=SNAPSHOT'");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void restoreJsonKeepsProgressOnStderr() {
        server.json("POST", "/api/v1/vms/web1/restore", 202, vm("web1", "PREPARING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200, vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "restore", "web1", "--snapshot", "s", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(r.err()).startsWith("web1  PREPARING  (restoring)\nweb1  RUNNING  ");
        assertThat(parse(r.out())).isEqualTo(parse(vm("web1", "RUNNING", null, "t2")));
    }

    // --- clone ---------------------------------------------------------------------------------------

    @Test
    void cloneSendsOnlyTheFieldsGiven() {
        server.json("POST", "/api/v1/snapshots/web1-warm/clone", 201, "[" + vm("web1-warm-1", "PREPARING") + "]");
        CliRun r = CliRun.run(server.url(), "vm", "clone", "web1-warm");
        assertThat(r.code()).isZero();
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.body()).isEqualTo("{}");
        assertThat(req.query()).isNull();
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        // no --wait: no polling, the clones as the server answered
        assertThat(server.requests()).hasSize(1);
        assertThat(r.out()).isEqualTo("""
                NAME         STATE      IPS
                web1-warm-1  PREPARING  -
                """);
    }

    @Test
    void cloneStartWaitSendsEveryFieldAndWaitsForEachClone() {
        server.json("POST", "/api/v1/snapshots/web1-warm/clone", 201, "["
                + vmWithIp("web-1", "PREPARING", null, "198.18.10.11") + ","
                + vmWithIp("web-2", "PREPARING", null, "198.18.10.12") + ","
                + vmWithIp("web-3", "PREPARING", null, "198.18.10.13") + "]");
        server.sequence("GET", "/api/v1/vms/id-web-1", 200, vmWithIp("web-1", "RUNNING", null, "198.18.10.11"));
        server.sequence("GET", "/api/v1/vms/id-web-2", 200,
                vmWithIp("web-2", "PREPARING", null, "198.18.10.12"),
                vmWithIp("web-2", "RUNNING", null, "198.18.10.12"));
        server.sequence("GET", "/api/v1/vms/id-web-3", 200, vmWithIp("web-3", "RUNNING", null, "198.18.10.13"));

        CliRun r = CliRun.run(server.url(), "vm", "clone", "web1-warm", "--count", "3", "--name", "web-{n}",
                "--net", "front", "--start", "--wait");

        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(server.requests().getFirst().body())
                .isEqualTo("{\"count\":3,\"name\":\"web-{n}\",\"network\":\"front\",\"start\":true}");
        assertThat(r.out()).matches("""
                web-1  PREPARING  \\(cloning\\)
                web-2  PREPARING  \\(cloning\\)
                web-3  PREPARING  \\(cloning\\)
                web-1  RUNNING  \\d+\\.\\ds
                web-3  RUNNING  \\d+\\.\\ds
                web-2  RUNNING  \\d+\\.\\ds
                NAME   STATE    IPS
                web-1  RUNNING  198.18.10.11
                web-2  RUNNING  198.18.10.12
                web-3  RUNNING  198.18.10.13
                """);
        // a clone that is RUNNING is not asked again
        assertThat(server.requests("GET", "/api/v1/vms/id-web-1")).hasSize(1);
        assertThat(server.requests("GET", "/api/v1/vms/id-web-2")).hasSize(2);
        assertThat(server.requests("GET", "/api/v1/vms/id-web-3")).hasSize(1);
    }

    @Test
    void cloneWaitEndsInErrorForOneClone() {
        server.json("POST", "/api/v1/snapshots/s/clone", 201, "["
                + vm("c-1", "PREPARING", null, "t1") + "," + vm("c-2", "PREPARING", null, "t1") + "]");
        server.sequence("GET", "/api/v1/vms/id-c-1", 200, vm("c-1", "RUNNING", null, "t2"));
        server.sequence("GET", "/api/v1/vms/id-c-2", 200,
                vm("c-2", "ERROR", "restore: guest agent did not answer within 30s", "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--count", "2", "--wait");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("c-2  ERROR\n")
                .endsWith("""
                        NAME  STATE    IPS  ERROR
                        c-1   RUNNING  -
                        c-2   ERROR    -    restore: guest agent did not answer within 30s
                        """);
        assertThat(r.err()).isEqualTo("error: clone c-2 failed\n  restore: guest agent did not answer within 30s\n");
        assertThat(server.requests("GET", "/api/v1/vms/id-c-2")).hasSize(1);
    }

    @Test
    void cloneWaitWithSeveralFailures() {
        server.json("POST", "/api/v1/snapshots/s/clone", 201, "["
                + vm("c-1", "PREPARING", null, "t1") + "," + vm("c-2", "PREPARING", null, "t1") + ","
                + vm("c-3", "PREPARING", null, "t1") + "]");
        server.sequence("GET", "/api/v1/vms/id-c-1", 200, vm("c-1", "ERROR", "boom", "t2"));
        server.sequence("GET", "/api/v1/vms/id-c-2", 200, vm("c-2", "RUNNING", null, "t2"));
        server.sequence("GET", "/api/v1/vms/id-c-3", 200, vm("c-3", "STOPPED", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--count", "3", "--wait");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: 2 of 3 clones are not RUNNING\n  c-1: ERROR (boom); c-3: STOPPED\n");
    }

    @Test
    void cloneWaitGivesUpAfterTheTimeout() {
        server.json("POST", "/api/v1/snapshots/s/clone", 201, "[" + vm("c-1", "PREPARING", null, "t1") + "]");
        server.json("GET", "/api/v1/vms/id-c-1", 200, vm("c-1", "PREPARING", null, "t1"));
        long t0 = System.nanoTime();
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--wait", "--timeout", "400ms");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).endsWith("NAME  STATE      IPS\nc-1   PREPARING  -\n");
        assertThat(r.err()).isEqualTo("error: timed out after 400ms waiting for clone c-1 to be RUNNING\n  c-1 is PREPARING\n");
        assertThat(ms).isBetween(350L, 5_000L);
    }

    @Test
    void cloneNoStart() {
        server.json("POST", "/api/v1/snapshots/s/clone", 201, "[" + vm("c-1", "REQUESTED") + "]");
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--no-start");
        assertThat(r.code()).isZero();
        assertThat(server.requests().getFirst().body()).isEqualTo("{\"start\":false}");
        assertThat(r.out()).isEqualTo("NAME  STATE      IPS\nc-1   REQUESTED  -\n");
    }

    @Test
    void cloneNoStartWithWaitIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--no-start", "--wait");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: --wait waits for the clones to run: it cannot go with --no-start\n");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void cloneJsonPrintsTheServersAnswer() {
        String body = "[" + vm("c-1", "PREPARING") + ", " + vm("c-2", "PREPARING") + "]";
        server.json("POST", "/api/v1/snapshots/s/clone", 201, body);
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--count", "2", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(Json.pretty(parse(body)) + "\n");
    }

    @Test
    void cloneWaitJsonPrintsTheFinalViewsAndProgressOnStderr() {
        server.json("POST", "/api/v1/snapshots/s/clone", 201, "[" + vm("c-1", "PREPARING", null, "t1") + "]");
        server.sequence("GET", "/api/v1/vms/id-c-1", 200, vm("c-1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "clone", "s", "--wait", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(r.err()).startsWith("c-1  PREPARING  (cloning)\nc-1  RUNNING  ");
        assertThat(parse(r.out())).isEqualTo(parse("[" + vm("c-1", "RUNNING", null, "t2") + "]"));
    }

    @Test
    void cloneOfAnUnknownSnapshot() {
        server.json("POST", "/api/v1/snapshots/nope/clone", 404, "{\"error\":\"snapshot not found: nope\"}");
        CliRun r = CliRun.run(server.url(), "vm", "clone", "nope", "--wait");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: snapshot not found: nope\n");
        assertThat(r.out()).isEmpty();
    }
}
