package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;

import static dev.vmctl.cli.Vms.vm;
import static org.assertj.core.api.Assertions.assertThat;

/** --wait and the default waiting of start/stop/reboot: progress lines, RUNNING, ERROR, timeouts. */
class WaitTest {
    private final FakeServer server;

    WaitTest() {
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

    @Test
    void createStartWaitPrintsEachStateUntilRunning() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "REQUESTED", null, "t0"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "REQUESTED", null, "t0"),
                vm("web1", "PREPARING", null, "t1"),
                vm("web1", "PREPARING", null, "t1"),
                vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "create", "web1", "--image", "tiny", "--start", "--wait");

        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out().lines().toList())
                .hasSize(3)
                .satisfies(l -> assertThat(l.get(0)).isEqualTo("web1  REQUESTED"))
                .satisfies(l -> assertThat(l.get(1)).isEqualTo("web1  PREPARING  (booting)"))
                .satisfies(l -> assertThat(l.get(2)).matches("web1  RUNNING  \\d+\\.\\ds"));
        assertThat(server.requests("GET", "/api/v1/vms/id-web1")).hasSize(4);
    }

    @Test
    void createStartWaitEndsWithTheErrorAndExit1() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "REQUESTED", null, "t0"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "PREPARING", null, "t1"),
                vm("web1", "ERROR", "boot: qemu exited with 1: could not open kernel", "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "create", "web1", "--start", "--wait");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("web1  REQUESTED\nweb1  PREPARING  (booting)\nweb1  ERROR\n");
        assertThat(r.err()).isEqualTo("error: vm web1 failed\n  boot: qemu exited with 1: could not open kernel\n");
    }

    @Test
    void waitGivesUpAfterTheTimeout() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "PREPARING", null, "t1"));
        server.json("GET", "/api/v1/vms/id-web1", 200, vm("web1", "PREPARING", null, "t1"));
        long t0 = System.nanoTime();
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1", "--timeout", "400ms");
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: timed out after 400ms waiting for vm web1 to be RUNNING (it is PREPARING)\n");
        assertThat(ms).isBetween(350L, 5_000L);
    }

    @Test
    void startWaitsByDefault() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "PREPARING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200, vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1");

        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("web1  PREPARING  (booting)\nweb1  RUNNING  ");
        assertThat(server.requests("POST", "/api/v1/vms/web1/start").getFirst().body()).isEmpty();
    }

    @Test
    void startAnsweredWithTheOldStoppedViewKeepsWaiting() {
        // the server may answer before it has moved the VM: STOPPED here is not a failure yet
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "STOPPED", null, "t0"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "STOPPED", null, "t0"),
                vm("web1", "PREPARING", null, "t1"),
                vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1");

        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("web1  STOPPED\n", "web1  PREPARING  (booting)\n", "web1  RUNNING  ");
    }

    @Test
    void aVmThatStopsWhileBootingFailsTheStart() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "PREPARING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200, vm("web1", "STOPPED", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: vm web1 is STOPPED, not RUNNING\n");
    }

    @Test
    void noWaitReturnsAtOnce() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "PREPARING", null, "t1"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1", "--no-wait");

        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("web1  PREPARING\n");
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void explicitWaitIsAccepted() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "RUNNING", null, "t1"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1", "--wait");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("web1  RUNNING  ");
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void stopWaitsUntilStopped() {
        server.json("POST", "/api/v1/vms/web1/stop", 202, vm("web1", "RUNNING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "RUNNING", null, "t1"),
                vm("web1", "STOPPED", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "stop", "web1");

        assertThat(r.code()).isZero();
        assertThat(r.out()).matches("web1  RUNNING\nweb1  STOPPED  \\d+\\.\\ds\n");
    }

    @Test
    void rebootWaitsToLeaveRunningThenComeBack() {
        server.json("POST", "/api/v1/vms/web1/reboot", 202, vm("web1", "RUNNING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200,
                vm("web1", "RUNNING", null, "t1"),
                vm("web1", "PREPARING", null, "t2"),
                vm("web1", "RUNNING", null, "t3"));
        CliRun r = CliRun.run(server.url(), "vm", "reboot", "web1");

        assertThat(r.code()).isZero();
        assertThat(r.out().lines().toList()).hasSize(3)
                .satisfies(l -> assertThat(l.get(1)).isEqualTo("web1  PREPARING  (rebooting)"))
                .satisfies(l -> assertThat(l.get(2)).startsWith("web1  RUNNING  "));
        assertThat(server.requests("GET", "/api/v1/vms/id-web1")).hasSize(3);
    }

    @Test
    void rebootAnsweredWithPreparingWaitsForRunning() {
        server.json("POST", "/api/v1/vms/web1/reboot", 202, vm("web1", "PREPARING", null, "t2"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200, vm("web1", "RUNNING", null, "t3"));
        CliRun r = CliRun.run(server.url(), "vm", "reboot", "web1");
        assertThat(r.code()).isZero();
        assertThat(server.requests("GET", "/api/v1/vms/id-web1")).hasSize(1);
    }

    @Test
    void rebootTooFastToSeeStillCountsWhenUpdatedAtMoved() {
        server.json("POST", "/api/v1/vms/web1/reboot", 202, vm("web1", "RUNNING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200, vm("web1", "RUNNING", null, "t3"));
        CliRun r = CliRun.run(server.url(), "vm", "reboot", "web1", "--timeout", "5s");
        assertThat(r.code()).isZero();
    }

    @Test
    void jsonOutputKeepsProgressOnStderr() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "PREPARING", null, "t1"));
        server.sequence("GET", "/api/v1/vms/id-web1", 200, vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1", "-o", "json");

        assertThat(r.code()).isZero();
        assertThat(r.err()).startsWith("web1  PREPARING  (booting)\n");
        assertThat(r.out()).contains("\"state\": \"RUNNING\"");
    }

    @Test
    void aVmDeletedWhileWaitingIsAnError() {
        server.json("POST", "/api/v1/vms/web1/start", 202, vm("web1", "PREPARING", null, "t1"));
        server.json("GET", "/api/v1/vms/id-web1", 404, "{\"error\":\"vm not found: id-web1\"}");
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: vm not found: id-web1\n");
    }
}
