package dev.vmctl.topology;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.scanner.ScannerImpl;
import org.yaml.snakeyaml.tokens.ScalarToken;
import org.yaml.snakeyaml.tokens.Token;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Issue 15 #1: the YAML reader's limits, and {@link WholeTextReader} scanning exactly as SnakeYAML's own reader does. */
class YamlLimitsTest {

    @Test
    void theLinearReaderScansAsSnakeYamlsReaderDoes() throws Exception {
        List<String> texts = new ArrayList<>();
        try (Stream<Path> s = Files.list(TopologyParserTest.EXAMPLES)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) texts.add(Files.readString(p));
        }
        texts.add("a: 1\r\nb: [x, 'y z', \"q\\u00e9\"]\r\n# comment\r\n");
        texts.add("\uFEFFa: b\rc: d\n");
        texts.add("emoji: 🚀🚀 ünï\n  folded\n  more: no\nlist:\n\t- x\n");
        texts.add("key: |\n  block\n  text\nother: >\n  folded\n# " + "long comment ".repeat(2000) + "\nlast: " + "v".repeat(5000) + "\n");
        texts.add("a: &x [1, 2]\nb: *x\nc: {d: e, f: [g, {h: i}]}\n");
        texts.add("bad: \u0007 here\n");
        texts.add("broken: [a, b\nc: d\n");
        for (String t : texts) {
            assertThat(tokens(new WholeTextReader(t))).as(t.substring(0, Math.min(60, t.length()))).isEqualTo(tokens(new StreamReader(t)));
        }
    }

    /** Every token with its kind, value and marks, or the error that ended the scan. */
    private static List<String> tokens(StreamReader r) {
        List<String> out = new ArrayList<>();
        ScannerImpl s = new ScannerImpl(r, new LoaderOptions());
        try {
            while (true) {
                Token t = s.getToken();
                if (t == null) break;
                out.add(t.getTokenId() + (t instanceof ScalarToken st ? "(" + st.getValue() + "," + st.getStyle() + ")" : "")
                        + " " + mark(t.getStartMark()) + "-" + mark(t.getEndMark()));
                if (t.getTokenId() == Token.ID.StreamEnd) break;
            }
        } catch (RuntimeException e) {
            out.add("error: " + e.getMessage());
        }
        return out;
    }

    private static String mark(Mark m) {
        return m.getIndex() + ":" + m.getLine() + ":" + m.getColumn();
    }

    @Test
    void aTextOverTheLimitIsRefusedNamingIt() {
        String big = "a: b\n# " + "x".repeat(YamlTree.MAX_CODE_POINTS);
        assertThatThrownBy(() -> YamlTree.read(big)).isInstanceOf(YamlTree.SyntaxError.class)
                .hasMessageContaining("too large").hasMessageContaining("at most " + YamlTree.MAX_CODE_POINTS);
        assertThatThrownBy(() -> TopologyParser.parse(big, "big.yaml")).isInstanceOf(TopologyException.class)
                .hasMessageContaining("at most " + YamlTree.MAX_CODE_POINTS);
    }

    @Test
    void aLongTokenWithinTheLimitIsRead() throws Exception {
        // one 1 MB comment and one 1 MB scalar: SnakeYAML's reader needed seconds for these (quadratic), now read at once
        YamlTree.Result r = YamlTree.read("name: " + "v".repeat(1_000_000) + "\n# " + "c".repeat(40_000) + "\n");
        assertThat(((YamlTree.YMap) r.root()).entries().getFirst().value()).isInstanceOf(YamlTree.YScalar.class);
    }

    @Test
    void nestingDeeperThanTheLimitIsRefusedWithItsPlace() {
        String deep = "x: " + "[".repeat(YamlTree.MAX_DEPTH + 1) + "]".repeat(YamlTree.MAX_DEPTH + 1) + "\n";
        assertThatThrownBy(() -> YamlTree.read(deep)).isInstanceOf(YamlTree.SyntaxError.class)
                .hasMessageContaining("nesting too deep").hasMessageContaining("at most " + YamlTree.MAX_DEPTH)
                .satisfies(e -> assertThat(((YamlTree.SyntaxError) e).loc().line()).isEqualTo(1));
        String ok = "x: " + "[".repeat(YamlTree.MAX_DEPTH - 1) + "]".repeat(YamlTree.MAX_DEPTH - 1) + "\n";
        org.assertj.core.api.Assertions.assertThatCode(() -> YamlTree.read(ok)).doesNotThrowAnyException();
    }

    @Test
    void tooManyAliasesAreRefused() {
        String many = "a: &a x\nl:\n" + "  - *a\n".repeat(YamlTree.MAX_ALIASES + 1);
        assertThatThrownBy(() -> YamlTree.read(many)).isInstanceOf(YamlTree.SyntaxError.class)
                .hasMessageContaining("too many aliases").hasMessageContaining("at most " + YamlTree.MAX_ALIASES);
    }

    @Test
    void aNumberOrABooleanIsNotAName() {
        String file = "apiVersion: vmctl/v1\nkind: Topology\nname: 123\nnetworks:\n  - {name: 1.5, subnet: 198.18.0.0/24}\n"
                + "nodes:\n  - name: 5\n    vms:\n      - {name: true, image: tiny, nics: [7]}\n";
        assertThatThrownBy(() -> TopologyParser.parse(file, "t.yaml")).isInstanceOf(TopologyException.class)
                .extracting(e -> ((TopologyException) e).problems().toString()).asString()
                .contains("name: expected a name (a string: a number or a boolean is not one), found an integer 123")
                .contains("networks[0].name: expected a name").contains("found a number 1.5")
                .contains("nodes[0].name: expected a name")
                .contains("nodes[0].vms[0].name: expected a name").contains("found a boolean true")
                .contains("nodes[0].vms[0].nics[0]");
        // quoted, the same are names
        String quoted = "apiVersion: vmctl/v1\nkind: Topology\nname: \"123\"\nnodes:\n  - name: \"5\"\n    vms:\n      - {name: \"v1\", image: tiny}\n";
        assertThat(TopologyParser.parse(quoted, "t.yaml").name()).isEqualTo("123");
    }

    @Test
    void aForbiddenCharacterIsASyntaxErrorAsBefore() {
        assertThatThrownBy(() -> YamlTree.read("a: b\nc: \u0007\n")).isInstanceOf(YamlTree.SyntaxError.class)
                .hasMessageContaining("special characters are not allowed");
    }
}
