package dev.vmctl.gui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Dialog;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.BoundingBox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end in a real headless Chromium against a real vmctl server with real VMs: design two VMs on one
 * network by drag and drop, see the API's validation message for a bad property, deploy, see both RUNNING,
 * take a link down and up (and impair it), run a command in a VM, destroy. And a scenario: edited with its problems
 * at their lines, run against a deployed topology with its live timeline, the fault it holds marked in the live view,
 * its verdict, history and reports. Screenshots in target/screenshots.
 */
class GuiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String TOPO = "guit";
    private static final String VM1 = TOPO + "-main-vm1";
    private static final String VM2 = TOPO + "-main-vm2";

    static Path dataDir;
    static Path userDataDir;
    static Process server;
    static URI api;
    static GuiServer gui;
    static Playwright playwright;
    static BrowserContext browser;
    static Page page;
    static Path shots;
    static int shot;

    @BeforeAll
    static void start() throws Exception {
        Path jar = Path.of(System.getProperty("vmctl.jar", "../app/target/vmctl.jar"));
        assertThat(jar).as("the vmctl launcher jar (build the app module first)").isRegularFile();
        dataDir = Files.createTempDirectory("vmctl-gui-it");
        int port;
        try (ServerSocket s = new ServerSocket(0)) { port = s.getLocalPort(); }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        server = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(),
                "serve", "--data-dir", dataDir.toString(), "--port", String.valueOf(port))
                .redirectErrorStream(true).redirectOutput(dataDir.resolve("server.log").toFile()).start();
        api = URI.create("http://127.0.0.1:" + port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if (send("GET", "/api/v1/host", null, Duration.ofSeconds(2)).statusCode() == 200) break;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !server.isAlive()) throw new IllegalStateException("vmctl server did not start: " + Files.readString(dataDir.resolve("server.log")), e);
                Thread.sleep(200);
            }
        }
        var built = send("POST", "/api/v1/images/tiny/build?kernel=" + System.getProperty("vmctl.it.kernel", "vmctl"), null, Duration.ofMinutes(30));
        assertThat(built.statusCode()).as(built.body()).isEqualTo(200);

        gui = new GuiServer(Path.of(System.getProperty("gui.dir", "target/classes/dev/vmctl/gui")), api);
        shots = Path.of(System.getProperty("screenshots.dir", "target/screenshots"));
        Files.createDirectories(shots);
        try (Stream<Path> old = Files.list(shots)) { old.forEach(p -> p.toFile().delete()); }

        playwright = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        userDataDir = Files.createTempDirectory("vmctl-gui-chromium");
        browser = playwright.chromium().launchPersistentContext(userDataDir, new BrowserType.LaunchPersistentContextOptions()
                .setExecutablePath(Path.of(System.getProperty("chromium.path", "/usr/bin/chromium")))
                .setHeadless(true)
                .setViewportSize(1600, 1000)
                .setArgs(List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync")));
        browser.setDefaultTimeout(30_000);
        page = browser.pages().isEmpty() ? browser.newPage() : browser.pages().getFirst();
        page.onConsoleMessage(m -> { if ("error".equals(m.type())) System.err.println("[browser] " + m.text()); });

        // log in as a person does: the URL scripts/run prints, opened once; the token leaves the address bar and a
        // session cookie (HttpOnly, SameSite=Strict) carries it from then on (cookies are per host, so the test's GUI
        // server on another port of 127.0.0.1 sends it too, and forwards it to the API)
        page.navigate(api + "/?token=" + token());
        org.assertj.core.api.Assertions.assertThat(page.url()).isEqualTo(api + "/");
        var session = browser.cookies().stream().filter(c -> c.name.equals("vmctl_session")).findFirst().orElseThrow();
        org.assertj.core.api.Assertions.assertThat(session.httpOnly).isTrue();
        org.assertj.core.api.Assertions.assertThat(session.sameSite).isEqualTo(com.microsoft.playwright.options.SameSiteAttribute.STRICT);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (browser != null) browser.close();
            if (playwright != null) playwright.close();
        } finally {
            try {
                if (server != null && server.isAlive()) {
                    // whatever the test left behind
                    try { send("DELETE", "/api/v1/topologies/" + TOPO, null, Duration.ofMinutes(2)); } catch (Exception ignored) { }
                    for (JsonNode vm : JSON.readTree(send("GET", "/api/v1/vms", null, Duration.ofSeconds(10)).body())) {
                        send("DELETE", "/api/v1/vms/" + vm.path("id").asText() + "?force=true", null, Duration.ofMinutes(1));
                    }
                }
            } finally {
                if (gui != null) gui.close();
                if (server != null) {
                    server.destroy();
                    if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor();
                }
                for (Path d : new Path[] {dataDir, userDataDir}) {
                    if (d != null) try (Stream<Path> w = Files.walk(d)) { w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete()); }
                }
            }
        }
    }

    @Test
    void designDeployOperateDestroy() throws Exception {
        int octet = ThreadLocalRandom.current().nextInt(100, 250);
        String subnet = "198.18." + octet + ".0/24";

        page.navigate(gui.uri() + "/#/dashboard");
        assertThat(page.getByTestId("dashboard")).isVisible();
        assertThat(page.getByTestId("count-total")).hasAttribute("data-count", "0");
        screenshot("dashboard-empty");

        // design: a network and two VMs dragged from the palette, connected by drawing edges
        page.getByTestId("tab-designer").click();
        page.getByTestId("btn-new").click();
        page.getByTestId("design-name").fill(TOPO);
        Locator canvas = page.getByTestId("designer-canvas");
        page.getByTestId("palette-network").dragTo(canvas, new Locator.DragToOptions().setTargetPosition(380, 80));
        page.getByTestId("palette-vm").dragTo(canvas, new Locator.DragToOptions().setTargetPosition(220, 330));
        page.getByTestId("palette-vm").dragTo(canvas, new Locator.DragToOptions().setTargetPosition(560, 330));
        assertThat(page.getByTestId("d-network-net1")).isVisible();
        assertThat(page.getByTestId("d-vm-vm1")).isVisible();
        assertThat(page.getByTestId("d-vm-vm2")).isVisible();

        page.getByTestId("d-network-net1").click();
        page.getByTestId("prop-subnet").fill(subnet);
        drawEdge("vm1", "net1");
        drawEdge("vm2", "net1");
        assertThat(page.locator(".react-flow__edge")).hasCount(2);
        assertThat(page.getByTestId("validation-status")).hasAttribute("data-status", "valid");
        screenshot("designed");

        // an invalid property shows the API's message next to the field
        page.getByTestId("d-vm-vm1").click();
        page.getByTestId("prop-memory").fill("12X");
        assertThat(page.getByTestId("err-memory")).containsText("nodes[0].vms[0].memory: '12X' is not a size");
        assertThat(page.getByTestId("validation-status")).hasAttribute("data-status", "invalid");
        screenshot("invalid-memory");
        page.getByTestId("prop-memory").fill("96M");
        assertThat(page.getByTestId("err-memory")).hasCount(0);
        assertThat(page.getByTestId("validation-status")).hasAttribute("data-status", "valid");

        // deploy, with progress
        page.getByTestId("btn-deploy").click();
        assertThat(page.getByTestId("deploy-progress")).isVisible();
        assertThat(page.getByTestId("deploy-report")).hasAttribute("data-ok", "true", new com.microsoft.playwright.assertions.LocatorAssertions.HasAttributeOptions().setTimeout(240_000));
        screenshot("deployed");

        // dashboard: both RUNNING, counted, updated live
        page.getByTestId("tab-dashboard").click();
        assertThat(page.getByTestId("vm-row-" + VM1)).hasAttribute("data-state", "RUNNING", longWait());
        assertThat(page.getByTestId("vm-row-" + VM2)).hasAttribute("data-state", "RUNNING", longWait());
        assertThat(page.getByTestId("count-RUNNING")).hasAttribute("data-count", "2");
        assertThat(page.getByTestId("topo-row-" + TOPO)).isVisible();
        assertThat(page.getByTestId("node-row-" + TOPO + "-main")).isVisible();
        assertThat(page.getByTestId("sse-status")).hasAttribute("data-status", "live");
        assertThat(page.getByTestId("vm-spark-" + VM1).locator("canvas")).hasCount(1); // uPlot sparkline of its CPU
        screenshot("dashboard-running");

        // live view: nodes colored by state, edges by link state
        page.getByTestId("topo-live-" + TOPO).click();
        assertThat(page.getByTestId("live-vm-" + VM1)).hasAttribute("data-state", "RUNNING", longWait());
        assertThat(page.getByTestId("live-vm-" + VM2)).hasAttribute("data-state", "RUNNING", longWait());
        Locator edge1 = page.getByTestId("rf__edge-nic:" + VM1 + ":eth0");
        assertThat(edge1).hasClass(java.util.regex.Pattern.compile("link-up"));
        screenshot("live-running");

        page.getByTestId("link-down-" + VM1 + "-eth0").click();
        assertThat(page.getByTestId("link-" + VM1 + "-eth0")).hasAttribute("data-link-state", "down");
        assertThat(edge1).hasClass(java.util.regex.Pattern.compile("link-down"));
        assertThat(nic(VM1).path("link").asText()).isEqualTo("down");
        screenshot("link-down");

        page.getByTestId("link-up-" + VM1 + "-eth0").click();
        assertThat(page.getByTestId("link-" + VM1 + "-eth0")).hasAttribute("data-link-state", "up");
        assertThat(edge1).hasClass(java.util.regex.Pattern.compile("link-up"));
        assertThat(nic(VM1).path("link").asText()).isEqualTo("up");
        screenshot("link-up");

        // impair through the edge's right-click menu, then clear
        // (the edge is routed by ELK with bends: the centre of its box need not lie on the line; its label opens the same menu)
        page.getByTestId("edge-label-nic:" + VM1 + ":eth0").click(new Locator.ClickOptions().setButton(com.microsoft.playwright.options.MouseButton.RIGHT));
        assertThat(page.getByTestId("context-menu")).isVisible();
        page.getByTestId("menu-impair-" + VM1 + "-eth0").click();
        assertThat(page.getByTestId("link-" + VM1 + "-eth0")).hasAttribute("data-link-state", "impaired");
        assertThat(edge1).hasClass(java.util.regex.Pattern.compile("link-impaired"));
        screenshot("link-impaired");
        page.getByTestId("link-clear-" + VM1 + "-eth0").click();
        assertThat(page.getByTestId("link-" + VM1 + "-eth0")).hasAttribute("data-link-state", "up");

        // VM detail: NICs with addresses, exec
        page.getByTestId("row-detail-" + VM2).click();
        assertThat(page.getByTestId("vm-detail-state")).hasText("RUNNING");
        assertThat(page.getByTestId("vm-nic-eth0")).containsText("198.18." + octet + ".");
        assertThat(page.getByTestId("console")).containsText("VMCTL_READY", new com.microsoft.playwright.assertions.LocatorAssertions.ContainsTextOptions().setTimeout(60_000));
        page.getByTestId("exec-input").fill("cat /proc/sys/kernel/hostname");
        page.getByTestId("exec-run").click();
        assertThat(page.getByTestId("exec-output")).hasAttribute("data-exit", "0", longWait());
        screenshot("vm-detail");
        // its metrics: uPlot charts of CPU, memory and NIC throughput with samples in them
        assertThat(page.getByTestId("chart-cpu").locator("canvas")).hasCount(1);
        assertThat(page.getByTestId("chart-memory").locator("canvas")).hasCount(1);
        assertThat(page.getByTestId("chart-nic").locator("canvas")).hasCount(1);
        assertThat(page.getByTestId("chart-cpu")).hasAttribute("data-points", java.util.regex.Pattern.compile("^([3-9]|\\d\\d+)$"), longWait());
        page.getByTestId("vm-charts").scrollIntoViewIfNeeded();
        screenshot("vm-metrics");

        // destroy from the designer (the design is kept in the browser)
        page.getByTestId("tab-designer").click();
        assertThat(page.getByTestId("design-name")).hasValue(TOPO);
        page.getByTestId("btn-destroy").click();
        assertThat(page.getByTestId("deploy-report")).hasAttribute("data-ok", "true", longWait());
        page.getByTestId("tab-dashboard").click();
        assertThat(page.getByTestId("topo-row-" + TOPO)).hasCount(0);
        assertThat(page.getByTestId("vm-row-" + VM1)).hasCount(0);
        assertThat(page.getByTestId("count-total")).hasAttribute("data-count", "0");
        // the operations the GUI's calls started, with their outcome
        assertThat(page.locator("[data-testid=operations] tr[data-kind='topology.apply'][data-state=succeeded]").first()).isVisible();
        assertThat(page.locator("[data-testid=operations] tr[data-kind='topology.down'][data-state=succeeded]").first()).isVisible();
        screenshot("destroyed");
        assertThat(JSON.readTree(send("GET", "/api/v1/vms", null, Duration.ofSeconds(10)).body()).size()).isZero();

        // load an existing topology file into the designer (not deployed)
        page.getByTestId("tab-designer").click();
        page.getByTestId("input-load-file").setInputFiles(Path.of(System.getProperty("examples.dir", "../examples"), "shop.yaml"));
        assertThat(page.getByTestId("design-name")).hasValue("shop");
        assertThat(page.getByTestId("d-vm-api")).isVisible();
        assertThat(page.getByTestId("d-vm-cache")).isVisible();
        assertThat(page.getByTestId("d-network-internal")).isVisible();
        assertThat(page.locator(".react-flow__edge")).hasCount(4);
        assertThat(page.getByTestId("validation-status")).hasAttribute("data-status", "valid");
        screenshot("loaded-shop");
    }

    private static final String SCN_TOPO = "guiscn";
    /** A 5 s cut of b's link: a ping from a must fail meanwhile and pass after. */
    private static final String SCENARIO = """
            apiVersion: vmctl/v1
            kind: Scenario
            name: gui-cut
            topology: guiscn
            steps:
              - {at: 0s, fault: {name: cut, duration: 5s, link.down: {vm: main/b, nic: eth0}}}
              - {at: 500ms, check: {name: unreachable, expect: fail, timeout: 2s, ping: {from: main/a, to: main/b}}}
              - {at: 5500ms, check: {name: back, until: 10s, ping: {from: main/a, to: main/b}}}
            """;

    @Test
    void scenarioEditRunTimeline() throws Exception {
        int octet = ThreadLocalRandom.current().nextInt(100, 250);
        var up = send("POST", "/api/v1/topologies?file=" + SCN_TOPO + ".yaml", """
                apiVersion: vmctl/v1
                kind: Topology
                name: %s
                networks:
                  - {name: net1, subnet: 198.18.%d.0/24}
                nodes:
                  - name: main
                    vms:
                      - {name: a, image: tiny, memory: 96M, nics: [net1]}
                      - {name: b, image: tiny, memory: 96M, nics: [net1]}
                """.formatted(SCN_TOPO, octet), Duration.ofMinutes(4));
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        assertThat(JSON.readTree(up.body()).path("ok").asBoolean()).as(up.body()).isTrue();
        String vmB = SCN_TOPO + "-main-b";
        try {
            page.navigate(gui.uri() + "/#/scenarios");
            assertThat(page.getByTestId("scenarios")).isVisible();
            Locator editor = page.getByTestId("scn-editor");

            // a broken version: the problems at their lines (gutter marker, highlighted line, listed; a click moves the cursor there)
            editor.fill(SCENARIO.replace("timeout: 2s, ping:", "timeout: 2s, pign:").replace("at: 5500ms", "at: 5500"));
            assertThat(page.getByTestId("scn-validation")).hasAttribute("data-status", "invalid");
            // the answer for this text (not an earlier one's "invalid"): its problems listed — under load it can take seconds
            assertThat(page.locator("[data-testid=scn-problem][data-line='7']").first()).containsText("pign",
                    new com.microsoft.playwright.assertions.LocatorAssertions.ContainsTextOptions().setTimeout(30_000));
            assertThat(page.getByTestId("scn-editor-line-7")).hasAttribute("data-problem", "true");
            assertThat(page.getByTestId("scn-editor-line-8")).hasAttribute("data-problem", "true");
            assertThat(page.getByTestId("scn-editor-line-6")).not().hasAttribute("data-problem", "true");
            assertThat(page.getByTestId("scn-editor-mark-7")).isVisible();
            assertThat(page.locator("[data-testid=scn-problem][data-line='7']").first()).containsText("pign");
            assertThat(page.locator("[data-testid=scn-problem][data-line='8']").first()).containsText("no unit");
            page.locator("[data-testid=scn-problem][data-line='8']").first().click();
            assertThat(page.getByTestId("scn-cursor")).hasAttribute("data-line", "8");
            page.locator("[data-testid=scn-problem][data-line='7']").first().click();
            assertThat(page.getByTestId("scn-cursor")).hasAttribute("data-line", "7");
            screenshot("scenario-invalid");

            // fixed: valid, and runnable against the deployed topology; saved
            editor.fill(SCENARIO);
            assertThat(page.getByTestId("scn-validation")).hasAttribute("data-status", "valid");
            assertThat(page.getByTestId("scn-problem")).hasCount(0);
            assertThat(page.getByTestId("scn-editor-line-7")).not().hasAttribute("data-problem", "true");
            page.getByTestId("scn-save").click();
            assertThat(page.getByTestId("scn-row-gui-cut")).isVisible();

            // run it against the topology chosen among the deployed ones: the fault's bar appears when applied
            page.getByTestId("scn-topology").selectOption(SCN_TOPO);
            page.getByTestId("scn-run").click();
            Locator current = page.getByTestId("scn-current");
            assertThat(current).hasAttribute("data-verdict", "running");
            Locator cutBar = page.locator("[data-testid=tl-steps-cut][data-shape=bar]");
            assertThat(cutBar).hasAttribute("data-outcome", "applied");
            assertThat(page.getByTestId("scn-abort")).isVisible();
            screenshot("scenario-running");

            // the live view marks the link the run holds cut, and clears it when the fault is reverted
            page.evaluate("() => { location.hash = '#/live/" + SCN_TOPO + "'; }");
            Locator edge = page.getByTestId("rf__edge-nic:" + vmB + ":eth0");
            assertThat(edge).hasClass(java.util.regex.Pattern.compile("scenario-fault fault-down"));
            assertThat(page.getByTestId("link-" + vmB + "-eth0")).hasAttribute("data-fault", "down");
            screenshot("live-scenario-fault");
            assertThat(edge).not().hasClass(java.util.regex.Pattern.compile("scenario-fault"),
                    new com.microsoft.playwright.assertions.LocatorAssertions.HasClassOptions().setTimeout(20_000));

            // back on the Scenarios page: the whole timeline and the verdict
            page.getByTestId("tab-scenarios").click();
            assertThat(current).hasAttribute("data-verdict", "pass", longWait());
            assertThat(page.getByTestId("scn-verdict")).hasText("pass");
            assertThat(cutBar).hasAttribute("data-outcome", "reverted");
            assertThat(page.locator("[data-testid=tl-steps-unreachable][data-shape=dot]")).hasAttribute("data-outcome", "pass");
            assertThat(page.locator("[data-testid=tl-steps-back][data-shape=bar]")).hasAttribute("data-outcome", "pass");
            assertThat(page.getByTestId("scn-abort")).hasCount(0);
            assertThat(page.getByTestId("scn-step-steps-unreachable")).hasAttribute("data-outcome", "pass");
            screenshot("scenario-pass");

            // the history: the run, with reports that the browser can open
            String id = current.getAttribute("data-run");
            assertThat(page.getByTestId("scn-run-row-" + id)).hasAttribute("data-verdict", "pass");
            page.getByTestId("scn-run-row-" + id).click();
            assertThat(current).hasAttribute("data-run", id);
            APIResponse html = page.request().get(gui.uri() + page.getByTestId("scn-run-html-" + id).getAttribute("href"));
            assertThat(html.status()).isEqualTo(200);
            assertThat(html.headers().get("content-type")).startsWith("text/html");
            assertThat(html.text()).contains("<svg").contains("cut").contains("unreachable");
            APIResponse junit = page.request().get(gui.uri() + page.getByTestId("scn-run-junit-" + id).getAttribute("href"));
            assertThat(junit.status()).isEqualTo(200);
            assertThat(junit.text()).contains("<testsuite").contains("unreachable");
            assertThat(page.getByTestId("scn-row-gui-cut")).hasAttribute("data-verdict", "pass");

            // delete the saved scenario (its runs are kept)
            page.onceDialog(Dialog::accept);
            page.getByTestId("scn-delete-gui-cut").click();
            assertThat(page.getByTestId("scn-row-gui-cut")).hasCount(0);
            assertThat(page.getByTestId("scn-run-row-" + id)).isVisible();
        } finally {
            send("DELETE", "/api/v1/topologies/" + SCN_TOPO, null, Duration.ofMinutes(2));
        }
    }

    @Test
    void templateCreatePoolInvokeWithTheTimingSplit() throws Exception {
        int octet = ThreadLocalRandom.current().nextInt(100, 250);
        String topo = "guitpl";
        var up = send("POST", "/api/v1/topologies?file=" + topo + ".yaml", """
                apiVersion: vmctl/v1
                kind: Topology
                name: %s
                networks:
                  - {name: lan, subnet: 198.18.%d.0/24}
                nodes:
                  - name: web
                    vms:
                      - {name: srv, image: tiny, memory: 96M, nics: [lan]}
                """.formatted(topo, octet), Duration.ofMinutes(4));
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        try {
            // an echo service: busybox httpd with a CGI that answers the request's body (the script's lines as arguments: no quoting)
            List<String> argv = List.of("sh", "-c", "mkdir -p /www/cgi-bin && printf '%s\\n' \"$1\" \"$2\" \"$3\" > /www/cgi-bin/echo"
                    + " && chmod +x /www/cgi-bin/echo && httpd -p 8080 -h /www", "sh",
                    "#!/bin/sh", "printf 'Content-Type: text/plain\\r\\n\\r\\n'", "head -c \"$CONTENT_LENGTH\"");
            var exec = send("POST", "/api/v1/vms/" + topo + "-web-srv/exec", JSON.writeValueAsString(java.util.Map.of("argv", argv)), Duration.ofMinutes(1));
            assertThat(exec.statusCode()).as(exec.body()).isEqualTo(200);
            assertThat(JSON.readTree(exec.body()).path("exitCode").asInt()).as(exec.body()).isZero();

            page.navigate(gui.uri() + "/#/templates");
            assertThat(page.getByTestId("templates-table")).isVisible();
            page.getByTestId("template-name").fill("gui-echo");
            page.getByTestId("template-from").selectOption(topo + "/web");
            page.getByTestId("template-port").fill("8080");
            page.getByTestId("template-create").click();
            assertThat(page.getByTestId("template-row-gui-echo")).isVisible(new com.microsoft.playwright.assertions.LocatorAssertions.IsVisibleOptions().setTimeout(120_000));
            assertThat(page.getByTestId("template-detail-gui-echo")).isVisible();

            // invoke with the form: the echoed body, the status and the Server-Timing split as a bar
            page.getByTestId("invoke-path").fill("/cgi-bin/echo");
            page.getByTestId("invoke-body").fill("hello from the gui");
            page.getByTestId("invoke-send").click();
            assertThat(page.getByTestId("invoke-status")).hasText("200", new com.microsoft.playwright.assertions.LocatorAssertions.HasTextOptions().setTimeout(120_000));
            assertThat(page.getByTestId("invoke-body-out")).hasText("hello from the gui");
            assertThat(page.locator("[data-testid=invoke-timing] [data-part=restore]")).hasCount(1);
            assertThat(page.locator("[data-testid=invoke-timing] [data-part=upstream]")).hasCount(1);
            assertThat(page.locator("[data-testid=invocations-table] tbody tr [data-part=restore]").first()).isVisible();
            screenshot("template-invoked");

            // a warm pool of one: the list shows it ready
            page.getByTestId("template-warm").fill("1");
            page.getByTestId("template-set-pool").click();
            assertThat(page.getByTestId("template-pool-gui-echo")).hasText("1/1", new com.microsoft.playwright.assertions.LocatorAssertions.HasTextOptions().setTimeout(120_000));
            page.getByTestId("invoke-send").click();
            assertThat(page.locator("[data-testid=invoke-timing] [data-part=resume]")).hasCount(1, new com.microsoft.playwright.assertions.LocatorAssertions.HasCountOptions().setTimeout(120_000));
            screenshot("template-pooled");

            page.getByTestId("template-remove").click();
            assertThat(page.getByTestId("template-row-gui-echo")).hasCount(0, new com.microsoft.playwright.assertions.LocatorAssertions.HasCountOptions().setTimeout(60_000));
        } finally {
            send("DELETE", "/api/v1/templates/gui-echo", null, Duration.ofMinutes(2));
            send("DELETE", "/api/v1/topologies/" + topo, null, Duration.ofMinutes(2));
        }
    }

    private static final String LAY_TOPO = "guilay";

    /**
     * One 2-node topology (web: a, b; db: c) for the live view's layout, the node page's charts, the designer's
     * "open deployed topology", and a scenario run's charts with its fault shaded.
     */
    @Test
    void laidOutLiveViewNodeChartsDeployedSpecAndRunMetrics() throws Exception {
        int octet = ThreadLocalRandom.current().nextInt(100, 250);
        var up = send("POST", "/api/v1/topologies?file=" + LAY_TOPO + ".yaml", """
                apiVersion: vmctl/v1
                kind: Topology
                name: %s
                networks:
                  - {name: net1, subnet: 198.18.%d.0/24}
                nodes:
                  - name: web
                    vms:
                      - {name: a, image: tiny, memory: 96M, nics: [net1]}
                      - {name: b, image: tiny, memory: 96M, nics: [net1]}
                  - name: db
                    vms:
                      - {name: c, image: tiny, memory: 96M, nics: [net1]}
                """.formatted(LAY_TOPO, octet), Duration.ofMinutes(4));
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        assertThat(JSON.readTree(up.body()).path("ok").asBoolean()).as(up.body()).isTrue();
        Map<String, List<String>> byNode = Map.of("web", List.of(LAY_TOPO + "-web-a", LAY_TOPO + "-web-b"), "db", List.of(LAY_TOPO + "-db-c"));
        try {
            // the spec it was applied from comes back with the topology (and not in the list)
            JsonNode topo = JSON.readTree(send("GET", "/api/v1/topologies/" + LAY_TOPO, null, Duration.ofSeconds(10)).body());
            assertThat(topo.path("spec").asText()).contains("name: " + LAY_TOPO).contains("{name: c, image: tiny");
            for (JsonNode t : JSON.readTree(send("GET", "/api/v1/topologies", null, Duration.ofSeconds(10)).body())) assertThat(t.path("spec").isNull()).isTrue();

            // live view: laid out by ELK, a frame per node around its VMs, no two VM boxes and no two edge labels on each other
            page.navigate(gui.uri() + "/#/live/" + LAY_TOPO);
            for (List<String> vms : byNode.values()) {
                for (String vm : vms) assertThat(page.getByTestId("live-vm-" + vm)).hasAttribute("data-state", "RUNNING", longWait());
            }
            assertThat(page.getByTestId("live-canvas")).hasAttribute("data-layout", "done");
            assertThat(page.locator("[data-testid^='edge-label-nic:']")).hasCount(3);
            assertThat(page.locator("[data-testid^='edge-label-nic:'][data-routed=true]")).hasCount(3);
            assertLaidOut("live-vm-", "live-node-", byNode);
            List<BoundingBox> labels = boxes(page.locator("[data-testid^='edge-label-']"));
            assertNoOverlaps(labels, "edge labels");
            screenshot("live-laid-out");

            // the node page, from the frame's title: the node's charts (sums over its VMs) with samples
            page.getByTestId("live-node-web-link").click();
            assertThat(page.getByTestId("node-detail")).isVisible();
            assertThat(page.getByTestId("node-detail-state")).hasText("RUNNING");
            assertThat(page.getByTestId("node-vm-" + LAY_TOPO + "-web-b")).isVisible();
            assertThat(page.getByTestId("node-chart-cpu").locator("canvas")).hasCount(1);
            assertThat(page.getByTestId("node-chart-memory").locator("canvas")).hasCount(1);
            assertThat(page.getByTestId("node-chart-nic").locator("canvas")).hasCount(1);
            assertThat(page.getByTestId("node-chart-cpu")).hasAttribute("data-points", java.util.regex.Pattern.compile("^[1-9]\\d*$"), longWait());
            screenshot("node-page");

            // the designer opens the deployed topology from the server's spec, laid out with its node boxes
            page.getByTestId("tab-designer").click();
            page.getByTestId("select-open-deployed").selectOption(LAY_TOPO);
            assertThat(page.getByTestId("design-name")).hasValue(LAY_TOPO);
            assertThat(page.getByTestId("designer-canvas")).hasAttribute("data-layout", "done");
            for (String vm : List.of("a", "b", "c")) assertThat(page.getByTestId("d-vm-" + vm)).isVisible();
            assertThat(page.getByTestId("d-node-web")).isVisible();
            assertThat(page.getByTestId("d-node-db")).isVisible();
            assertThat(page.getByTestId("d-network-net1")).isVisible();
            assertThat(page.locator(".react-flow__edge")).hasCount(3);
            assertThat(page.getByTestId("validation-status")).hasAttribute("data-status", "valid");
            assertLaidOut("d-vm-", "d-node-", Map.of("web", List.of("a", "b"), "db", List.of("c")));
            screenshot("designer-opened-deployed");
            // moving a node box moves its VMs with it; a VM dragged out past its box's border stays in it (the box grows)
            // (React Flow starts a drag once the mouse has moved a little: the box moves by a bit less than the mouse)
            BoundingBox c0 = page.getByTestId("d-vm-c").boundingBox(), db0 = page.getByTestId("d-node-db").boundingBox();
            dragBy(page.getByTestId("d-node-db"), 20, 8, 0, 120);
            BoundingBox c1 = page.getByTestId("d-vm-c").boundingBox(), db1 = page.getByTestId("d-node-db").boundingBox();
            assertThat(db1.y - db0.y).as("the node box moved").isGreaterThan(60);
            assertThat(c1.y - c0.y).as("VM c moved as far as its node box").isCloseTo(db1.y - db0.y, org.assertj.core.data.Offset.offset(1.5));
            assertThat(c1.x - c0.x).isCloseTo(db1.x - db0.x, org.assertj.core.data.Offset.offset(1.5));
            BoundingBox a0 = page.getByTestId("d-vm-a").boundingBox(), web0 = page.getByTestId("d-node-web").boundingBox();
            dragBy(page.getByTestId("d-vm-a"), 30, 40, -90, 0);
            BoundingBox a1 = page.getByTestId("d-vm-a").boundingBox();
            assertThat(a1.x - a0.x).as("VM a moved left").isLessThan(-40);
            assertThat(a1.x).as("past its box's old left border").isLessThan(web0.x);
            assertLaidOut("d-vm-", "d-node-", Map.of("web", List.of("a", "b"), "db", List.of("c")));
            assertThat(page.getByTestId("validation-status")).hasAttribute("data-status", "valid");
            screenshot("designer-moved");

            // a scenario run: under its timeline the charts of the VMs it touches, its fault shaded
            var started = send("POST", "/api/v1/scenario-runs", JSON.writeValueAsString(Map.of("text", """
                    apiVersion: vmctl/v1
                    kind: Scenario
                    name: gui-metrics
                    topology: %s
                    steps:
                      - {at: 0s, fault: {name: cut, duration: 4s, link.down: {vm: web/a, nic: eth0}}}
                      - {at: 500ms, check: {name: reach, timeout: 5s, ping: {from: web/b, to: db/c}}}
                    """.formatted(LAY_TOPO))), Duration.ofSeconds(30));
            assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
            String run = JSON.readTree(started.body()).path("id").asText();
            JsonNode done = JSON.readTree(send("GET", "/api/v1/scenario-runs/" + run + "?wait=120", null, Duration.ofMinutes(3)).body());
            assertThat(done.path("verdict").asText()).as(done.toString()).isEqualTo("pass");
            page.navigate(gui.uri() + "/#/scenarios");
            page.getByTestId("scn-run-row-" + run).click();
            assertThat(page.getByTestId("scn-current")).hasAttribute("data-run", run);
            assertThat(page.getByTestId("scn-timeline")).isVisible();
            Locator charts = page.getByTestId("run-charts");
            assertThat(charts).hasAttribute("data-vms", LAY_TOPO + "-web-a " + LAY_TOPO + "-web-b " + LAY_TOPO + "-db-c");
            assertThat(page.getByTestId("run-chart-cpu").locator("canvas")).hasCount(1);
            assertThat(page.getByTestId("run-chart-nic").locator("canvas")).hasCount(1);
            assertThat(page.getByTestId("run-chart-cpu")).hasAttribute("data-shaded", "1");
            assertThat(page.getByTestId("run-chart-cpu")).hasAttribute("data-points", java.util.regex.Pattern.compile("^[1-9]\\d*$"), longWait());
            charts.scrollIntoViewIfNeeded();
            screenshot("scenario-run-metrics");
        } finally {
            send("DELETE", "/api/v1/topologies/" + LAY_TOPO, null, Duration.ofMinutes(2));
        }
    }

    /** Drags with the mouse from (x, y) inside the element by (dx, dy) screen pixels. */
    private static void dragBy(Locator l, double x, double y, double dx, double dy) {
        BoundingBox b = l.boundingBox();
        page.mouse().move(b.x + x, b.y + y);
        page.mouse().down();
        page.mouse().move(b.x + x + dx, b.y + y + dy, new com.microsoft.playwright.Mouse.MoveOptions().setSteps(12));
        page.mouse().up();
    }

    /** VM boxes (test ids prefix + name) pairwise apart, each inside the frame of its node (frame prefix + node). */
    private static void assertLaidOut(String vmPrefix, String framePrefix, Map<String, List<String>> byNode) {
        List<BoundingBox> all = new java.util.ArrayList<>();
        for (var e : byNode.entrySet()) {
            BoundingBox frame = page.getByTestId(framePrefix + e.getKey()).boundingBox();
            assertThat(frame).as("frame of node " + e.getKey()).isNotNull();
            for (String vm : e.getValue()) {
                BoundingBox b = page.getByTestId(vmPrefix + vm).boundingBox();
                assertThat(b).as(vm).isNotNull();
                assertThat(b.x >= frame.x - 0.5 && b.y >= frame.y - 0.5 && b.x + b.width <= frame.x + frame.width + 0.5
                        && b.y + b.height <= frame.y + frame.height + 0.5).as(vm + " inside the frame of " + e.getKey()).isTrue();
                all.add(b);
            }
        }
        assertNoOverlaps(all, vmPrefix + " boxes");
    }

    private static List<BoundingBox> boxes(Locator l) {
        List<BoundingBox> out = new java.util.ArrayList<>();
        for (int i = 0; i < l.count(); i++) out.add(l.nth(i).boundingBox());
        return out;
    }

    private static void assertNoOverlaps(List<BoundingBox> boxes, String what) {
        assertThat(boxes).as(what).hasSizeGreaterThan(1);
        for (int i = 0; i < boxes.size(); i++) {
            for (int j = i + 1; j < boxes.size(); j++) {
                BoundingBox a = boxes.get(i), b = boxes.get(j);
                boolean overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
                assertThat(overlap).as(what + " #" + i + " " + box(a) + " and #" + j + " " + box(b) + " overlap").isFalse();
            }
        }
    }

    private static String box(BoundingBox b) {
        return String.format("[%.0f,%.0f %.0fx%.0f]", b.x, b.y, b.width, b.height);
    }

    private static com.microsoft.playwright.assertions.LocatorAssertions.HasAttributeOptions longWait() {
        return new com.microsoft.playwright.assertions.LocatorAssertions.HasAttributeOptions().setTimeout(180_000);
    }

    /** Draw a React Flow edge from one node's handle to another's, with the mouse. */
    private static void drawEdge(String from, String to) {
        BoundingBox a = page.getByTestId("handle-" + from).boundingBox();
        BoundingBox b = page.getByTestId("handle-" + to).boundingBox();
        page.mouse().move(a.x + a.width / 2, a.y + a.height / 2);
        page.mouse().down();
        page.mouse().move(b.x + b.width / 2, b.y + b.height / 2, new com.microsoft.playwright.Mouse.MoveOptions().setSteps(15));
        page.mouse().up();
    }

    private static JsonNode nic(String vm) throws Exception {
        for (JsonNode v : JSON.readTree(send("GET", "/api/v1/vms", null, Duration.ofSeconds(10)).body())) {
            if (v.path("name").asText().equals(vm)) return v.path("nics").get(0);
        }
        throw new AssertionError("no VM " + vm);
    }

    private static void screenshot(String step) {
        shot++;
        page.screenshot(new Page.ScreenshotOptions().setPath(shots.resolve(String.format("%02d-%s.png", shot, step))));
    }

    /** The admin's token, DATA/admin.token (the server writes it before it answers). */
    private static String token() throws IOException {
        return Files.readString(dataDir.resolve("admin.token")).strip();
    }

    private static HttpResponse<String> send(String method, String path, String body, Duration timeout) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(api.resolve(path)).timeout(timeout)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        b.header("Authorization", "Bearer " + token());
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
