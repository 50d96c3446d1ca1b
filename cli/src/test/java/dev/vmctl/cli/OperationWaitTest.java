package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --wait against a server that answers with Operation-Location: one long-poll on the operation (no polling of
 * the VM), then the VM as it is; op ls / show / wait / cancel.
 */
class OperationWaitTest {
    private final FakeServer server;

    OperationWaitTest() {
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

    static String op(String id, String kind, String state, String error) {
        return "{\"id\":\"" + id + "\",\"kind\":\"" + kind + "\",\"targets\":[\"vm:id-web1\"],\"state\":\"" + state + "\",\"parent\":null,"
                + "\"createdAt\":\"2026-12-01T10:00:00Z\",\"startedAt\":\"2026-12-01T10:00:00.100Z\","
                + "\"finishedAt\":" + (state.equals("running") ? "null" : "\"2026-12-01T10:00:01.600Z\"") + ","
                + "\"error\":" + (error == null ? "null" : "\"" + error + "\"") + ",\"progress\":null}";
    }

    private void withOperation(String method, String path, int status, String body, String opId) {
        server.on(method, path, (req, ex) -> {
            ex.getResponseHeaders().set("Operation-Location", "/api/v1/operations/" + opId);
            FakeServer.reply(ex, status, "application/json", body);
        });
    }

    @Test
    void startWaitsOnTheOperationWithOneLongPoll() {
        withOperation("POST", "/api/v1/vms/web1/start", 202, Vms.vm("web1", "PREPARING", null, "t1"), "op1");
        server.json("GET", "/api/v1/operations/op1", 200, op("op1", "vm.start", "succeeded", null));
        server.json("GET", "/api/v1/vms/id-web1", 200, Vms.vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "start", "web1");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().toList()).hasSize(2)
                .satisfies(l -> assertThat(l.get(0)).isEqualTo("web1  PREPARING  (booting)"))
                .satisfies(l -> assertThat(l.get(1)).matches("web1  RUNNING  \\d+\\.\\ds"));
        var polls = server.requests("GET", "/api/v1/operations/op1");
        assertThat(polls).hasSize(1);
        assertThat(polls.getFirst().query()).matches("wait=\\d+");
        assertThat(server.requests("GET", "/api/v1/vms/id-web1")).as("the VM is read once, at the end").hasSize(1);
    }

    @Test
    void aFailedOperationEndsTheWaitWithItsErrorAndExit1() {
        withOperation("POST", "/api/v1/vms/web1/stop", 202, Vms.vm("web1", "RUNNING", null, "t1"), "op2");
        server.json("GET", "/api/v1/operations/op2", 200, op("op2", "vm.stop", "failed", "stop: vm web1 is STOPPED"));
        server.json("GET", "/api/v1/vms/id-web1", 200, Vms.vm("web1", "RUNNING", null, "t2"));
        CliRun r = CliRun.run(server.url(), "vm", "stop", "web1");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("operation op2 vm.stop failed").contains("stop: vm web1 is STOPPED");
    }

    @Test
    void opCommands() {
        server.json("GET", "/api/v1/operations", 200, "[" + op("op3", "vm.reboot", "cancelled", "boot of vm web1 cancelled") + ","
                + op("op1", "vm.start", "succeeded", null) + "]");
        server.json("GET", "/api/v1/operations/op1", 200, op("op1", "vm.start", "succeeded", null));
        server.json("GET", "/api/v1/operations/op4", 200, op("op4", "vm.start", "running", null));
        server.json("POST", "/api/v1/operations/op4/cancel", 200, op("op4", "vm.start", "running", null));

        CliRun ls = CliRun.run(server.url(), "op", "ls", "--target", "web1", "--state", "cancelled");
        assertThat(ls.code()).isZero();
        assertThat(ls.out().lines().toList()).hasSize(3);
        assertThat(ls.out().lines().toList().get(0)).startsWith("ID").contains("KIND", "TARGETS", "STATE", "TOOK", "ERROR");
        assertThat(ls.out()).contains("op3  vm.reboot").contains("1.5s").contains("boot of vm web1 cancelled");
        assertThat(server.requests("GET", "/api/v1/operations").getFirst().query()).isEqualTo("target=web1&state=cancelled&limit=50");

        CliRun show = CliRun.run(server.url(), "op", "show", "op1");
        assertThat(show.out()).contains("kind:").contains("vm.start").contains("state:").contains("succeeded");

        CliRun waited = CliRun.run(server.url(), "op", "wait", "op1");
        assertThat(waited.code()).isZero();

        CliRun stillRunning = CliRun.run(server.url(), "op", "wait", "op4", "--timeout", "1s");
        assertThat(stillRunning.code()).isEqualTo(1);
        assertThat(stillRunning.err()).contains("operation op4 is still running");

        CliRun cancel = CliRun.run(server.url(), "op", "cancel", "op4");
        assertThat(cancel.code()).isZero();
        assertThat(server.requests("POST", "/api/v1/operations/op4/cancel")).hasSize(1);

        CliRun bad = CliRun.run(server.url(), "op", "ls", "--limit", "0");
        assertThat(bad.code()).isEqualTo(2);
    }
}
