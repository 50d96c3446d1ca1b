package dev.vmctl.scenario;

import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.ScenarioSpec.Check;
import dev.vmctl.scenario.ScenarioSpec.Direction;
import dev.vmctl.scenario.ScenarioSpec.Exec;
import dev.vmctl.scenario.ScenarioSpec.Expect;
import dev.vmctl.scenario.ScenarioSpec.Http;
import dev.vmctl.scenario.ScenarioSpec.LinkDown;
import dev.vmctl.scenario.ScenarioSpec.LinkImpair;
import dev.vmctl.scenario.ScenarioSpec.NodeSnapshot;
import dev.vmctl.scenario.ScenarioSpec.OnFail;
import dev.vmctl.scenario.ScenarioSpec.Partition;
import dev.vmctl.scenario.ScenarioSpec.Ping;
import dev.vmctl.scenario.ScenarioSpec.Step;
import dev.vmctl.scenario.ScenarioSpec.Tcp;
import dev.vmctl.scenario.ScenarioSpec.VmReboot;
import dev.vmctl.topology.Problem;
import dev.vmctl.topology.TopologyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ScenarioParserTest {
    static final Path EXAMPLES = Path.of("..", "examples", "scenarios");

    /** The example of the issue, exactly as written there. */
    static final String FAILOVER = """
            apiVersion: vmctl/v1
            kind: Scenario
            name: cache-failover
            topology: shop
            vars: {port: "8080"}
            defaults: {timeout: 5s}
            steadyState:
              - {name: api-reaches-cache, ping: {from: svc/api, to: svc/cache, count: 3, maxLossPct: 0}}
            steps:
              - {at: 0s,     check: {name: http-ok, http: {from: svc/gateway, to: svc/api, port: "${port}", path: /, expectStatus: 200}}}
              - {at: 2s,     fault: {name: cut-cache, duration: 4s, link.down: {vm: svc/cache, nic: eth0}}}
              - {at: 3s,     check: {name: cache-unreachable, expect: fail, ping: {from: svc/api, to: svc/cache, count: 2}}}
              - {at: 6500ms, check: {name: cache-back, until: 10s, ping: {from: svc/api, to: svc/cache}}}
              - {at: 7s,     fault: {name: slow-api, duration: 3s, link.impair: {vm: svc/api, nic: eth0, delay: 100ms, loss: 5%, direction: both}}}
              - {at: 11s,    fault: {name: split, duration: 3s, partition: {a: [svc/api], b: [svc/cache, svc/gateway]}}}
              - {at: 15s,    fault: {name: reboot-cache, vm.reboot: {vm: svc/cache}}}
              - {at: 15s,    check: {name: api-during-reboot, every: 500ms, for: 5s, minSuccessPct: 50, tcp: {from: svc/gateway, to: svc/api, port: 8080}}}
            """;

    /** The head of a scenario file; a test appends its steps (line 5 is the first line after "steps:"). */
    static final String HEAD = """
            apiVersion: vmctl/v1
            kind: Scenario
            name: t
            steps:
            """;

    static ScenarioSpec parse(String text) {
        return ScenarioParser.parse(text, "t.yaml", Map.of());
    }

    static ScenarioSpec steps(String steps) {
        return parse(HEAD + steps);
    }

    static List<Problem> problems(String text, Map<String, String> overrides) {
        ScenarioException e = catchThrowableOfType(ScenarioException.class, () -> ScenarioParser.parse(text, "t.yaml", overrides));
        assertThat(e).as("the file is rejected").isNotNull();
        return e.problems();
    }

    static List<Problem> problems(String text) {
        return problems(text, Map.of());
    }

    /** The problems of a file made of HEAD and these steps. */
    static List<Problem> stepProblems(String steps) {
        return problems(HEAD + steps);
    }

    static Problem only(String text) {
        List<Problem> ps = problems(text);
        assertThat(ps).as(ps.toString()).hasSize(1);
        return ps.getFirst();
    }

    static Problem onlyStep(String steps) {
        return only(HEAD + steps);
    }

    // ---- the example

    @Test
    void theIssuesExampleParsesIntoTheExpectedRecords() {
        ScenarioSpec s = ScenarioParser.parse(FAILOVER, "failover.yaml", null);
        assertThat(s.apiVersion()).isEqualTo(ScenarioSpec.API_VERSION);
        assertThat(s.kind()).isEqualTo(ScenarioSpec.KIND);
        assertThat(s.name()).isEqualTo("cache-failover");
        assertThat(s.description()).isNull();
        assertThat(s.topology()).isEqualTo("shop");
        assertThat(s.vars()).containsExactlyEntriesOf(Map.of("port", "8080"));
        assertThat(s.defaults()).isEqualTo(new ScenarioSpec.Defaults(Duration.ofSeconds(5), false));
        assertThat(s.reset()).isEqualTo(ScenarioSpec.Reset.NONE);
        assertThat(s.onFail()).isEqualTo(OnFail.NOTHING);

        assertThat(s.steadyState()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("api-reaches-cache");
            assertThat(c.probe()).isEqualTo(new Ping("svc/api", "svc/cache", 3, 0, null, null));
            assertThat(c.expect()).isEqualTo(Expect.PASS);
            assertThat(c.until()).isNull();
            assertThat(c.repeated()).isFalse();
            assertThat(c.minSuccessPct()).isNull();
            assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(5));
            assertThat(c.line()).isEqualTo(8);
        });

        List<Step> st = s.steps();
        assertThat(st).extracting(Step::index).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(st).extracting(Step::name).containsExactly("http-ok", "cut-cache", "cache-unreachable", "cache-back",
                "slow-api", "split", "reboot-cache", "api-during-reboot");
        assertThat(st).extracting(Step::line).containsExactly(10, 11, 12, 13, 14, 15, 16, 17);
        assertThat(st).extracting(Step::at).containsExactly(Duration.ZERO, Duration.ofSeconds(2), Duration.ofSeconds(3),
                Duration.ofMillis(6500), Duration.ofSeconds(7), Duration.ofSeconds(11), Duration.ofSeconds(15), Duration.ofSeconds(15));

        assertThat(st.get(0).check().probe()).isEqualTo(new Http("svc/gateway", "svc/api", 8080, "/", 200, null));
        assertThat(st.get(0).check().line()).isEqualTo(10);

        assertThat(st.get(1).check()).isNull();
        assertThat(st.get(1).fault().action()).isEqualTo(new LinkDown("svc/cache", "eth0"));
        assertThat(st.get(1).fault().duration()).isEqualTo(Duration.ofSeconds(4));

        assertThat(st.get(2).check().expect()).isEqualTo(Expect.FAIL);
        assertThat(st.get(2).check().probe()).isEqualTo(new Ping("svc/api", "svc/cache", 2, 0, null, null));

        Check back = st.get(3).check();
        assertThat(back.until()).isEqualTo(Duration.ofSeconds(10));
        assertThat(back.every()).isNull();
        assertThat(((Ping) back.probe()).count()).isEqualTo(1);

        LinkImpair impair = (LinkImpair) st.get(4).fault().action();
        assertThat(impair.vm()).isEqualTo("svc/api");
        assertThat(impair.nic()).isEqualTo("eth0");
        assertThat(impair.impair()).containsExactlyInAnyOrderEntriesOf(Map.of("delay", "100ms", "loss", "5%"));
        assertThat(impair.direction()).isEqualTo(Direction.BOTH);

        assertThat(st.get(5).fault().action()).isEqualTo(new Partition(List.of("svc/api"), List.of("svc/cache", "svc/gateway")));
        assertThat(st.get(5).fault().action().refs()).containsExactly("svc/api", "svc/cache", "svc/gateway");

        assertThat(st.get(6).fault().action()).isEqualTo(new VmReboot("svc/cache"));
        assertThat(st.get(6).fault().duration()).isNull();

        Check during = st.get(7).check();
        assertThat(during.repeated()).isTrue();
        assertThat(during.every()).isEqualTo(Duration.ofMillis(500));
        assertThat(during.forD()).isEqualTo(Duration.ofSeconds(5));
        assertThat(during.minSuccessPct()).isEqualTo(50.0);
        assertThat(during.probe()).isEqualTo(new Tcp("svc/gateway", "svc/api", 8080));
        assertThat(during.line()).isEqualTo(17);
    }

    @Test
    void examplesFailoverIsTheIssuesExampleAndParses() throws Exception {
        String text = Files.readString(EXAMPLES.resolve("failover.yaml"));
        assertThat(text).isEqualTo(FAILOVER);
        assertThat(ScenarioParser.parse(text, "failover.yaml").steps()).hasSize(8);
    }

    @Test
    void aScenarioExceptionIsATopologyExceptionOfKindInvalid() {
        ScenarioException e = catchThrowableOfType(ScenarioException.class, () -> parse("kind: Scenario\n"));
        assertThat(e).isInstanceOf(TopologyException.class);
        assertThat(e.kind()).isEqualTo(VmctlException.Kind.INVALID);
        assertThat(e.getMessage()).isEqualTo(e.problems().getFirst().format());
        assertThat(e.detail().split("\n")).hasSameSizeAs(e.problems());
    }

    // ---- vars

    @Test
    void anOverrideReplacesAFileVarAndMayAddOne() {
        ScenarioSpec s = ScenarioParser.parse(FAILOVER.replace("path: /,", "path: \"${base}/health\","), "failover.yaml",
                Map.of("port", "9090", "base", "/v2"));
        Http h = (Http) s.steps().getFirst().check().probe();
        assertThat(h.port()).isEqualTo(9090);
        assertThat(h.path()).isEqualTo("/v2/health");
        assertThat(s.vars()).containsExactlyInAnyOrderEntriesOf(Map.of("port", "9090", "base", "/v2"));
    }

    @Test
    void anUnknownVariableIsReportedAtItsScalarWithTheDefinedOnes() {
        Problem p = only(FAILOVER.replace("port: 8080}", "port: \"${tcpPort}\"}"));
        assertThat(p.line()).isEqualTo(17);
        assertThat(p.path()).isEqualTo("steps[7].check.tcp.port");
        assertThat(p.message()).isEqualTo("unknown variable 'tcpPort'");
        assertThat(p.allowed()).isEqualTo("port");
        assertThat(p.format()).startsWith("t.yaml:17:");
    }

    @Test
    void varsWorkInAnyStringAndDollarDollarBraceIsALiteral() {
        ScenarioSpec s = parse("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: ${env}-smoke
                vars: {env: prod, vm: svc/api, n: 3, stop: true, re: "^ok"}
                steps:
                  - check: {name: c1, stopOnFail: "${stop}", exec: {on: "${vm}", argv: [echo, "$${HOME}", "${n}x"], stdoutMatches: "${re}"}}
                  - check: {name: c2, ping: {from: "${vm}", to: 198.18.1.10, count: "${n}"}}
                """);
        assertThat(s.name()).isEqualTo("prod-smoke");
        Check c1 = s.steps().get(0).check();
        assertThat(c1.stopOnFail()).isTrue();
        assertThat(c1.probe()).isEqualTo(new Exec("svc/api", List.of("echo", "${HOME}", "3x"), 0, "^ok"));
        assertThat(s.steps().get(1).check().probe()).isEqualTo(new Ping("svc/api", "198.18.1.10", 3, 0, null, null));
        assertThat(s.steps()).extracting(Step::at).containsOnlyNulls();
    }

    @Test
    void aSubstitutedValueOfTheWrongTypeIsReportedAsSuch() {
        Problem p = only(FAILOVER.replace("vars: {port: \"8080\"}", "vars: {port: http}"));
        assertThat(p.path()).isEqualTo("steps[0].check.http.port");
        assertThat(p.message()).isEqualTo("expected an integer, found a string 'http'");
        assertThat(p.allowed()).isEqualTo("1..65535, default 80");
    }

    @Test
    void badVariableReferencesAndNames() {
        List<Problem> ps = problems("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: t
                vars: {1x: a}
                steps:
                  - check: {name: "${a b}", ping: {from: "${vm", to: x}}
                """, Map.of("bad name", "v"));
        assertThat(ps).extracting(Problem::message).containsExactly(
                "'1x' is not a valid variable name",
                "'${a b}' is not a valid variable reference",
                "'${' without a closing '}' in '${vm'",
                "the override's variable name 'bad name' is not valid");
        assertThat(ps.getLast().line()).isZero();
    }

    // ---- durations

    @ParameterizedTest
    @CsvSource({"500ms,500", "2s,2000", "1.5s,1500", "1m,60000", "1m30s,90000", "2h,7200000", "0.25s,250", "24h,86400000"})
    void durations(String text, long ms) throws Exception {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(ms));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "5|'5' has no unit", "1.5|'1.5' has no unit", "250us|'250us' is finer than a millisecond",
            "0.5ms|'0.5ms' is not a whole number of milliseconds", "25h|'25h' is longer than 24h", "2 s|'2 s' is not a duration",
            "fast|'fast' is not a duration", "-1s|'-1s' is not a duration"})
    void badDurations(String text, String message) {
        Durations.BadDuration e = catchThrowableOfType(Durations.BadDuration.class, () -> Durations.parse(text));
        assertThat(e).hasMessage(message);
    }

    @Test
    void aDurationWithoutUnitNamesTheFormWithLineAndColumn() {
        Problem p = onlyStep("  - {at: 5, check: {name: c, ping: {from: svc/api, to: svc/cache}}}\n");
        assertThat(p.format()).isEqualTo("t.yaml:5:10: steps[0].at: '5' has no unit (allowed: a time from the run's start, 0s..24h, "
                + "e.g. 500ms, 2s, 1.5s, 1m, 1m30s)");
    }

    @Test
    void aZeroDurationIsOnlyAllowedForAt() {
        Problem p = onlyStep("  - {at: 0s, fault: {name: f, duration: 0s, vm.stop: {vm: svc/api}}}\n");
        assertThat(p.path()).isEqualTo("steps[0].fault.duration");
        assertThat(p.message()).isEqualTo("duration must be longer than 0");
    }

    @Test
    void stepsAreInTimeOrder() {
        Problem p = onlyStep("""
                  - {at: 5s, fault: {name: f, vm.stop: {vm: svc/api}}}
                  - fault: {name: g, vm.kill: {vm: svc/api}}
                  - {at: 2s, check: {name: c, tcp: {from: svc/a, to: svc/b, port: 22}}}
                """);
        assertThat(p.path()).isEqualTo("steps[2].at");
        assertThat(p.message()).isEqualTo("at 2s is earlier than the at 5s of steps[0]");
    }

    // ---- structure

    @Test
    void anUnknownFieldListsTheAllowedOnes() {
        Problem p = onlyStep("  - check: {name: c, expectStatus: 200, ping: {from: svc/a, to: svc/b}}\n");
        assertThat(p.line()).isEqualTo(5);
        assertThat(p.path()).isEqualTo("steps[0].check.expectStatus");
        assertThat(p.message()).isEqualTo("unknown field 'expectStatus' in a check");
        assertThat(p.allowed()).isEqualTo("name, expect, until, every, for, minSuccessPct, timeout, stopOnFail, ping, http, tcp, exec");
    }

    @Test
    void anUnknownFieldCloseToAKnownOneIsNamed() {
        Problem p = only(FAILOVER.replace("steadyState:", "steadystate:"));
        assertThat(p.message()).isEqualTo("unknown field 'steadystate' in a scenario (did you mean 'steadyState'?)");
        assertThat(p.line()).isEqualTo(7);
        Problem q = onlyStep("  - check: {name: c, ping: {from: svc/a, to: svc/b, maxLosPct: 1}}\n");
        assertThat(q.message()).isEqualTo("unknown field 'maxLosPct' in a ping probe (did you mean 'maxLossPct'?)");
    }

    @Test
    void aStepHasExactlyOneOfCheckAndFault() {
        List<Problem> ps = stepProblems("""
                  - {at: 1s, check: {name: c, tcp: {from: svc/a, to: svc/b, port: 1}}, fault: {name: f, vm.stop: {vm: svc/a}}}
                  - {at: 2s}
                """);
        assertThat(ps).extracting(Problem::path, Problem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("steps[0].fault", "a step has either check or fault, this one has both"),
                org.assertj.core.groups.Tuple.tuple("steps[1]", "a step has neither check nor fault"));
    }

    @Test
    void aMissingNameIsReportedAtTheMapping() {
        Problem p = onlyStep("  - fault: {duration: 2s, link.down: {vm: svc/cache, nic: eth0}}\n");
        assertThat(p.line()).isEqualTo(5);
        assertThat(p.column()).isEqualTo(12);
        assertThat(p.path()).isEqualTo("steps[0].fault.name");
        assertThat(p.message()).isEqualTo("required field is missing");
        assertThat(p.allowed()).startsWith("lower-case letters");
    }

    @Test
    void namesAreUniqueAmongChecksAndFaults() {
        List<Problem> ps = problems("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: t
                steadyState:
                  - {name: same, tcp: {from: svc/a, to: svc/b, port: 1}}
                steps:
                  - fault: {name: same, vm.stop: {vm: svc/a}}
                  - check: {name: same, tcp: {from: svc/a, to: svc/b, port: 1}}
                """);
        assertThat(ps).extracting(Problem::line).containsExactly(7, 8);
        assertThat(ps).extracting(Problem::message).containsOnly("duplicate name 'same' (also steadyState[0])");
        assertThat(ps.getFirst().path()).isEqualTo("steps[0].fault.name");
    }

    @Test
    void aScenarioHasAStepOrASteadyStateCheck() {
        Problem p = only(HEAD.replace("steps:", "steps: []"));
        assertThat(p.path()).isEqualTo("steps");
        assertThat(p.message()).isEqualTo("a scenario has at least one step or steady-state check");
        ScenarioSpec onlySteady = parse("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: t
                steadyState: [{name: up, tcp: {from: svc/a, to: svc/b, port: 22}}]
                """);
        assertThat(onlySteady.steps()).isEmpty();
    }

    @Test
    void wrongVersionKindAndName() {
        List<Problem> ps = problems(FAILOVER.replace("vmctl/v1", "vmctl/v2").replace("kind: Scenario", "kind: Topology")
                .replace("name: cache-failover", "name: Cache_Failover"));
        assertThat(ps).extracting(Problem::message).containsExactly("'vmctl/v2' is not a supported version",
                "'Topology' is not a supported kind", "'Cache_Failover' is not a valid scenario name");
        assertThat(ps).extracting(Problem::allowed).first().isEqualTo("vmctl/v1");
    }

    // ---- checks

    @Test
    void checkModesAndDefaults() {
        ScenarioSpec s = parse("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: t
                defaults: {timeout: 2s, stopOnFail: true}
                steps:
                  - check: {name: a, every: 1s, for: 10s, tcp: {from: svc/a, to: svc/b, port: 22}}
                  - check: {name: b, timeout: 500ms, stopOnFail: false, http: {from: svc/a, to: 198.18.1.2}}
                """);
        Check a = s.steps().get(0).check(), b = s.steps().get(1).check();
        assertThat(a.minSuccessPct()).isEqualTo(100.0);
        assertThat(a.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(a.stopOnFail()).isTrue();
        assertThat(b.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(b.stopOnFail()).isFalse();
        assertThat(b.probe()).isEqualTo(new Http("svc/a", "198.18.1.2", 80, "/", 200, null));
    }

    @Test
    void yaml11BooleansReadAsWhatTheySay() {
        assertThat(parse(HEAD.replace("steps:", "defaults: {stopOnFail: yes}\nsteps:")
                + "  - check: {name: c, tcp: {from: svc/a, to: svc/b, port: 22}}\n").defaults().stopOnFail()).isTrue();
        assertThat(parse(HEAD.replace("steps:", "defaults: {stopOnFail: on}\nsteps:")
                + "  - check: {name: c, stopOnFail: no, tcp: {from: svc/a, to: svc/b, port: 22}}\n").steps().getFirst().check().stopOnFail())
                .isFalse();
    }

    @Test
    void conflictingOrIncompleteModes() {
        List<Problem> ps = stepProblems("""
                  - check: {name: a, every: 1s, tcp: {from: svc/a, to: svc/b, port: 22}}
                  - check: {name: b, for: 1s, tcp: {from: svc/a, to: svc/b, port: 22}}
                  - check: {name: c, until: 5s, every: 1s, for: 5s, tcp: {from: svc/a, to: svc/b, port: 22}}
                  - check: {name: d, minSuccessPct: 50, tcp: {from: svc/a, to: svc/b, port: 22}}
                  - check: {name: e, every: 5s, for: 1s, tcp: {from: svc/a, to: svc/b, port: 22}}
                """);
        assertThat(ps).extracting(Problem::path, Problem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("steps[0].check.every", "every needs for (how long to repeat)"),
                org.assertj.core.groups.Tuple.tuple("steps[1].check.for", "for needs every (how often to try)"),
                org.assertj.core.groups.Tuple.tuple("steps[2].check.until", "until and every/for are two modes of a check; give one"),
                org.assertj.core.groups.Tuple.tuple("steps[3].check.minSuccessPct", "minSuccessPct applies to repeated checks only"),
                org.assertj.core.groups.Tuple.tuple("steps[4].check.every", "every 5s is longer than for 1s"));
    }

    @Test
    void aCheckHasExactlyOneProbe() {
        List<Problem> ps = stepProblems("""
                  - check: {name: a}
                  - check: {name: b, ping: {from: svc/a, to: svc/b}, tcp: {from: svc/a, to: svc/b, port: 22}}
                """);
        assertThat(ps).extracting(Problem::message).containsExactly("a check has exactly one probe; this one has none",
                "a check has exactly one probe; 'tcp' is another one besides 'ping'");
        assertThat(ps.getFirst().allowed()).isEqualTo("ping, http, tcp, exec");
    }

    @Test
    void aBadRegexIsReportedWithTheReason() {
        Problem p = onlyStep("  - check: {name: c, http: {from: svc/a, to: svc/b, bodyMatches: \"ok(\"}}\n");
        assertThat(p.path()).isEqualTo("steps[0].check.http.bodyMatches");
        assertThat(p.message()).startsWith("'ok(' is not a valid regular expression: Unclosed group");
        assertThat(p.allowed()).isEqualTo("a Java regular expression, found anywhere in the text");
    }

    @Test
    void execArgvIsAListNotAString() {
        Problem p = onlyStep("  - check: {name: c, exec: {on: svc/a, argv: \"curl -s http://x\"}}\n");
        assertThat(p.path()).isEqualTo("steps[0].check.exec.argv");
        assertThat(p.message()).isEqualTo("argv is a list of words, found a string 'curl -s http://x' (a single string is not split into words)");
        assertThat(p.allowed()).startsWith("a list of strings, e.g. [sh, -c,");
        assertThat(onlyStep("  - check: {name: c, exec: {on: svc/a, argv: []}}\n").message()).isEqualTo("argv is empty");
    }

    @Test
    void probeValuesAreChecked() {
        List<Problem> ps = stepProblems("""
                  - check: {name: a, ping: {from: svc/A, to: 198.18.1.300, count: 0, maxLossPct: 101, minRttMs: 5, maxRttMs: 2}}
                  - check: {name: b, http: {from: a/b/c, to: svc/b, port: 70000, path: health, expectStatus: 99}}
                  - check: {name: c, tcp: {from: svc/a, to: svc/b}}
                  - check: {name: d, exec: {on: svc/a, argv: [true], expectExit: 256}}
                """);
        assertThat(ps).extracting(Problem::path, Problem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("steps[0].check.ping.from", "'svc/A' is not a VM reference"),
                org.assertj.core.groups.Tuple.tuple("steps[0].check.ping.to", "'198.18.1.300' is not an IPv4 address"),
                org.assertj.core.groups.Tuple.tuple("steps[0].check.ping.count", "0 is out of range"),
                org.assertj.core.groups.Tuple.tuple("steps[0].check.ping.maxLossPct", "101 is out of range"),
                org.assertj.core.groups.Tuple.tuple("steps[0].check.ping.minRttMs", "minRttMs 5.0 is above maxRttMs 2.0"),
                org.assertj.core.groups.Tuple.tuple("steps[1].check.http.from", "'a/b/c' is not a VM reference"),
                org.assertj.core.groups.Tuple.tuple("steps[1].check.http.port", "70000 is out of range"),
                org.assertj.core.groups.Tuple.tuple("steps[1].check.http.path", "'health' does not start with /"),
                org.assertj.core.groups.Tuple.tuple("steps[1].check.http.expectStatus", "99 is out of range"),
                org.assertj.core.groups.Tuple.tuple("steps[2].check.tcp.port", "required field is missing"),
                org.assertj.core.groups.Tuple.tuple("steps[3].check.exec.expectExit", "256 is out of range"));
    }

    @Test
    void pingIntervalDefaultsTo200msAndIsAtLeast10ms() {
        ScenarioSpec s = steps("  - check: {name: c, timeout: 30s, ping: {from: svc/a, to: svc/b, count: 1000, interval: 10ms}}\n");
        Ping p = (Ping) s.steps().getFirst().check().probe();
        assertThat(p.interval()).isEqualTo(Duration.ofMillis(10));
        assertThat(Probes.argv(p, "198.18.1.2", Duration.ofSeconds(30)))
                .containsExactly("ping", "-c", "1000", "-i", "0.01", "-W", "1", "-w", "30", "198.18.1.2");
        Ping dflt = (Ping) steps("  - check: {name: c, ping: {from: svc/a, to: svc/b}}\n").steps().getFirst().check().probe();
        assertThat(dflt.interval()).isEqualTo(Ping.INTERVAL);
        assertThat(Probes.argv(dflt, "198.18.1.2", Duration.ofSeconds(5))).containsSubsequence("-i", "0.2");
        Problem short_ = onlyStep("  - check: {name: c, ping: {from: svc/a, to: svc/b, interval: 5ms}}\n");
        assertThat(short_.path()).isEqualTo("steps[0].check.ping.interval");
        assertThat(short_.message()).isEqualTo("interval 5ms is shorter than 10ms");
        assertThat(short_.allowed()).startsWith("the time between two echo requests, 10ms..24h");
        assertThat(onlyStep("  - check: {name: c, ping: {from: svc/a, to: svc/b, interval: 10}}\n").message()).isEqualTo("'10' has no unit");
    }

    @Test
    void vmReferencesAreNodeSlashVmOrAFullName() {
        ScenarioSpec s = steps("  - check: {name: c, tcp: {from: shop-svc-api, to: svc/cache, port: 6379}}\n");
        assertThat(s.steps().getFirst().check().probe()).isEqualTo(new Tcp("shop-svc-api", "svc/cache", 6379));
        Problem p = onlyStep("  - check: {name: c, tcp: {from: 198.18.1.2, to: svc/cache, port: 6379}}\n");
        assertThat(p.message()).isEqualTo("'198.18.1.2' is not a VM reference");
        assertThat(p.allowed()).isEqualTo(ScenarioRules.VM_REF);
    }

    // ---- faults

    @Test
    void anImpairmentRejectedByImpairmentParseIsAProblemAtItsValue() {
        Problem p = onlyStep("  - fault: {name: f, link.impair: {vm: svc/api, nic: eth0,\n      loss: 150%}}\n");
        assertThat(p.format()).isEqualTo("t.yaml:6:13: steps[0].fault.link.impair.loss: 150% is out of range (allowed: 0%..100%)");
        Problem j = onlyStep("  - fault: {name: f, link.impair: {vm: svc/api, nic: eth0, jitter: 5ms}}\n");
        assertThat(j.path()).isEqualTo("steps[0].fault.link.impair.jitter");
        assertThat(j.message()).isEqualTo("jitter needs a delay");
        Problem none = onlyStep("  - fault: {name: f, link.impair: {vm: svc/api, nic: eth0, direction: ingress}}\n");
        assertThat(none.path()).isEqualTo("steps[0].fault.link.impair");
        assertThat(none.message()).isEqualTo("no impairment given");
    }

    @Test
    void impairDefaultsToEgressAndLeavesDirectionOut() {
        LinkImpair li = (LinkImpair) steps("  - fault: {name: f, link.impair: {vm: svc/api, nic: eth1, rate: 1mbit, jitter: 2ms, delay: 20ms}}\n")
                .steps().getFirst().fault().action();
        assertThat(li.direction()).isEqualTo(Direction.EGRESS);
        assertThat(li.impair()).containsOnlyKeys("rate", "jitter", "delay");
    }

    @Test
    void faultActionsAndTheirValues() {
        List<Problem> ps = stepProblems("""
                  - fault: {name: a}
                  - fault: {name: b, vm.stop: {vm: svc/a}, vm.kill: {vm: svc/a}}
                  - fault: {name: c, link.down: {vm: svc/a, nic: eth16}}
                  - fault: {name: d, partition: {a: [svc/a, svc/b], b: [svc/c, svc/a]}}
                  - fault: {name: e, partition: {a: [], b: [svc/c, svc/c]}}
                  - fault: {name: f, node.stop: {node: svc/a}}
                  - fault: {name: g, link.impair: {vm: svc/a, nic: eth0, delay: 1ms, direction: sideways}}
                """);
        assertThat(ps).extracting(Problem::path, Problem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("steps[0].fault", "a fault has exactly one action; this one has none"),
                org.assertj.core.groups.Tuple.tuple("steps[1].fault.vm.kill", "a fault has exactly one action; 'vm.kill' is another one besides 'vm.stop'"),
                org.assertj.core.groups.Tuple.tuple("steps[2].fault.link.down.nic", "'eth16' is not a NIC name"),
                org.assertj.core.groups.Tuple.tuple("steps[3].fault.partition.b[1]", "'svc/a' is on both sides (also steps[3].fault.partition.a[0])"),
                org.assertj.core.groups.Tuple.tuple("steps[4].fault.partition.a", "a side of a partition has at least one VM"),
                org.assertj.core.groups.Tuple.tuple("steps[4].fault.partition.b[1]", "'svc/c' is listed twice"),
                org.assertj.core.groups.Tuple.tuple("steps[5].fault.node.stop.node", "'svc/a' is not a valid node name"),
                org.assertj.core.groups.Tuple.tuple("steps[6].fault.link.impair.direction", "'sideways' is not a valid direction"));
        assertThat(ps.getFirst().allowed()).isEqualTo("link.down, link.impair, partition, vm.reboot, vm.stop, vm.kill, node.stop");
    }

    @Test
    void everyFaultAction() {
        ScenarioSpec s = steps("""
                  - fault: {name: a, vm.stop: {vm: svc/a}}
                  - fault: {name: b, vm.kill: {vm: svc/b}}
                  - fault: {name: c, node.stop: {node: svc}}
                """);
        assertThat(s.steps()).extracting(st -> st.fault().action()).containsExactly(new ScenarioSpec.VmStop("svc/a"),
                new ScenarioSpec.VmKill("svc/b"), new ScenarioSpec.NodeStop("svc"));
        assertThat(s.steps()).extracting(st -> st.fault().action().type()).containsExactly("vm.stop", "vm.kill", "node.stop");
    }

    // ---- reset and onFail

    @Test
    void resetAndOnFail() {
        ScenarioSpec s = parse(HEAD.replace("steps:", """
                reset:
                  nodeSnapshots: [svc@base, {node: db, snapshot: seeded}]
                onFail: snapshot
                steps:""") + "  - check: {name: c, tcp: {from: svc/a, to: svc/b, port: 22}}\n");
        assertThat(s.reset().nodeSnapshots()).containsExactly(new NodeSnapshot("svc", "base"), new NodeSnapshot("db", "seeded"));
        assertThat(s.onFail()).isEqualTo(OnFail.SNAPSHOT);

        List<Problem> ps = problems(HEAD.replace("steps:", """
                reset: {nodeSnapshots: [svc, svc@base, svc@other, {node: db}]}
                onFail: reboot
                steps:""") + "  - check: {name: c, tcp: {from: svc/a, to: svc/b, port: 22}}\n");
        assertThat(ps).extracting(Problem::path, Problem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("reset.nodeSnapshots[0]", "'svc' is not a node@snapshot reference"),
                org.assertj.core.groups.Tuple.tuple("reset.nodeSnapshots[2]", "node 'svc' is listed twice (also reset.nodeSnapshots[1])"),
                org.assertj.core.groups.Tuple.tuple("reset.nodeSnapshots[3].snapshot", "required field is missing"),
                org.assertj.core.groups.Tuple.tuple("onFail", "'reboot' is not a valid onFail"));
    }

    // ---- all at once, syntax

    @Test
    void everyProblemIsReportedAtOnceInFileOrder() {
        List<Problem> ps = problems("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: t
                steps:
                  - {at: 1s, check: {name: a, tcp: {from: svc/a, to: svc/b, port: 0}}}
                  - {at: 2, fault: {name: b, link.down: {vm: svc/a, nic: eth0}}}
                  - {at: 3s, check: {name: c, htp: {from: svc/a, to: svc/b}}}
                defaults: {timeout: 0s}
                """);
        assertThat(ps).extracting(Problem::line).containsExactly(5, 6, 7, 8);
        assertThat(ps).extracting(Problem::path).containsExactly("steps[0].check.tcp.port", "steps[1].at", "steps[2].check.htp",
                "defaults.timeout");
        assertThat(ps.get(2).message()).isEqualTo("unknown field 'htp' in a check (did you mean 'http'?)");
        ScenarioException e = catchThrowableOfType(ScenarioException.class, () -> parse("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: T
                steps:
                  - check: {name: a, tcp: {from: svc/a, to: svc/b, port: x}}
                  - fault: {name: a, vm.stop: {vm: svc/A}}
                """));
        assertThat(e.problems()).hasSize(4);
        assertThat(e.problems()).extracting(Problem::line).containsExactly(3, 5, 6, 6);
        assertThat(e.problems()).extracting(Problem::path).containsExactly("name", "steps[0].check.tcp.port", "steps[1].fault.name",
                "steps[1].fault.vm.stop.vm");
    }

    @Test
    void aSyntaxErrorComesAlone() {
        Problem p = only("""
                apiVersion: vmctl/v1
                kind: Scenario
                name: [t
                steps:
                  - {at: 5, check: {}}
                """);
        assertThat(p.message()).startsWith("YAML syntax error");
        assertThat(p.line()).isGreaterThanOrEqualTo(3);
        assertThat(p.path()).isEmpty();
    }

    @Test
    void emptyFileAndSecondDocument() {
        assertThat(only("").message()).isEqualTo("the file holds no YAML document");
        Problem p = only(FAILOVER + "---\nkind: Scenario\n");
        assertThat(p.message()).isEqualTo("a second YAML document ('---') follows; a scenario file holds exactly one");
        assertThat(only("- a\n- b\n").message()).startsWith("expected a mapping (a scenario: apiVersion, kind, name,");
    }

    @Test
    void yamlAliasesAreNotSupported() {
        Problem p = onlyStep("  - check: {name: &n c, tcp: {from: svc/a, to: svc/b, port: 22}}\n  - check: {name: *n, tcp: {from: svc/a, to: svc/b, port: 22}}\n");
        assertThat(p.path()).isEqualTo("steps[1].check.name");
        assertThat(p.message()).isEqualTo("YAML aliases (*n) are not supported");
    }
}
