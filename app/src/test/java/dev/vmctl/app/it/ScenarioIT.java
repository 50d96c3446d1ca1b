package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenarios on real VMs (the shop example topology): the example passes; a check expecting
 * reachability during a cut fails the run (exit 1, a JUnit failure); abort and kill -9 of the server revert
 * every fault (guest carrier back, no partition rule or guest netem left); a partition isolates exactly
 * its two groups; bad files and unknown references are refused (exit 2) before anything happens.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScenarioIT {
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    static Fixture f;
    static String fabric;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-scn-");
        fabric = f.api.get("/api/v1/host").json().path("fabricNamespace").asText();
        Cli.Result r = f.cli.run("up", "-f", EXAMPLES.resolve("shop.yaml").toString());
        assertThat(r.code()).as(r.toString()).isZero();
        // the api VM serves HTTP on 8080 (busybox httpd)
        exec("shop-svc-api", "sh", "-c", "mkdir -p /tmp/www && echo hello-from-api > /tmp/www/index.html && httpd -p 8080 -h /tmp/www");
    }

    @AfterAll
    static void down() throws Exception {
        if (f != null) f.close();
    }

    static JsonNode exec(String vm, String... argv) {
        Api.Response r = f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of(argv)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    static String carrier(String vm, String nic) {
        return exec(vm, "cat", "/sys/class/net/" + nic + "/carrier").path("stdout").asText().strip();
    }

    static String guestQdiscs(String vm) {
        JsonNode r = exec(vm, "tc", "qdisc", "show");
        return r.path("stdout").asText();
    }

    static String partitionTables() {
        CmdResult r = Cmd.run(List.of("ip", "netns", "exec", fabric, "nft", "list", "tables"), null, null, Duration.ofSeconds(10));
        return r.stdout();
    }

    /** Every fault of the shop example is gone: links up in the guests, no guest netem, no partition table. */
    static void nothingHeld() {
        assertThat(carrier("shop-svc-cache", "eth0")).isEqualTo("1");
        assertThat(carrier("shop-svc-api", "eth0")).isEqualTo("1");
        assertThat(guestQdiscs("shop-svc-api")).doesNotContain("netem");
        assertThat(partitionTables()).doesNotContain("vmctl");
        for (JsonNode vm : f.api.get("/api/v1/vms").json()) {
            for (JsonNode n : vm.path("nics")) {
                assertThat(n.path("link").asText()).as(vm.path("name").asText() + " " + n.path("name").asText()).isEqualTo("up");
                assertThat(n.path("impair").isNull() || n.path("impair").isMissingNode()).as(n.toString()).isTrue();
            }
        }
    }

    static Path write(Path dir, String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    @Order(1)
    void theExampleScenarioPassesWithItsTimeline(@TempDir Path tmp) throws Exception {
        Path junit = tmp.resolve("out.xml"), html = tmp.resolve("out.html");
        Cli.Result r = f.cli.run("scenario", "run", "-f", EXAMPLES.resolve("scenarios/failover.yaml").toString(), "--topology", "shop",
                "--junit", junit.toString(), "--html", html.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("cut-cache").contains("split").contains("PASS");
        // the journal: every step where it was scheduled, faults reverted, measured values kept
        JsonNode runs = f.api.get("/api/v1/scenario-runs?scenario=cache-failover").json();
        JsonNode run = runs.get(0);
        assertThat(run.path("verdict").asText()).isEqualTo("pass");
        assertThat(run.path("faultsHeld").asInt()).isZero();
        for (JsonNode s : run.path("steps")) {
            String name = s.path("name").asText();
            if (s.path("kind").asText().equals("fault")) {
                long drift = s.path("startedMs").asLong() - s.path("scheduledMs").asLong();
                assertThat(drift).as(name + " drift").isBetween(0L, 500L);
                if (!name.equals("reboot-cache")) assertThat(s.path("outcome").asText()).as(name).isEqualTo("reverted");
            }
            if (name.equals("cut-cache")) {
                assertThat(s.path("revertedMs").asLong() - s.path("startedMs").asLong()).isBetween(3900L, 5000L);
            }
            if (name.equals("cache-unreachable")) assertThat(s.path("measured").path("lossPct").asDouble()).isEqualTo(100.0);
            if (name.equals("http-ok")) assertThat(s.path("measured").path("status").asInt()).isEqualTo(200);
            if (name.equals("api-during-reboot")) assertThat(s.path("measured").path("attempts").asInt()).isGreaterThanOrEqualTo(5);
        }
        // the reports: one testcase per check, a self-contained HTML timeline
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
        assertThat(doc.getElementsByTagName("testcase").getLength()).isEqualTo(6); // 1 steady state × 2 + 4 checks
        assertThat(doc.getElementsByTagName("failure").getLength()).isZero();
        String page = Files.readString(html);
        assertThat(page).contains("<svg").contains("cut-cache").doesNotContain("src=");
        nothingHeld();
        // operations: the run and its faults, with exact times
        JsonNode op = f.api.get("/api/v1/operations/" + run.path("operation").asText()).json();
        assertThat(op.path("kind").asText()).isEqualTo("scenario.run");
        assertThat(op.path("state").asText()).isEqualTo("succeeded");
    }

    @Test
    @Order(2)
    void aCheckExpectingReachabilityDuringACutFailsTheRun(@TempDir Path tmp) throws Exception {
        Path file = write(tmp, "wrong.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: wrong-expectation
                topology: shop
                steps:
                  - {at: 0s, fault: {name: cut, duration: 3s, link.down: {vm: svc/cache, nic: eth0}}}
                  - {at: 500ms, check: {name: still-reachable, ping: {from: svc/api, to: svc/cache, count: 2}}}
                """);
        Path junit = tmp.resolve("j.xml");
        Cli.Result r = f.cli.run("scenario", "run", "-f", file.toString(), "--junit", junit.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL").contains("still-reachable");
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
        assertThat(doc.getElementsByTagName("failure").getLength()).isEqualTo(1);
        assertThat(doc.getElementsByTagName("failure").item(0).getTextContent()).contains("100");
        nothingHeld();
    }

    @Test
    @Order(3)
    void aPartitionIsolatesExactlyItsTwoGroups(@TempDir Path tmp) throws Exception {
        Path file = write(tmp, "split.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: split
                topology: shop
                steps:
                  - {at: 0s, fault: {name: split, duration: 6s, partition: {a: [svc/api], b: [svc/cache]}}}
                  - {at: 500ms, check: {name: api-cache-cut, expect: fail, ping: {from: svc/api, to: svc/cache, count: 2}}}
                  - {check: {name: cache-api-cut, expect: fail, ping: {from: svc/cache, to: svc/api, count: 2}}}
                  - {check: {name: api-gateway-ok, ping: {from: svc/api, to: svc/gateway, count: 2}}}
                  - {check: {name: gateway-api-http, http: {from: svc/gateway, to: svc/api, port: 8080, bodyMatches: hello}}}
                """);
        Cli.Result r = f.cli.run("scenario", "run", "-f", file.toString(), "-o", "json");
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode run = Api.JSON.readTree(r.out());
        assertThat(run.path("verdict").asText()).isEqualTo("pass");
        for (JsonNode s : run.path("steps")) {
            if (s.path("kind").asText().equals("check")) {
                assertThat(s.path("finishedMs").asLong()).as(s.path("name").asText() + " ran during the partition").isLessThan(6000);
            }
        }
        nothingHeld();
    }

    @Test
    @Order(4)
    void abortRevertsEveryFault(@TempDir Path tmp) throws Exception {
        Path file = write(tmp, "long.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: long-faults
                topology: shop
                steps:
                  - {at: 0s, fault: {name: cut, link.down: {vm: svc/cache, nic: eth0}}}
                  - {at: 0s, fault: {name: slow, link.impair: {vm: svc/api, nic: eth0, delay: 80ms, direction: egress}}}
                  - {at: 0s, fault: {name: split, partition: {a: [svc/api], b: [svc/gateway]}}}
                  - {at: 60s, check: {name: never, ping: {from: svc/api, to: svc/cache}}}
                """);
        Api.Response started = f.api.post("/api/v1/scenario-runs", Map.of("text", Files.readString(file), "file", "long.yaml"));
        assertThat(started.status()).as(started.body()).isEqualTo(202);
        String id = started.json().path("id").asText();
        assertThat(started.headers().firstValue("Operation-Location")).isPresent();
        waitHeld(id, 3);
        assertThat(carrier("shop-svc-cache", "eth0")).isEqualTo("0");
        assertThat(guestQdiscs("shop-svc-api")).contains("netem");
        assertThat(partitionTables()).contains("vmctl");

        Cli.Result abort = f.cli.run("scenario", "abort", id);
        assertThat(abort.code()).as(abort.toString()).isZero();
        JsonNode run = f.api.get("/api/v1/scenario-runs/" + id).json();
        assertThat(run.path("verdict").asText()).isEqualTo("aborted");
        assertThat(run.path("faultsHeld").asInt()).isZero();
        assertThat(run.path("steps").get(3).path("outcome").asText()).isEqualTo("skipped");
        nothingHeld();
    }

    static void waitHeld(String id, int faults) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode run = f.api.get("/api/v1/scenario-runs/" + id).json();
            long applied = 0;
            for (JsonNode s : run.path("steps")) if (s.path("outcome").asText().equals("applied")) applied++;
            if (applied >= faults) return;
            Thread.sleep(100);
        }
        throw new AssertionError("faults of run " + id + " not applied within 30 s: " + f.api.get("/api/v1/scenario-runs/" + id).body());
    }

    @Test
    @Order(5)
    void badFilesAndUnknownReferencesAreRefusedBeforeAnythingHappens(@TempDir Path tmp) throws Exception {
        Path bad = write(tmp, "bad.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: bad
                topology: shop
                steps:
                  - {at: 2x, fault: {name: cut, link.down: {vm: svc/cache, nic: eth0}}}
                  - {check: {name: c, ping: {from: svc/api, to: svc/cache, count: 0}}}
                """);
        Cli.Result v = f.cli.run("scenario", "validate", "-f", bad.toString());
        assertThat(v.code()).as(v.toString()).isEqualTo(2);
        assertThat(v.err()).contains("bad.yaml:6:").contains("bad.yaml:7:");
        Cli.Result r = f.cli.run("scenario", "run", "-f", bad.toString());
        assertThat(r.code()).isEqualTo(2);

        Path unknown = write(tmp, "unknown.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: unknown
                topology: shop
                steps:
                  - {fault: {name: cut, link.down: {vm: svc/nope, nic: eth0}}}
                  - {fault: {name: cut2, link.down: {vm: svc/cache, nic: eth5}}}
                """);
        Cli.Result u = f.cli.run("scenario", "run", "-f", unknown.toString());
        assertThat(u.code()).as(u.toString()).isEqualTo(2);
        assertThat(u.err()).contains("svc/nope").contains("eth5");
        Cli.Result nt = f.cli.run("scenario", "run", "-f", unknown.toString(), "--topology", "absent");
        assertThat(nt.code()).isEqualTo(2);
        assertThat(nt.err()).contains("not deployed");
        assertThat(f.api.get("/api/v1/scenario-runs?scenario=unknown").json()).isEmpty();
        nothingHeld();
    }

    @Test
    @Order(6)
    void savedScenariosAreListedAndRunByName(@TempDir Path tmp) throws Exception {
        Cli.Result s = f.cli.run("scenario", "save", "-f", EXAMPLES.resolve("scenarios/failover.yaml").toString());
        assertThat(s.code()).as(s.toString()).isZero();
        Cli.Result ls = f.cli.run("scenario", "ls");
        assertThat(ls.out()).contains("cache-failover");
        Cli.Result show = f.cli.run("scenario", "show", "cache-failover");
        assertThat(show.out()).contains("cut-cache").contains("apiVersion: vmctl/v1");
        Cli.Result runs = f.cli.run("scenario", "runs");
        assertThat(runs.code()).isZero();
        assertThat(runs.out()).contains("cache-failover").contains("pass").contains("aborted");
        String id = f.api.get("/api/v1/scenario-runs?scenario=cache-failover").json().get(0).path("id").asText();
        Cli.Result junit = f.cli.run("scenario", "report", id, "-o", "junit");
        assertThat(junit.out()).contains("<testsuite");
        Cli.Result html = f.cli.run("scenario", "report", id, "-o", "html", "--out", tmp.resolve("r.html").toString());
        assertThat(html.code()).isZero();
        assertThat(Files.readString(tmp.resolve("r.html"))).contains("<svg");
        // a saved scenario runs by its name, with a var given at run time
        Path quick = write(tmp, "quick.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: quick
                vars: {target: svc/cache}
                steadyState:
                  - {name: reach, ping: {from: svc/api, to: "${target}"}}
                """);
        assertThat(f.cli.run("scenario", "save", "-f", quick.toString()).code()).isZero();
        Cli.Result byName = f.cli.run("scenario", "run", "quick", "--topology", "shop", "--var", "target=svc/gateway", "-o", "json");
        assertThat(byName.code()).as(byName.toString()).isZero();
        assertThat(Api.JSON.readTree(byName.out()).path("steps").get(0).path("targets").toString()).contains("svc/api");
        assertThat(Api.JSON.readTree(byName.out()).path("vars").path("target").asText()).isEqualTo("svc/gateway");
        assertThat(f.cli.run("scenario", "rm", "quick").code()).isZero();
        assertThat(f.cli.run("scenario", "show", "quick").code()).isEqualTo(1);
        assertThat(f.api.get("/api/v1/scenario.schema.json").status()).isEqualTo(200);
    }

    @Test
    @Order(7)
    void healAllBringsBackManualFaults() {
        assertThat(f.cli.run("link", "down", "shop-svc-gateway", "eth0").code()).isZero();
        assertThat(carrier("shop-svc-gateway", "eth0")).isEqualTo("0");
        Cli.Result h = f.cli.run("heal", "--topology", "shop", "--all");
        assertThat(h.code()).as(h.toString()).isZero();
        assertThat(h.out()).contains("link up");
        assertThat(carrier("shop-svc-gateway", "eth0")).isEqualTo("1");
        nothingHeld();
    }

    @Test
    @Order(8)
    void killedAndStoppedVmsComeBackAndCtrlCOfTheCliAbortsTheRun(@TempDir Path tmp) throws Exception {
        Path file = write(tmp, "kill.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: kill-and-stop
                topology: shop
                steps:
                  - {at: 0s, fault: {name: kill-gw, duration: 3s, vm.kill: {vm: svc/gateway}}}
                  - {at: 0s, fault: {name: stop-cache, vm.stop: {vm: svc/cache}}}
                  - {at: 500ms, check: {name: gw-down, expect: fail, ping: {from: svc/api, to: svc/gateway, count: 1}}}
                  - {at: 60s, check: {name: never, ping: {from: svc/api, to: svc/gateway}}}
                """);
        // the real CLI in its own process, interrupted like a user's Ctrl-C
        ProcessBuilder pb = new ProcessBuilder(ServerProcess.JAVA.toString(), "-jar", ServerProcess.JAR.toString(),
                "scenario", "run", "-f", file.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("cli.log").toFile());
        pb.environment().put("VMCTL_URL", f.server.url());
        pb.environment().put("VMCTL_DATA_DIR", f.dataDir.toString());
        Process cli = pb.start();
        cli.getOutputStream().close();
        String id = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (id == null && System.nanoTime() < deadline) {
            JsonNode runs = f.api.get("/api/v1/scenario-runs?scenario=kill-and-stop").json();
            if (runs.size() > 0) id = runs.get(0).path("id").asText();
            else Thread.sleep(100);
        }
        assertThat(id).as(Files.readString(tmp.resolve("cli.log"))).isNotNull();
        // the kill is reverted after its 3 s: the gateway runs again while the run still holds the stop
        while (System.nanoTime() < deadline) {
            JsonNode run = f.api.get("/api/v1/scenario-runs/" + id).json();
            if (run.path("steps").get(0).path("outcome").asText().equals("reverted")) break;
            Thread.sleep(200);
        }
        assertThat(f.api.get("/api/v1/vms/shop-svc-gateway").json().path("state").asText()).isEqualTo("RUNNING");
        assertThat(f.api.get("/api/v1/vms/shop-svc-cache").json().path("state").asText()).isEqualTo("STOPPED");
        Cmd.run(List.of("kill", "-INT", Long.toString(cli.pid())), null, null, Duration.ofSeconds(5));
        assertThat(cli.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        JsonNode run = f.api.get("/api/v1/scenario-runs/" + id).json();
        assertThat(run.path("verdict").asText()).as(Files.readString(tmp.resolve("cli.log"))).isEqualTo("aborted");
        assertThat(run.path("faultsHeld").asInt()).isZero();
        assertThat(run.path("steps").get(2).path("outcome").asText()).isEqualTo("pass");
        assertThat(run.path("steps").get(1).path("outcome").asText()).isEqualTo("reverted");
        assertThat(f.api.get("/api/v1/vms/shop-svc-cache").json().path("state").asText()).isEqualTo("RUNNING");
        assertThat(Files.readString(tmp.resolve("cli.log"))).contains("aborting scenario run " + id);
        nothingHeld();
    }

    @Test
    @Order(9)
    void aServerKilledMidRunRevertsTheRunsFaultsAtStartUp(@TempDir Path tmp) throws Exception {
        Path file = write(tmp, "crash.yaml", """
                apiVersion: vmctl/v1
                kind: Scenario
                name: crash
                topology: shop
                steps:
                  - {at: 0s, fault: {name: cut, link.down: {vm: svc/cache, nic: eth0}}}
                  - {at: 0s, fault: {name: split, partition: {a: [svc/api], b: [svc/gateway]}}}
                  - {at: 60s, check: {name: never, ping: {from: svc/api, to: svc/cache}}}
                """);
        Api.Response started = f.api.post("/api/v1/scenario-runs", Map.of("text", Files.readString(file)));
        assertThat(started.status()).as(started.body()).isEqualTo(202);
        String id = started.json().path("id").asText();
        waitHeld(id, 2);
        f.server.kill9();
        f.server.start();
        JsonNode run = f.api.get("/api/v1/scenario-runs/" + id).json();
        assertThat(run.path("verdict").asText()).isEqualTo("aborted");
        assertThat(run.path("error").asText()).contains("server restarted");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!carrier("shop-svc-cache", "eth0").equals("1") && System.nanoTime() < deadline) Thread.sleep(200);
        while (partitionTables().contains("vmctl") && System.nanoTime() < deadline) Thread.sleep(200);
        nothingHeld();
    }
}
