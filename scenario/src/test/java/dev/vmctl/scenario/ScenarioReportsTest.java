package dev.vmctl.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.ScenarioStepResult;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.vmctl.model.ScenarioStepResult.AFTER;
import static dev.vmctl.model.ScenarioStepResult.BEFORE;
import static dev.vmctl.model.ScenarioStepResult.CHECK;
import static dev.vmctl.model.ScenarioStepResult.FAULT;
import static dev.vmctl.model.ScenarioStepResult.STEPS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ScenarioReportsTest {

    static Map<String, Object> m(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static ScenarioStepResult check(int index, String phase, String name, String type, List<String> targets, Long scheduled,
                                    Long started, Long finished, String outcome, String expect, String mode, String message,
                                    Map<String, Object> measured, int attempts, int line) {
        return new ScenarioStepResult(index, phase, CHECK, name, type, targets, scheduled, started, finished, null, outcome,
                expect, mode, message, measured, attempts, List.of(), line);
    }

    /**
     * A run of 10 s (18:00:00 to 18:00:10): steady state before passes, cut-cache takes svc/cache's link down from
     * 2003 to 6010 ms, cache-unreachable (expect fail) passes, api-degrades (expect fail) fails since the ping got
     * through, api-serves (every) passes with 9/10, db-sync is skipped, steady state after passes.
     */
    static ScenarioRun realistic() {
        List<ScenarioStepResult> steps = List.of(
                check(0, BEFORE, "api-up", "http", List.of("svc/web", "svc/api"), 0L, 15L, 42L, "pass", "pass", "once",
                        null, m("status", 200, "bodyExcerpt", "ok"), 1, 8),
                new ScenarioStepResult(1, STEPS, FAULT, "cut-cache", "link.down", List.of("svc/cache"), 2000L, 2003L, 2010L,
                        6010L, "reverted", null, null, null, m("nic", "eth0"), 0, List.of("op-11", "op-12"), 14),
                check(2, STEPS, "cache-unreachable", "ping", List.of("svc/api", "svc/cache"), 3000L, 3012L, 5020L, "pass",
                        "fail", "once", null, m("sent", 3, "received", 0, "lossPct", 100.0), 1, 19),
                check(3, STEPS, "api-degrades", "ping", List.of("svc/web", "svc/api"), 3000L, 3015L, 4020L, "fail", "fail",
                        "once", "the probe succeeded but was expected to fail",
                        m("sent", 5, "received", 5, "lossPct", 0.0, "rttMinMs", 0.312, "rttAvgMs", 0.421, "rttMaxMs", 0.608), 1, 26),
                check(4, STEPS, "api-serves", "http", List.of("svc/web", "svc/api"), 2500L, 2501L, 7500L, "pass", "pass",
                        "every", null, m("status", 200, "attempts", 10, "successes", 9, "successPct", 90.0), 10, 33),
                check(5, STEPS, "db-sync", "exec", List.of("svc/db"), 8000L, null, null, "skipped", "pass", "once",
                        "api-degrades failed (stopOnFail)", null, 0, 41),
                check(6, AFTER, "api-up", "http", List.of("svc/web", "svc/api"), null, 9000L, 9030L, "pass", "pass", "once",
                        null, m("status", 200, "bodyExcerpt", "ok"), 1, 8));
        return new ScenarioRun("run-7", "cache-outage", "shop", ScenarioRun.FAIL, "2026-12-01T18:00:00Z",
                "2026-12-01T18:00:10Z", null, Map.of("cacheNic", "eth0", "api", "svc/api"), 0, "op-10", steps);
    }

    static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    static final XPath XP = XPathFactory.newInstance().newXPath();

    static NodeList nodes(Document d, String xpath) throws Exception {
        return (NodeList) XP.evaluate(xpath, d, XPathConstants.NODESET);
    }

    static Element element(Document d, String xpath) throws Exception {
        NodeList l = nodes(d, xpath);
        assertThat(l.getLength()).as(xpath).isEqualTo(1);
        return (Element) l.item(0);
    }

    static List<String> attrs(NodeList l, String name) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.getLength(); i++) out.add(((Element) l.item(i)).getAttribute(name));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ JUnit

    @Test
    void junitHasOneTestcasePerCheckAndTheRightCounts() throws Exception {
        Document d = parse(ScenarioReports.junit(realistic()));
        Element suite = element(d, "/testsuites/testsuite");
        assertThat(suite.getAttribute("name")).isEqualTo("scenario.cache-outage");
        assertThat(suite.getAttribute("tests")).isEqualTo("6");
        assertThat(suite.getAttribute("failures")).isEqualTo("1");
        assertThat(suite.getAttribute("errors")).isEqualTo("0");
        assertThat(suite.getAttribute("skipped")).isEqualTo("1");
        assertThat(suite.getAttribute("time")).isEqualTo("10.000");
        assertThat(suite.getAttribute("timestamp")).isEqualTo("2026-12-01T18:00:00");
        assertThat(d.getDocumentElement().getAttribute("tests")).isEqualTo("6");

        NodeList cases = nodes(d, "/testsuites/testsuite/testcase");
        assertThat(attrs(cases, "name")).containsExactly("before/api-up", "steps/cache-unreachable", "steps/api-degrades",
                "steps/api-serves", "steps/db-sync", "after/api-up");
        assertThat(attrs(cases, "classname")).containsOnly("scenario.cache-outage");
        assertThat(element(d, "//testcase[@name='steps/api-serves']").getAttribute("time")).isEqualTo("4.999");
        // the fault is no testcase
        assertThat(nodes(d, "//testcase[contains(@name,'cut-cache')]").getLength()).isZero();
        assertThat(nodes(d, "//testcase/failure").getLength()).isEqualTo(1);
        assertThat(nodes(d, "//testcase/error").getLength()).isZero();
        assertThat(nodes(d, "//testcase[@name='steps/db-sync']/skipped").getLength()).isEqualTo(1);
        assertThat(element(d, "//testcase[@name='steps/db-sync']/skipped").getAttribute("message"))
                .isEqualTo("api-degrades failed (stopOnFail)");
        assertThat(nodes(d, "//testcase[@name='steps/cache-unreachable']/*[self::failure or self::error or self::skipped]")
                .getLength()).isZero();
        assertThat(element(d, "//property[@name='var.cacheNic']").getAttribute("value")).isEqualTo("eth0");
    }

    @Test
    void aFailedCheckCarriesTheMeasuredValuesAndTheExpectation() throws Exception {
        Document d = parse(ScenarioReports.junit(realistic()));
        Element failure = element(d, "//testcase[@name='steps/api-degrades']/failure");
        assertThat(failure.getAttribute("type")).isEqualTo("expectation");
        assertThat(failure.getAttribute("message"))
                .contains("the probe succeeded but was expected to fail", "expected fail", "loss 0%", "0.312/0.421/0.608");
        assertThat(failure.getTextContent())
                .contains("expected: fail (once)", "loss 0%", "rtt min/avg/max 0.312/0.421/0.608 ms", "5/5 replies",
                        "lossPct = 0", "rttAvgMs = 0.421", "line 26", "ping svc/web\u2192svc/api");
    }

    @Test
    void theFaultsAreTheSuitesSystemOutAsATimeline() throws Exception {
        Document d = parse(ScenarioReports.junit(realistic()));
        String out = element(d, "/testsuites/testsuite/system-out").getTextContent();
        assertThat(out).contains("+2.003s fault cut-cache link.down svc/cache [nic=eth0] applied \u2026 reverted +6.010s");
        assertThat(out).contains("scenario cache-outage on topology shop: fail", "vars: api=svc/api cacheNic=eth0");
    }

    @Test
    void anAbortedRunsUnfinishedChecksAreErrors() throws Exception {
        ScenarioRun r = realistic();
        List<ScenarioStepResult> steps = new ArrayList<>(r.steps());
        ScenarioStepResult s4 = steps.get(4);
        steps.set(4, new ScenarioStepResult(4, STEPS, CHECK, s4.name(), s4.type(), s4.targets(), 2500L, 2501L, null, null,
                "running", "pass", "every", null, m("attempts", 3, "successes", 3), 3, List.of(), 33));
        steps.set(5, check(5, STEPS, "db-sync", "exec", List.of("svc/db"), 8000L, null, null, "pending", "pass", "once",
                null, null, 0, 41));
        steps.set(6, check(6, AFTER, "api-up", "http", List.of("svc/web", "svc/api"), null, null, null, "pending", "pass",
                "once", null, null, 0, 8));
        ScenarioRun aborted = new ScenarioRun(r.id(), r.scenario(), r.topology(), ScenarioRun.ABORTED, r.startedAt(),
                "2026-12-01T18:00:05Z", "aborted by a user", r.vars(), 0, r.operation(), steps);
        Document d = parse(ScenarioReports.junit(aborted));
        Element suite = element(d, "/testsuites/testsuite");
        assertThat(suite.getAttribute("tests")).isEqualTo("6");
        assertThat(suite.getAttribute("failures")).isEqualTo("1");
        assertThat(suite.getAttribute("errors")).isEqualTo("3");
        assertThat(suite.getAttribute("skipped")).isEqualTo("0");
        NodeList errors = nodes(d, "//testcase/error");
        assertThat(attrs(errors, "message")).containsOnly("run aborted: aborted by a user");
        assertThat(attrs(errors, "type")).containsOnly("aborted");
        assertThat(element(d, "//testcase[@name='steps/api-serves']/error").getTextContent())
                .contains("run aborted: aborted by a user (the check was running)", "3/3 as expected");
        assertThat(nodes(d, "//testcase[@name='after/api-up']/error").getLength()).isEqualTo(1);
        // a check that did finish keeps its outcome
        assertThat(nodes(d, "//testcase[@name='before/api-up']/*[self::error or self::failure]").getLength()).isZero();
    }

    @Test
    void aCheckThatCouldNotRunIsAnErrorAndARunningRunsPendingChecksAreSkipped() throws Exception {
        ScenarioRun r = realistic();
        List<ScenarioStepResult> steps = new ArrayList<>(r.steps());
        steps.set(2, check(2, STEPS, "cache-unreachable", "ping", List.of("svc/api", "svc/cache"), 3000L, 3012L, 3013L,
                "error", "fail", "once", "svc/api has no guest agent", null, 0, 19));
        steps.set(6, check(6, AFTER, "api-up", "http", List.of("svc/web", "svc/api"), null, null, null, "pending", "pass",
                "once", null, null, 0, 8));
        ScenarioRun running = new ScenarioRun(r.id(), r.scenario(), r.topology(), ScenarioRun.RUNNING, r.startedAt(), null,
                null, r.vars(), 1, r.operation(), steps);
        Document d = parse(ScenarioReports.junit(running));
        Element error = element(d, "//testcase[@name='steps/cache-unreachable']/error");
        assertThat(error.getAttribute("message")).isEqualTo("svc/api has no guest agent");
        assertThat(element(d, "//testcase[@name='after/api-up']/skipped").getAttribute("message")).contains("still running");
        Element suite = element(d, "/testsuites/testsuite");
        assertThat(suite.getAttribute("errors")).isEqualTo("1");
        assertThat(suite.getAttribute("skipped")).isEqualTo("2");
        assertThat(suite.getAttribute("time")).isEqualTo("8.000"); // no finishedAt: the latest time a step reached
    }

    // ------------------------------------------------------------------------------------------------ HTML

    @Test
    void theHtmlIsSelfContainedAndWellFormed() throws Exception {
        String html = ScenarioReports.html(realistic());
        assertThat(html).startsWith("<!DOCTYPE html>");
        assertThat(html.split("<svg", -1)).hasSize(2);
        assertThat(html).doesNotContain("src=", "href=\"http", "href='http", "<link", "<script", "url(", "@import");
        assertThat(html.chars().allMatch(c -> c < 0x7F)).as("pure ASCII").isTrue();
        Document d = parse(html); // well-formed as XML, too
        assertThat(element(d, "//span[contains(@class,'verdict')]").getTextContent()).isEqualTo("FAIL");
        assertThat(element(d, "//span[contains(@class,'verdict')]").getAttribute("class")).isEqualTo("verdict v-fail");
        assertThat(html).contains("cache-outage", "shop", "2026-12-01T18:00:00Z", "2026-12-01T18:00:10Z", "10.000 s",
                "cacheNic", "eth0");
    }

    @Test
    void theTableHasOneRowPerStep() throws Exception {
        ScenarioRun run = realistic();
        Document d = parse(ScenarioReports.html(run));
        NodeList rows = nodes(d, "//table[@id='steps']/tbody/tr");
        assertThat(rows.getLength()).isEqualTo(run.steps().size());
        assertThat(attrs(rows, "id")).containsExactly("step-0", "step-1", "step-2", "step-3", "step-4", "step-5", "step-6");
        Element fault = element(d, "//tr[@id='step-1']");
        List<String> cells = new ArrayList<>();
        NodeList tds = fault.getElementsByTagName("td");
        for (int i = 0; i < tds.getLength(); i++) cells.add(tds.item(i).getTextContent());
        // #, phase, kind, name, type, targets, scheduled, started, finished, reverted, drift, outcome, measured, message
        assertThat(cells.subList(1, 12)).containsExactly("steps", "fault", "cut-cache", "link.down", "svc/cache", "2000",
                "2003", "2010", "6010", "3", "reverted");
        assertThat(element(d, "//tr[@id='step-3']").getTextContent()).contains("loss 0%", "0.312/0.421/0.608",
                "the probe succeeded but was expected to fail", "expect fail");
        assertThat(element(d, "//tr[@id='step-4']").getTextContent()).contains("9/10 as expected (90%)", "every");
        assertThat(element(d, "//tr[@id='step-5']").getTextContent()).contains("skipped", "-");
    }

    @Test
    void theTimelineDrawsTheFaultAsABarOverItsDurationAndTheChecksAsMarks() throws Exception {
        Document d = parse(ScenarioReports.html(realistic()));
        // 10 s run: the axis ends at 10 000 ms (ticks every 2 s), the plot is 900 px wide from x = 170
        assertThat(attrs(nodes(d, "//svg//text[@class='tick']"), "x")).hasSize(6);
        assertThat(nodes(d, "//svg//text[@class='tick']").item(5).getTextContent()).isEqualTo("10s");
        Element bar = element(d, "//svg//rect[@data-name='cut-cache']");
        assertThat(bar.getAttribute("class")).isEqualTo("fault-bar");
        assertThat(Double.parseDouble(bar.getAttribute("x"))).isCloseTo(170 + 2003 * 0.09, within(0.01));      // 350.27
        assertThat(Double.parseDouble(bar.getAttribute("width"))).isCloseTo((6010 - 2003) * 0.09, within(0.01)); // 360.63
        assertThat(bar.getParentNode().getTextContent()).contains("cut-cache \u00b7 link.down");
        assertThat(((Element) bar.getParentNode().getParentNode()).getAttribute("class")).isEqualTo("fault o-reverted");
        // once: a dot; every: a bar from started to finished
        Element dot = element(d, "//svg//circle[@data-name='cache-unreachable']");
        assertThat(Double.parseDouble(dot.getAttribute("cx"))).isCloseTo(170 + 3012 * 0.09, within(0.01));
        Element every = element(d, "//svg//rect[@data-name='api-serves']");
        assertThat(Double.parseDouble(every.getAttribute("x"))).isCloseTo(170 + 2501 * 0.09, within(0.01));
        assertThat(Double.parseDouble(every.getAttribute("width"))).isCloseTo((7500 - 2501) * 0.09, within(0.01));
        // coloured by outcome (classes), the skipped check drawn where it was due
        assertThat(((Element) element(d, "//svg//circle[@data-name='api-degrades']").getParentNode().getParentNode())
                .getAttribute("class")).isEqualTo("check o-fail");
        Element skipped = element(d, "//svg//circle[@data-name='db-sync']");
        assertThat(((Element) skipped.getParentNode().getParentNode()).getAttribute("class")).isEqualTo("check o-skipped");
        assertThat(Double.parseDouble(skipped.getAttribute("cx"))).isCloseTo(170 + 8000 * 0.09, within(0.01));
        // steady state before and after in their own bands; one row per target in each
        assertThat(nodes(d, "//svg/g[@class='band-before']//circle[@data-name='api-up']").getLength()).isEqualTo(1);
        assertThat(nodes(d, "//svg/g[@class='band-after']//circle[@data-name='api-up']").getLength()).isEqualTo(1);
        List<String> rows = new ArrayList<>();
        NodeList labels = nodes(d, "//svg/g[@class='band-steps']/text[@class='row-label']");
        for (int i = 0; i < labels.getLength(); i++) rows.add(labels.item(i).getFirstChild().getTextContent());
        assertThat(rows).containsExactly("svc/cache", "svc/api", "svc/web", "svc/db");
        // every mark links to its step's row
        assertThat(attrs(nodes(d, "//svg//a"), "href")).contains("#step-1", "#step-3");
    }

    @Test
    void aFaultNeverRevertedReachesTheEndOfTheRun() throws Exception {
        ScenarioRun r = realistic();
        List<ScenarioStepResult> steps = new ArrayList<>(r.steps());
        steps.set(1, new ScenarioStepResult(1, STEPS, FAULT, "cut-cache", "link.down", List.of("svc/cache"), 2000L, 2003L,
                2010L, null, "revert-failed", null, null, "no such NIC", null, 0, List.of(), 14));
        ScenarioRun held = new ScenarioRun(r.id(), r.scenario(), r.topology(), ScenarioRun.FAIL, r.startedAt(), r.finishedAt(),
                null, r.vars(), 1, r.operation(), steps);
        String html = ScenarioReports.html(held);
        Document d = parse(html);
        Element bar = element(d, "//svg//rect[@data-name='cut-cache']");
        assertThat(Double.parseDouble(bar.getAttribute("width"))).isCloseTo((10000 - 2003) * 0.09, within(0.01));
        assertThat(((Element) bar.getParentNode().getParentNode()).getAttribute("class")).isEqualTo("fault o-revert-failed held");
        assertThat(html).contains("vmctl heal");
        assertThat(ScenarioReports.junit(held)).contains("applied \u2026 revert failed: no such NIC");
    }

    // ------------------------------------------------------------------------------------------------ escaping

    static final String EVIL = "<script>alert(\"x&y\")</script>'";

    static ScenarioRun evil() {
        ScenarioRun r = realistic();
        List<ScenarioStepResult> steps = new ArrayList<>(r.steps());
        steps.set(3, check(3, STEPS, EVIL, "exec", List.of("svc/<b>"), 3000L, 3015L, 4020L, "fail", "pass", "once",
                "stdout did not match ]]> " + EVIL, m("exitCode", 1, "stdout", "\u001b[31mred\u001b[0m ]]> \u00e9\ud83d\ude00 " + EVIL),
                1, 26));
        return new ScenarioRun(r.id(), EVIL, "shop&co", ScenarioRun.FAIL, r.startedAt(), r.finishedAt(), EVIL + "\u0000",
                Map.of("x<y", EVIL), 0, r.operation(), steps);
    }

    @Test
    void theHtmlEscapesUserText() throws Exception {
        String html = ScenarioReports.html(evil());
        assertThat(html).doesNotContain("<script", "<b>", "\u001b", "\u0000");
        assertThat(html).contains("&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;", "shop&amp;co",
                "\\u001B[31mred", "&#xE9;&#x1F600;");
        Document d = parse(html);
        // the parsed text is the original text (but ESC, which XML cannot hold)
        assertThat(element(d, "//tr[@id='step-3']/td[4]").getTextContent()).isEqualTo(EVIL);
        assertThat(element(d, "//svg//circle[starts-with(@data-name,'<script>')]").getAttribute("data-name")).isEqualTo(EVIL);
        assertThat(element(d, "/html/head/title").getTextContent()).isEqualTo("scenario " + EVIL + " \u2014 fail");
        assertThat(element(d, "//tr[@id='step-3']").getTextContent()).contains("\\u001B[31mred\\u001B[0m ]]> \u00e9\ud83d\ude00 " + EVIL);
    }

    @Test
    void theJunitXmlEscapesUserText() throws Exception {
        String xml = ScenarioReports.junit(evil());
        Document d = parse(xml);
        assertThat(d.getDocumentElement().getAttribute("name")).isEqualTo("scenario." + EVIL);
        Element failure = element(d, "//testcase[starts-with(@name,'steps/<script>')]/failure");
        assertThat(failure.getTextContent()).contains("\\u001B[31mred\\u001B[0m ]]> \u00e9\ud83d\ude00 " + EVIL, "exit 1");
        assertThat(element(d, "//property[@name='var.x<y']").getAttribute("value")).isEqualTo(EVIL);
        assertThat(element(d, "//property[@name='error']").getAttribute("value")).isEqualTo(EVIL + "\\u0000");
    }

    @Test
    void aJournalWithNothingInItStillRenders() throws Exception {
        ScenarioRun empty = new ScenarioRun(null, null, null, null, null, null, null, null, 0, null, null);
        assertThat(element(parse(ScenarioReports.junit(empty)), "/testsuites/testsuite").getAttribute("tests")).isEqualTo("0");
        Document d = parse(ScenarioReports.html(empty));
        assertThat(nodes(d, "//table[@id='steps']/tbody/tr").getLength()).isZero();
        assertThat(nodes(d, "//svg").getLength()).isEqualTo(1);
        assertThat(ScenarioReports.json(empty)).contains("\"steps\": []");
        ScenarioStepResult bare = new ScenarioStepResult(0, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, 0, null, 0);
        assertThat(ScenarioReports.line(bare)).isEqualTo("        -  step   #0                ?                          pending");
    }

    // ------------------------------------------------------------------------------------------------ JSON, line

    @Test
    void theJsonIsTheRecordPretty() throws Exception {
        ScenarioRun run = realistic();
        String json = ScenarioReports.json(run);
        assertThat(json).startsWith("{\n  \"id\": \"run-7\",\n").endsWith("}\n");
        assertThat(json).contains("\"vars\": {\n    \"api\": \"svc/api\",\n    \"cacheNic\": \"eth0\"\n  }");
        ObjectMapper mapper = new ObjectMapper();
        assertThat(mapper.readValue(json, ScenarioRun.class)).isEqualTo(run);
        JsonNode tree = mapper.readTree(json);
        assertThat(tree.at("/steps/3/measured/rttAvgMs").asDouble()).isEqualTo(0.421);
        assertThat(tree.at("/steps/5/startedMs").isNull()).isTrue();
    }

    @Test
    void aLinePerStep() {
        List<ScenarioStepResult> s = realistic().steps();
        ScenarioStepResult applied = new ScenarioStepResult(1, STEPS, FAULT, "cut-cache", "link.down", List.of("svc/cache"),
                2000L, 2003L, 2010L, null, "applied", null, null, null, null, 0, List.of(), 14);
        assertThat(ScenarioReports.line(applied))
                .isEqualTo("  +2003ms  fault  cut-cache         link.down svc/cache        applied");
        assertThat(ScenarioReports.line(s.get(1)))
                .isEqualTo("  +2003ms  fault  cut-cache         link.down svc/cache        reverted +6010ms");
        assertThat(ScenarioReports.line(s.get(2)))
                .isEqualTo("  +3012ms  check  cache-unreachable ping svc/api\u2192svc/cache     pass (expect fail; loss 100%)");
        assertThat(ScenarioReports.line(s.get(3)))
                .isEqualTo("  +3015ms  check  api-degrades      ping svc/web\u2192svc/api       fail (expect fail; loss 0%, rtt 0.421 ms; "
                        + "the probe succeeded but was expected to fail)");
        assertThat(ScenarioReports.line(s.get(4)))
                .isEqualTo("  +2501ms  check  api-serves        http svc/web\u2192svc/api       pass (status 200, 9/10 as expected (90%))");
        assertThat(ScenarioReports.line(s.get(5)))
                .isEqualTo("  ~8000ms  check  db-sync           exec svc/db                skipped (api-degrades failed (stopOnFail))");
        for (ScenarioStepResult x : s) assertThat(ScenarioReports.line(x)).doesNotContain("\n", "\u001b");
    }
}
