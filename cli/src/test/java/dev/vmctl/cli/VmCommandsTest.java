package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;

import static dev.vmctl.cli.Vms.vm;
import static org.assertj.core.api.Assertions.assertThat;

/** vm create, ls, show, rm and exec against a fake server. */
class VmCommandsTest {
    private final FakeServer server;

    VmCommandsTest() {
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

    // --- create ---------------------------------------------------------------------------------------

    @Test
    void createSendsOnlyTheFieldsGiven() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "REQUESTED"));
        CliRun r = CliRun.run(server.url(), "vm", "create", "web1", "--image", "tiny");
        assertThat(r.code()).isZero();
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.json()).isEqualTo(parse("{\"name\":\"web1\",\"image\":\"tiny\"}"));
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.out()).isEqualTo("created vm web1 (id id-web1)  REQUESTED\n");
    }

    @Test
    void createSendsEveryFieldWhenAllAreGiven() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "PREPARING"));
        CliRun r = CliRun.run(server.url(), "vm", "create", "web1", "--image", "tiny", "--cpus", "2",
                "--memory", "256M", "--accel", "KVM", "--start");
        assertThat(r.code()).isZero();
        assertThat(server.requests().getFirst().json()).isEqualTo(parse(
                "{\"name\":\"web1\",\"image\":\"tiny\",\"cpus\":2,\"memory\":\"256M\",\"accel\":\"kvm\",\"start\":true}"));
        // no --wait: no polling
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void createColdAsksForAColdBoot() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "PREPARING"));
        assertThat(CliRun.run(server.url(), "vm", "create", "web1", "--image", "tiny", "--start", "--cold").code()).isZero();
        assertThat(server.requests().getFirst().json()).isEqualTo(parse(
                "{\"name\":\"web1\",\"image\":\"tiny\",\"start\":true,\"cold\":true}"));
    }

    @Test
    void createWithNameOnly() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "REQUESTED"));
        assertThat(CliRun.run(server.url(), "vm", "create", "web1").code()).isZero();
        assertThat(server.requests().getFirst().json()).isEqualTo(parse("{\"name\":\"web1\"}"));
    }

    @Test
    void createWaitWithoutStartDoesNotPoll() {
        server.json("POST", "/api/v1/vms", 201, vm("web1", "REQUESTED"));
        CliRun r = CliRun.run(server.url(), "vm", "create", "web1", "--wait");
        assertThat(r.code()).isZero();
        assertThat(server.requests()).hasSize(1);
        assertThat(server.requests().getFirst().json().has("start")).isFalse();
    }

    @Test
    void createRejectedByServer() {
        server.json("POST", "/api/v1/vms", 400,
                "{\"error\":\"invalid memory: 'lots' is not a size\",\"detail\":\"allowed: 64M..16384M\"}");
        CliRun r = CliRun.run(server.url(), "vm", "create", "web1", "--memory", "lots");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: invalid memory: 'lots' is not a size\n  allowed: 64M..16384M\n");
    }

    // --- ls / show: -o json prints the server's JSON -----------------------------------------------

    @Test
    void lsJsonEqualsTheServersJson() {
        String body = "[" + vm("web1", "RUNNING") + ",  " + vm("db", "STOPPED") + "]";
        server.json("GET", "/api/v1/vms", 200, body);
        CliRun r = CliRun.run(server.url(), "vm", "ls", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(body));
        assertThat(r.out()).isEqualTo(Json.pretty(parse(body)) + "\n");
        assertThat(r.out()).contains("\"futureField\": {", "  {\n    \"id\": \"id-web1\"");
    }

    @Test
    void showJsonPrintsTheOneObject() {
        server.json("GET", "/api/v1/vms/web1", 200, vm("web1", "RUNNING"));
        CliRun r = CliRun.run(server.url(), "vm", "show", "web1", "--output=json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(vm("web1", "RUNNING")));
    }

    @Test
    void lsTableHasAColumnPerField() {
        server.json("GET", "/api/v1/vms", 200, "[" + vm("web1", "RUNNING") + "," + vm("database", "STOPPED") + "]");
        CliRun r = CliRun.run(server.url(), "vm", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME      ID           STATE    IMAGE  CPUS  MEMORY  CREATED
                web1      id-web1      RUNNING  tiny   1     128M    2026-11-28T09:59:58Z
                database  id-database  STOPPED  tiny   1     128M    2026-11-28T09:59:58Z
                """);
    }

    @Test
    void lsShowsAnErrorColumnOnlyWhenSomeVmHasAnError() {
        server.json("GET", "/api/v1/vms", 200, "[" + vm("web1", "RUNNING") + ","
                + vm("bad", "ERROR", "qemu exited with 1", "2026-11-28T10:00:01Z") + "]");
        CliRun r = CliRun.run(server.url(), "vm", "ls");
        assertThat(r.out().lines().findFirst()).hasValue("NAME  ID       STATE    IMAGE  CPUS  MEMORY  CREATED               ERROR");
        assertThat(r.out()).contains("bad   id-bad   ERROR    tiny   1     128M    2026-11-28T09:59:58Z  qemu exited with 1");
    }

    @Test
    void lsEmptyPrintsTheHeader() {
        server.json("GET", "/api/v1/vms", 200, "[]");
        CliRun r = CliRun.run(server.url(), "vm", "ls");
        assertThat(r.out()).isEqualTo("NAME  ID  STATE  IMAGE  CPUS  MEMORY  CREATED\n");
    }

    @Test
    void showTableIsReadable() {
        server.json("GET", "/api/v1/vms/web1", 200, vm("web1", "RUNNING"));
        CliRun r = CliRun.run(server.url(), "vm", "show", "web1");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("name:     web1\n", "state:    RUNNING\n", "memory:   128M\n", "pid:      4242\n")
                .doesNotContain("error:");
    }

    // --- rm ------------------------------------------------------------------------------------------

    @Test
    void rmSendsForceAndSaysRemoved() {
        server.json("DELETE", "/api/v1/vms/web1", 200, vm("web1", "DESTROYED"));
        CliRun r = CliRun.run(server.url(), "vm", "rm", "web1", "--force");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("removed web1\n");
        assertThat(server.requests().getFirst().query()).isEqualTo("force=true");

        CliRun plain = CliRun.run(server.url(), "vm", "rm", "web1");
        assertThat(plain.code()).isZero();
        assertThat(server.requests().get(1).query()).isEqualTo("force=false");
    }

    @Test
    void rmOfARunningVmWithoutForceIsRefused() {
        server.json("DELETE", "/api/v1/vms/web1", 409,
                "{\"error\":\"destroy: vm web1 is RUNNING\",\"detail\":\"use force to destroy a running VM\"}");
        CliRun r = CliRun.run(server.url(), "vm", "rm", "web1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("error: destroy: vm web1 is RUNNING\n  use force");
        assertThat(r.out()).isEmpty();
    }

    // --- exec ----------------------------------------------------------------------------------------

    @Test
    void execSplitsStdoutAndStderrAndExitsWithTheGuestsCode() {
        server.json("POST", "/api/v1/vms/web1/exec", 200,
                "{\"exitCode\":7,\"stdout\":\"hello\\nworld\",\"stderr\":\"warn: x\\n\",\"timedOut\":false,\"durationMs\":31,\"new\":true}");
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1", "--", "sh", "-c", "echo hello; exit 7");
        assertThat(r.code()).isEqualTo(7);
        assertThat(r.out()).isEqualTo("hello\nworld");
        assertThat(r.err()).isEqualTo("warn: x\n");
        assertThat(server.requests().getFirst().json())
                .isEqualTo(parse("{\"argv\":[\"sh\",\"-c\",\"echo hello; exit 7\"],\"timeoutSec\":30}"));
    }

    @Test
    void execZeroExit() {
        server.json("POST", "/api/v1/vms/web1/exec", 200,
                "{\"exitCode\":0,\"stdout\":\"Linux\\n\",\"stderr\":\"\",\"timedOut\":false,\"durationMs\":5}");
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1", "uname");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("Linux\n");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void execTimeoutOptionAndGuestOptionsWithoutDoubleDash() {
        server.json("POST", "/api/v1/vms/web1/exec", 200,
                "{\"exitCode\":0,\"stdout\":\"\",\"stderr\":\"\",\"timedOut\":false,\"durationMs\":5}");
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1", "--timeout", "2m", "ls", "-l", "/");
        assertThat(r.code()).isZero();
        assertThat(server.requests().getFirst().json())
                .isEqualTo(parse("{\"argv\":[\"ls\",\"-l\",\"/\"],\"timeoutSec\":120}"));
    }

    @Test
    void execTimedOutExits124() {
        server.json("POST", "/api/v1/vms/web1/exec", 200,
                "{\"exitCode\":-1,\"stdout\":\"partial\",\"stderr\":\"\",\"timedOut\":true,\"durationMs\":2000}");
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1", "--timeout", "2s", "--", "sleep", "10");
        assertThat(r.code()).isEqualTo(124);
        assertThat(r.out()).isEqualTo("partial");
        assertThat(r.err()).isEqualTo("error: sleep 10: timed out after 2s in vm web1\n");
        assertThat(server.requests().getFirst().json().get("timeoutSec").asInt()).isEqualTo(2);
    }

    @Test
    void execStdinIsSentAsAString() {
        server.json("POST", "/api/v1/vms/web1/exec", 200,
                "{\"exitCode\":0,\"stdout\":\"2\\n\",\"stderr\":\"\",\"timedOut\":false,\"durationMs\":5}");
        CliRun r = CliRun.runWithStdin(server.url(), "line one\nline two\n", "vm", "exec", "web1", "--stdin", "--", "wc", "-l");
        assertThat(r.code()).isZero();
        assertThat(server.requests().getFirst().json().get("stdin").asText()).isEqualTo("line one\nline two\n");
    }

    @Test
    void execJsonPrintsTheResultAndStillPropagatesTheCode() {
        String result = "{\"exitCode\":2,\"stdout\":\"o\",\"stderr\":\"e\",\"timedOut\":false,\"durationMs\":5}";
        server.json("POST", "/api/v1/vms/web1/exec", 200, result);
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1", "-o", "json", "--", "false");
        assertThat(r.code()).isEqualTo(2);
        assertThat(parse(r.out())).isEqualTo(parse(result));
        assertThat(r.err()).isEmpty();
    }

    @Test
    void execWithoutCommandIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void execOnAStoppedVm() {
        server.json("POST", "/api/v1/vms/web1/exec", 409,
                "{\"error\":\"exec: vm web1 is STOPPED\",\"detail\":\"current state: STOPPED; exec is allowed in: [RUNNING]\"}");
        CliRun r = CliRun.run(server.url(), "vm", "exec", "web1", "true");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: exec: vm web1 is STOPPED\n");
    }
}
