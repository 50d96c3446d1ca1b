package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.vmctl.cli.Topologies.APPLIED;
import static dev.vmctl.cli.Topologies.DB;
import static dev.vmctl.cli.Topologies.DESTROYED;
import static dev.vmctl.cli.Topologies.FAILED;
import static dev.vmctl.cli.Topologies.LAB;
import static dev.vmctl.cli.Topologies.NOTHING;
import static dev.vmctl.cli.Topologies.PLANNED;
import static dev.vmctl.cli.Topologies.SHOP;
import static dev.vmctl.cli.Topologies.SHOP_YAML;
import static dev.vmctl.cli.Topologies.SVC;
import static dev.vmctl.cli.Topologies.SVC_STOPPED;
import static org.assertj.core.api.Assertions.assertThat;

/** up, down, topo and node against a fake server. */
class TopologyCommandsTest {
    private final FakeServer server;
    /** Lets a fake event stream end when the test does. */
    private final CountDownLatch testOver = new CountDownLatch(1);

    @TempDir
    Path dir;

    TopologyCommandsTest() {
        try {
            server = new FakeServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        testOver.countDown();
        server.close();
    }

    private static JsonNode parse(String json) {
        try {
            return Json.parse(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private FakeServer.Request post() {
        assertThat(server.requests("POST", "/api/v1/topologies")).hasSize(1);
        return server.requests("POST", "/api/v1/topologies").getFirst();
    }

    // --- help ----------------------------------------------------------------------------------------

    @Test
    void helpListsTheTopologyCommandsWithADescription() {
        CliRun r = CliRun.run(server.url(), "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).containsPattern("\n  up +Deploy a topology file")
                .containsPattern("\n  down +Destroy a topology")
                .containsPattern("\n  topo +List and inspect deployed topologies")
                .containsPattern("\n  node +List, start, stop, snapshot, restore, clone and remove nodes")
                .containsPattern("\n  nic +Add a NIC");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void upHelpNamesItsOptions() {
        CliRun r = CliRun.run(server.url(), "up", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("-f, --file=FILE", "--dry-run", "--rollback-on-error", "--timeout=DURATION",
                "-o, --output=FORMAT");
        assertThat(r.out().replaceAll("\\s+", " ")).contains("(default 30m)");
    }

    // --- up ------------------------------------------------------------------------------------------

    @Test
    void upPostsTheFileByteForByteAndShowsTheSteps() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, APPLIED);
        // CRLF, non-ASCII text, trailing blanks and no final newline all travel as they are
        String text = "# café ✓  \r\n" + SHOP_YAML.replace("\n", "\r\n") + "# end   ";
        Path f = file("shop.yaml", text);

        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString());

        assertThat(r.code()).isZero();
        FakeServer.Request req = post();
        assertThat(req.bytes()).isEqualTo(Files.readAllBytes(f));
        assertThat(withoutBase(req.query())).isEqualTo("file=shop.yaml");
        // relative artifact paths of the file are relative to its directory: the server is told which it is
        assertThat(req.query()).contains("&base=" + ApiClient.seg(f.toAbsolutePath().normalize().getParent().toString()));
        assertThat(req.header("Content-Type")).isEqualTo("application/yaml");
        assertThat(r.out()).isEqualTo("""
                applying topology shop from %s…
                + create network shop-public 198.18.1.0/24                  done 120ms
                + create network shop-internal 198.18.2.0/24                done 95ms
                + create vm shop-svc-cache (db-cache) on internal           done 1.8s
                + create vm shop-svc-api (api-handler) on public, internal  done 2.1s
                + create vm shop-svc-gateway (external-gw) on public        done 2.1s
                topology shop: 5 change(s) applied in 4.3 s
                """.formatted(f));
        assertThat(r.err()).isEmpty();
    }

    @Test
    void upSendsOnlyTheFilesBaseNameEncoded() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, NOTHING);
        Files.createDirectories(dir.resolve("sub dir"));
        Path f = file("sub dir/my shop+1.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "--file", f.toString());
        assertThat(r.code()).isZero();
        assertThat(withoutBase(post().query())).isEqualTo("file=my%20shop%2B1.yaml");
    }

    @Test
    void upFailedStepsShowTheirErrorsAndExit1() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, FAILED);
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("""
                applying topology shop from %s…
                - delete vm shop-svc-old (legacy)                                      done 310ms
                + create network shop-dmz 198.18.3.0/24                                done 80ms
                ~ change vm shop-svc-gateway (external-gw): nics public → public, dmz  done 2.2s
                + create vm shop-svc-cache (db-cache) on internal                      failed
                    boot: no answer from the guest agent within 60s
                    last console line: Kernel panic
                + create vm shop-svc-api (api-handler) on public, internal             skipped
                    not started: cache (which must start before it) failed
                topology shop: 2 of 5 change(s) failed; kept what was created (vmctl down shop removes it)
                """.formatted(f));
        assertThat(r.err()).isEmpty();
    }

    @Test
    void upDryRunShowsThePlanWithoutStatuses() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, PLANNED);
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString(), "--dry-run");
        assertThat(r.code()).isZero();
        assertThat(withoutBase(post().query())).isEqualTo("file=shop.yaml&dryRun=true");
        assertThat(r.out()).isEqualTo("""
                planning topology shop from %s (dry run)…
                + create network shop-dmz 198.18.3.0/24
                ~ change vm shop-svc-gateway (external-gw): nics public → public, dmz
                - delete vm shop-svc-old (legacy)
                3 change(s) planned (dry run)
                """.formatted(f));
        // a dry run changes nothing, so there is no progress to follow
        assertThat(server.requests("GET", "/api/v1/events")).isEmpty();
    }

    @Test
    void upRollbackOnErrorAndBothFlags() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, NOTHING);
        Path f = file("shop.yaml", SHOP_YAML);
        assertThat(CliRun.run(server.url(), "up", "-f", f.toString(), "--rollback-on-error").code()).isZero();
        assertThat(CliRun.run(server.url(), "up", "--dry-run", "--rollback-on-error", "-f", f.toString()).code()).isZero();
        assertThat(server.requests("POST", "/api/v1/topologies")).extracting(q -> withoutBase(q.query()))
                .containsExactly("file=shop.yaml&rollbackOnError=true", "file=shop.yaml&dryRun=true&rollbackOnError=true");
    }

    @Test
    void upWithNothingToDoSaysSo() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, NOTHING);
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("applying topology shop from " + f + "…\n"
                + "topology shop is up to date: nothing to do\n");
    }

    @Test
    void upJsonPrintsTheServersReportAndStillExits1WhenNotOk() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, FAILED);
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString(), "-o", "json");
        assertThat(r.code()).isEqualTo(1);
        assertThat(parse(r.out())).isEqualTo(parse(FAILED));
        assertThat(r.err()).isEqualTo("applying topology shop from " + f + "…\n");
    }

    @Test
    void upJsonOkExits0() throws IOException {
        server.json("POST", "/api/v1/topologies", 200, APPLIED);
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString(), "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(APPLIED));
    }

    @Test
    void upValidationErrorIsPrintedAsUsualWithEveryProblemIndented() throws IOException {
        server.json("POST", "/api/v1/topologies", 400, """
                {"error":"shop.yaml:11:56: nodes[0].vms[1].memory: '128Q' is not a size",\
                "detail":"shop.yaml:11:56: nodes[0].vms[1].memory: '128Q' is not a size (e.g. 128M, 1G)\\n\
                shop.yaml:12:66: nodes[0].vms[2].nics[0]: unknown network 'publik' (allowed: public, internal)"}""");
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("applying topology shop from " + f + "…\n");
        assertThat(r.err()).isEqualTo("""
                error: shop.yaml:11:56: nodes[0].vms[1].memory: '128Q' is not a size
                  shop.yaml:11:56: nodes[0].vms[1].memory: '128Q' is not a size (e.g. 128M, 1G)
                  shop.yaml:12:66: nodes[0].vms[2].nics[0]: unknown network 'publik' (allowed: public, internal)
                """);
        assertThat(post().bytes()).isEqualTo(SHOP_YAML.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void upOfAMissingFileSendsNothing() {
        Path f = dir.resolve("nope.yaml");
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: cannot read " + f + ": no such file\n");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void upOfADirectorySendsNothing() {
        CliRun r = CliRun.run(server.url(), "up", "-f", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: cannot read " + dir + ": it is a directory\n");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void upWithoutAFileIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "up");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--file=FILE'");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void upBadTimeoutIsAUsageError() throws IOException {
        Path f = file("shop.yaml", SHOP_YAML);
        CliRun r = CliRun.run(server.url(), "up", "-f", f.toString(), "--timeout", "soon");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("'soon' is not a duration");
        assertThat(server.requests()).isEmpty();
    }

    /** An SSE stream as the server writes it: the events, then open until the test ends. */
    private FakeServer.Handler events(String... data) {
        return (req, ex) -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            os.write(": connected\n\n".getBytes(StandardCharsets.UTF_8));
            for (String d : data) {
                String type = parse(d).path("type").asText();
                os.write(("event: " + type + "\nid: 1\ndata: " + d + "\n\n").getBytes(StandardCharsets.UTF_8));
            }
            os.flush();
            testOver.await(20, TimeUnit.SECONDS);
        };
    }

    private static String event(String type, String name, String message) {
        return "{\"seq\":1,\"type\":\"" + type + "\",\"vmId\":null,\"name\":\"" + name + "\",\"from\":null,\"state\":null,"
                + "\"message\":\"" + message + "\",\"at\":\"2026-11-28T10:00:00Z\"}";
    }

    /** Answers once {@code out} shows {@code expected} (the progress arrived while the request ran). */
    private static FakeServer.Handler answerAfter(StringWriter out, String expected, String body) {
        return (req, ex) -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!out.toString().contains(expected) && System.nanoTime() < deadline) Thread.sleep(10);
            FakeServer.reply(ex, 200, "application/json", body);
        };
    }

    private CliRun runAsync(StringWriter out, String... args) throws Exception {
        StringWriter err = new StringWriter();
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> VmctlCli.run(args,
                new ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(err),
                Map.of("VMCTL_URL", server.url())));
        return new CliRun(code.get(20, TimeUnit.SECONDS), out.toString(), err.toString());
    }

    @Test
    void upPrintsTheTopologysProgressEventsWhileItRuns() throws Exception {
        StringWriter out = new StringWriter();
        server.on("GET", "/api/v1/events", events(
                event("topology.progress", "shop", "applying 5 change(s) with up to 4 boots at once"),
                event("topology.progress", "other", "not ours"),
                event("state", "shop-svc-api", "booting"),
                event("topology.progress", "shop", "1/3 VMs running (shop-svc-cache)")));
        server.on("POST", "/api/v1/topologies", answerAfter(out, "1/3 VMs running", APPLIED));
        Path f = file("shop.yaml", SHOP_YAML);

        CliRun r = runAsync(out, "up", "-f", f.toString());

        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("""
                applying topology shop from %s…
                  applying 5 change(s) with up to 4 boots at once
                  1/3 VMs running (shop-svc-cache)
                + create network shop-public 198.18.1.0/24 """.formatted(f))
                .endsWith("topology shop: 5 change(s) applied in 4.3 s\n")
                .doesNotContain("not ours", "booting");
        assertThat(server.requests("GET", "/api/v1/events").getFirst().header("Accept")).isEqualTo("text/event-stream");
    }

    @Test
    void upJsonSendsProgressToStderr() throws Exception {
        StringWriter err = new StringWriter();
        server.on("GET", "/api/v1/events", events(event("topology.progress", "shop", "2/3 VMs running (shop-svc-api)")));
        server.on("POST", "/api/v1/topologies", answerAfter(err, "2/3 VMs running", APPLIED));
        Path f = file("shop.yaml", SHOP_YAML);
        StringWriter out = new StringWriter();
        int code = CompletableFuture.supplyAsync(() -> VmctlCli.run(new String[]{"up", "-f", f.toString(), "-o", "json"},
                new ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(err),
                Map.of("VMCTL_URL", server.url()))).get(20, TimeUnit.SECONDS);
        assertThat(code).isZero();
        assertThat(parse(out.toString())).isEqualTo(parse(APPLIED));
        assertThat(err.toString()).isEqualTo("applying topology shop from " + f + "…\n  2/3 VMs running (shop-svc-api)\n");
    }

    @Test
    void upWithoutANameInTheFileShowsEveryTopologysProgress() throws Exception {
        StringWriter out = new StringWriter();
        server.on("GET", "/api/v1/events", events(
                event("topology.progress", "other", "destroying 2 element(s)"),
                event("topology.progress", "shop", "1/3 VMs running (shop-svc-cache)")));
        server.on("POST", "/api/v1/topologies", answerAfter(out, "1/3 VMs running", NOTHING));
        Path f = file("shop.yaml", "nodes: []\n  name: indented\n");

        CliRun r = runAsync(out, "up", "-f", f.toString());

        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                applying topology from %s…
                  other: destroying 2 element(s)
                  shop: 1/3 VMs running (shop-svc-cache)
                topology shop is up to date: nothing to do
                """.formatted(f));
    }

    @Test
    void theTopologyNameIsReadCheaplyFromTheFile() {
        assertThat(UpCommand.topologyName(SHOP_YAML)).isEqualTo("shop");
        assertThat(UpCommand.topologyName("# name: comment\n---\nkind: Topology\nname: \"lab\"  # quoted\n")).isEqualTo("lab");
        assertThat(UpCommand.topologyName("name: 'a b'\nname: second\n")).isEqualTo("a b");
        assertThat(UpCommand.topologyName("\uFEFFname: shop # comment\r\nkind: Topology\r\n")).isEqualTo("shop");
        assertThat(UpCommand.topologyName("{\"apiVersion\":\"vmctl/v1\",\"nodes\":[{\"name\":\"svc\"}],\"name\":\"json\"}")).isEqualTo("json");
        assertThat(UpCommand.topologyName("nodes:\n  - name: svc\n")).isNull();
        assertThat(UpCommand.topologyName("name:\n")).isNull();
        assertThat(UpCommand.topologyName("name: {x: 1}\n")).isNull();
        assertThat(UpCommand.topologyName("")).isNull();
    }

    // --- down ----------------------------------------------------------------------------------------

    @Test
    void downDeletesTheTopologyAndShowsTheReport() {
        server.json("DELETE", "/api/v1/topologies/shop", 200, DESTROYED.replace("\"ok\":true", "\"ok\":false"));
        CliRun r = CliRun.run(server.url(), "down", "shop");
        assertThat(r.code()).isEqualTo(1);
        assertThat(server.requests("DELETE", "/api/v1/topologies/shop")).singleElement()
                .extracting(FakeServer.Request::query).isNull();
        assertThat(r.out()).isEqualTo("""
                destroying topology shop…
                - delete vm shop-svc-api   done 900ms
                - delete network public    done 40ms
                - delete network internal  failed
                    network internal is in use by vm x (eth0)
                topology shop: 3 element(s) destroyed in 1.2 s
                """);
    }

    @Test
    void downOkExits0AndJsonPassesThrough() {
        server.json("DELETE", "/api/v1/topologies/shop", 200, DESTROYED);
        assertThat(CliRun.run(server.url(), "down", "shop").code()).isZero();
        CliRun r = CliRun.run(server.url(), "down", "shop", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(DESTROYED));
        assertThat(r.err()).isEqualTo("destroying topology shop…\n");
    }

    @Test
    void downOfAnUnknownTopology() {
        server.json("DELETE", "/api/v1/topologies/nope", 404, "{\"error\":\"topology not found: nope\",\"detail\":\"known topologies: shop\"}");
        CliRun r = CliRun.run(server.url(), "down", "nope");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: topology not found: nope\n  known topologies: shop\n");
    }

    @Test
    void downPrintsItsTopologysProgress() throws Exception {
        StringWriter out = new StringWriter();
        server.on("GET", "/api/v1/events", events(
                event("topology.progress", "shop", "destroying 3 element(s)"),
                event("topology.progress", "shopping", "not ours")));
        server.on("DELETE", "/api/v1/topologies/shop", answerAfter(out, "destroying 3", DESTROYED));
        CliRun r = runAsync(out, "down", "shop");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("destroying topology shop…\n  destroying 3 element(s)\n- delete vm shop-svc-api ")
                .doesNotContain("not ours");
    }

    // --- topo ----------------------------------------------------------------------------------------

    @Test
    void topoLsTable() {
        server.json("GET", "/api/v1/topologies", 200, "[" + SHOP + "," + LAB + "]");
        CliRun r = CliRun.run(server.url(), "topo", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME  STATE    NODES  VMS  NETWORKS              APPLIED
                shop  RUNNING  svc    3    public,internal       2026-11-28T10:00:00Z
                lab   ERROR    db     2    seg-a,seg-b,isolated  2026-11-28T11:30:00Z
                """);
    }

    @Test
    void topoLsEmptyAndJson() {
        server.json("GET", "/api/v1/topologies", 200, "[]");
        assertThat(CliRun.run(server.url(), "topo", "list").out()).isEqualTo("NAME  STATE  NODES  VMS  NETWORKS  APPLIED\n");
        server.json("GET", "/api/v1/topologies", 200, "[" + SHOP + "]");
        CliRun r = CliRun.run(server.url(), "topo", "ls", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse("[" + SHOP + "]"));
    }

    @Test
    void topoShowTable() {
        server.json("GET", "/api/v1/topologies/lab", 200, LAB);
        CliRun r = CliRun.run(server.url(), "topo", "show", "lab");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                name:      lab
                file:      routed-lab.yaml
                state:     ERROR
                applied:   2026-11-28T11:30:00Z
                networks:  seg-a,seg-b,isolated
                routers:   core
                node db: ERROR
                  VM              NAME     ROLE        STATE    IPS
                  lab-db-primary  primary  db-primary  ERROR    198.18.12.10
                  lab-db-replica  replica  db-replica  STOPPED  -
                  error (lab-db-primary): qemu exited with status 1 no kvm
                """);
    }

    @Test
    void topoShowJsonAndNotFound() {
        server.json("GET", "/api/v1/topologies/shop", 200, SHOP);
        CliRun r = CliRun.run(server.url(), "topo", "show", "shop", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(SHOP));

        server.json("GET", "/api/v1/topologies/nope", 404, "{\"error\":\"topology not found: nope\"}");
        CliRun missing = CliRun.run(server.url(), "topo", "show", "nope");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("error: topology not found: nope\n");
    }

    @Test
    void topoWithoutSubcommandIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "topo");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required subcommand", "ls", "show");
    }

    // --- node ----------------------------------------------------------------------------------------

    @Test
    void nodeLsTable() {
        server.json("GET", "/api/v1/nodes", 200, "[" + SVC + "," + DB + "]");
        CliRun r = CliRun.run(server.url(), "node", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NODE      STATE    VMS
                shop/svc  RUNNING  shop-svc-api,shop-svc-cache,shop-svc-gateway
                lab/db    ERROR    lab-db-primary,lab-db-replica
                """);
    }

    @Test
    void nodeShow() {
        server.json("GET", "/api/v1/nodes/shop/svc", 200, SVC);
        CliRun r = CliRun.run(server.url(), "node", "show", "shop/svc");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                node:   shop/svc
                state:  RUNNING
                vms:
                  VM                NAME     ROLE         STATE    IPS
                  shop-svc-api      api      api-handler  RUNNING  198.18.1.2,198.18.2.2
                  shop-svc-cache    cache    db-cache     RUNNING  198.18.2.3
                  shop-svc-gateway  gateway  external-gw  RUNNING  198.18.1.3
                """);
        CliRun json = CliRun.run(server.url(), "node", "show", "shop/svc", "-o", "json");
        assertThat(parse(json.out())).isEqualTo(parse(SVC));
    }

    @Test
    void nodeStartPostsAndPrintsTheNode() {
        server.json("POST", "/api/v1/nodes/shop/svc/start", 200, SVC);
        CliRun r = CliRun.run(server.url(), "node", "start", "shop/svc");
        assertThat(r.code()).isZero();
        assertThat(server.requests()).singleElement().satisfies(req -> {
            assertThat(req.method()).isEqualTo("POST");
            assertThat(req.path()).isEqualTo("/api/v1/nodes/shop/svc/start");
            assertThat(req.query()).isNull();
            assertThat(req.body()).isEmpty();
        });
        assertThat(r.out()).startsWith("starting node shop/svc…\nstarted node shop/svc in ")
                .contains("\nnode:   shop/svc\nstate:  RUNNING\nvms:\n", "  shop-svc-api      api      api-handler  RUNNING");
    }

    @Test
    void nodeStopPostsAndPrintsTheNode() {
        server.json("POST", "/api/v1/nodes/shop/svc/stop", 200, SVC_STOPPED);
        CliRun r = CliRun.run(server.url(), "node", "stop", "shop/svc");
        assertThat(r.code()).isZero();
        assertThat(server.requests()).singleElement().extracting(FakeServer.Request::path).isEqualTo("/api/v1/nodes/shop/svc/stop");
        assertThat(r.out()).startsWith("stopping node shop/svc…\nstopped node shop/svc in ").contains("state:  STOPPED\n");
    }

    @Test
    void nodeRmDeletesAndNamesWhatIsGone() {
        server.json("DELETE", "/api/v1/nodes/shop/svc", 200, SVC);
        CliRun r = CliRun.run(server.url(), "node", "rm", "shop/svc");
        assertThat(r.code()).isZero();
        assertThat(server.requests()).singleElement().extracting(FakeServer.Request::method).isEqualTo("DELETE");
        assertThat(r.out()).isEqualTo("removing node shop/svc…\n"
                + "removed node shop/svc (3 VMs: shop-svc-api,shop-svc-cache,shop-svc-gateway)\n");
        CliRun json = CliRun.run(server.url(), "node", "remove", "shop/svc", "-o", "json");
        assertThat(parse(json.out())).isEqualTo(parse(SVC));
        assertThat(json.err()).isEqualTo("removing node shop/svc…\n");
    }

    @Test
    void nodeStartFailureIsPrintedAsUsual() {
        server.json("POST", "/api/v1/nodes/lab/db/start", 500,
                "{\"error\":\"start node lab/db: lab-db-primary: ERROR qemu exited\",\"detail\":\"the VMs after it in start order were not started\"}");
        CliRun r = CliRun.run(server.url(), "node", "start", "lab/db");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("starting node lab/db…\n");
        assertThat(r.err()).isEqualTo("error: start node lab/db: lab-db-primary: ERROR qemu exited\n"
                + "  the VMs after it in start order were not started\n");
    }

    @Test
    void nodeCloneSendsSnapshotNameAndNetsAndWaitsOnTheServer() throws Exception {
        String svc2 = SVC.replace("\"svc\"", "\"svc2\"").replace("shop-svc-", "shop-svc2-");
        server.json("POST", "/api/v1/nodes/shop/svc/clone", 201, svc2);
        CliRun r = CliRun.run(server.url(), "node", "clone", "shop/svc", "--snapshot", "svc-warm", "--name", "svc2",
                "--net", "public=lab-public", "--net", "internal=lab-internal", "--wait", "--timeout", "90s");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(server.requests()).singleElement().satisfies(req -> {
            assertThat(req.method()).isEqualTo("POST");
            assertThat(req.query()).isEqualTo("wait=true&timeout=90");
            assertThat(parse(req.body())).isEqualTo(parse("""
                    {"snapshot":"svc-warm","name":"svc2","nets":{"public":"lab-public","internal":"lab-internal"}}"""));
        });
        assertThat(r.out()).startsWith("cloning node shop/svc as shop/svc2 from snapshot svc-warm…\ncloned node shop/svc as shop/svc2 in ")
                .contains("node:   shop/svc2\nstate:  RUNNING\n", "  shop-svc2-api ");
        CliRun json = CliRun.run(server.url(), "node", "clone", "shop/svc", "--snapshot", "svc-warm", "--name", "svc2", "-o", "json");
        assertThat(parse(json.out())).isEqualTo(parse(svc2));
        assertThat(server.requests().get(1).query()).isNull();
        assertThat(parse(server.requests().get(1).body())).isEqualTo(parse("{\"snapshot\":\"svc-warm\",\"name\":\"svc2\"}"));
    }

    @Test
    void nodeCloneErrorsExit1FromTheServerAnd2ForUsage() {
        server.json("POST", "/api/v1/nodes/shop/svc/clone", 409,
                "{\"error\":\"node shop/svc2 already exists\",\"detail\":\"choose another name, or remove it first: vmctl node rm shop/svc2\"}");
        CliRun r = CliRun.run(server.url(), "node", "clone", "shop/svc", "--snapshot", "s", "--name", "svc2");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: node shop/svc2 already exists\n  choose another name, or remove it first: vmctl node rm shop/svc2\n");
        int sent = server.requests().size();
        assertThat(CliRun.run(server.url(), "node", "clone", "shop/svc", "--name", "svc2").code()).as("no --snapshot").isEqualTo(2);
        assertThat(CliRun.run(server.url(), "node", "clone", "shop/svc", "--snapshot", "s", "--name", "x", "--net", "public").code())
                .as("--net without =").isEqualTo(2);
        assertThat(CliRun.run(server.url(), "node", "clone", "svc", "--snapshot", "s", "--name", "x").code()).as("not TOPO/NODE").isEqualTo(2);
        assertThat(server.requests()).hasSize(sent);
    }

    @Test
    void nodeCloneThatDidNotGetToRunningExits1() {
        server.json("POST", "/api/v1/nodes/shop/svc/clone", 201, SVC.replace("\"svc\"", "\"svc2\"").replace("\"RUNNING\"", "\"PREPARING\""));
        CliRun r = CliRun.run(server.url(), "node", "clone", "shop/svc", "--snapshot", "s", "--name", "svc2", "--wait", "--timeout", "5s");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("error: node shop/svc2 is PREPARING, not RUNNING, after 5s");
    }

    @Test
    void nodeNamesAreEncoded() {
        server.json("GET", "/api/v1/nodes/my shop/svc 1", 200, SVC);
        CliRun r = CliRun.run(server.url(), "node", "show", "my shop/svc 1");
        assertThat(r.code()).isZero();
    }

    @Test
    void aNodeMustBeTopologySlashNode() {
        for (String bad : new String[]{"svc", "shop/", "/svc", "shop/svc/x", "/"}) {
            for (String verb : new String[]{"show", "start", "stop", "rm"}) {
                CliRun r = CliRun.run(server.url(), "node", verb, bad);
                assertThat(r.code()).as(verb + " " + bad).isEqualTo(2);
                assertThat(r.err()).isEqualTo("error: a node is named TOPOLOGY/NODE, e.g. shop/svc (got '" + bad + "')\n");
                assertThat(r.out()).isEmpty();
            }
        }
        assertThat(server.requests()).isEmpty();
    }

    /** The query without its base= parameter (the file's directory, a temporary one here). */
    static String withoutBase(String query) {
        return query.replaceAll("&base=[^&]*", "");
    }
}
