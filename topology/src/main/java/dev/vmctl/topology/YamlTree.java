package dev.vmctl.topology;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.parser.ParserImpl;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A YAML document read token by token (Jackson's YAMLParser) into a small tree that remembers where
 * every mapping, key, item and scalar starts, so that later checks can point at the line and column.
 * Public for the scenario module, whose files are read the same way.
 *
 * <p>Bounded: a text over {@link #MAX_CODE_POINTS} code points, nesting deeper than {@link #MAX_DEPTH} or more than
 * {@link #MAX_ALIASES} aliases is refused with a {@link SyntaxError} naming the limit, and the text is scanned in
 * linear time ({@link WholeTextReader}), so reading costs at most what a file of the largest allowed size costs.
 */
public final class YamlTree {
    /** The largest text read: 1 MiB of code points (the server's body limit for topology and scenario files). */
    public static final int MAX_CODE_POINTS = 1 << 20;
    /** How deep mappings and lists may nest. */
    public static final int MAX_DEPTH = 64;
    /** How many aliases ({@code *name}) one text may hold (they are not expanded, and vmctl's files need none). */
    public static final int MAX_ALIASES = 100;

    private static final YAMLFactory FACTORY = new LinearFactory();

    private YamlTree() {}

    /** 1-based line and column; (0, 0) when unknown. */
    public record Loc(int line, int column) {
        public static final Loc NONE = new Loc(0, 0);

        static Loc of(JsonLocation l) {
            return l == null || l.getLineNr() < 1 ? NONE : new Loc(l.getLineNr(), Math.max(1, l.getColumnNr()));
        }
    }

    public sealed interface Y permits YMap, YList, YScalar {
        Loc loc();

        /** "a mapping", "a list", "a string 'x'", … for messages about wrong types. */
        String describe();
    }

    public record Entry(String key, Loc keyLoc, Y value) {}

    public record YMap(Loc loc, List<Entry> entries) implements Y {
        public String describe() { return "a mapping"; }
    }

    public record YList(Loc loc, List<Y> items) implements Y {
        public String describe() { return "a list"; }
    }

    public enum ScalarKind { STRING, INT, FLOAT, BOOL, NULL, ALIAS }

    public record YScalar(Loc loc, ScalarKind kind, String text) implements Y {
        public String describe() {
            return switch (kind) {
                case STRING -> "a string '" + text + "'";
                case INT -> "an integer " + text;
                case FLOAT -> "a number " + text;
                case BOOL -> "a boolean " + text;
                case NULL -> "nothing (null)";
                case ALIAS -> "an alias *" + text;
            };
        }
    }

    /** A duplicate key or a second document: reported, the reading goes on. */
    public record Issue(Loc loc, String path, String message, String allowed) {}

    /** The document's root (null when the text holds no document), or a syntax error. */
    public record Result(Y root, List<Issue> issues) {}

    /** Thrown for text that is not YAML: where and what. */
    public static final class SyntaxError extends Exception {
        final Loc loc;

        SyntaxError(Loc loc, String message) {
            super(message, null, false, false);
            this.loc = loc;
        }

        /** Where the error is. */
        public Loc loc() { return loc; }
    }

    /** Reads a topology file's text. */
    public static Result read(String text) throws SyntaxError {
        return read(text, "a topology file");
    }

    /**
     * Reads a document's text.
     *
     * @param what how the message about a second document names the file, e.g. "a scenario file"
     */
    public static Result read(String text, String what) throws SyntaxError {
        List<Issue> issues = new ArrayList<>();
        if (text.length() > MAX_CODE_POINTS && text.codePointCount(0, text.length()) > MAX_CODE_POINTS) {
            throw new SyntaxError(Loc.NONE, what + " of " + text.codePointCount(0, text.length())
                    + " characters is too large (allowed: at most " + MAX_CODE_POINTS + " characters, 1 MiB)");
        }
        try (YAMLParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) return new Result(null, issues);
            Y root = value(p, "", issues, new int[1], 0);
            JsonToken more = p.nextToken();
            if (more != null) {
                issues.add(new Issue(Loc.of(p.currentTokenLocation()), "",
                        "a second YAML document ('---') follows; " + what + " holds exactly one", null));
            }
            return new Result(root, issues);
        } catch (StreamReadException e) {
            throw syntax(e);
        } catch (IOException e) {
            throw new SyntaxError(Loc.NONE, "cannot read the text: " + e.getMessage());
        }
    }

    private static Y value(YAMLParser p, String path, List<Issue> issues, int[] aliases, int depth) throws IOException, SyntaxError {
        JsonToken t = p.currentToken();
        Loc loc = Loc.of(p.currentTokenLocation());
        if ((t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) && depth >= MAX_DEPTH) {
            throw new SyntaxError(loc, "nesting too deep at " + (path.isEmpty() ? "the top" : path)
                    + " (allowed: at most " + MAX_DEPTH + " levels of mappings and lists)");
        }
        switch (t) {
            case START_OBJECT -> {
                List<Entry> entries = new ArrayList<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    Loc keyLoc = Loc.of(p.currentTokenLocation());
                    p.nextToken();
                    String child = path.isEmpty() ? key : path + "." + key;
                    Y v = value(p, child, issues, aliases, depth + 1);
                    Entry first = entries.stream().filter(e -> e.key().equals(key)).findFirst().orElse(null);
                    if (first != null) {
                        issues.add(new Issue(keyLoc, child, "duplicate field '" + key + "' (first at line "
                                + first.keyLoc().line() + ")", "each field once"));
                    } else {
                        entries.add(new Entry(key, keyLoc, v));
                    }
                }
                return new YMap(loc, entries);
            }
            case START_ARRAY -> {
                List<Y> items = new ArrayList<>();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) items.add(value(p, path + "[" + i++ + "]", issues, aliases, depth + 1));
                return new YList(loc, items);
            }
            case VALUE_STRING -> {
                if (p.isCurrentAlias() && ++aliases[0] > MAX_ALIASES) {
                    throw new SyntaxError(loc, "too many aliases (allowed: at most " + MAX_ALIASES + ")");
                }
                return new YScalar(loc, p.isCurrentAlias() ? ScalarKind.ALIAS : ScalarKind.STRING, p.getText());
            }
            case VALUE_NUMBER_INT -> { return new YScalar(loc, ScalarKind.INT, p.getText()); }
            case VALUE_NUMBER_FLOAT -> { return new YScalar(loc, ScalarKind.FLOAT, p.getText()); }
            case VALUE_TRUE, VALUE_FALSE -> { return new YScalar(loc, ScalarKind.BOOL, p.getText()); }
            case VALUE_NULL -> { return new YScalar(loc, ScalarKind.NULL, null); }
            default -> { return new YScalar(loc, ScalarKind.STRING, p.getText()); }
        }
    }

    /**
     * Jackson's YAML factory with SnakeYAML's limits set and a linear-time reader for the text; the parser it makes
     * is Jackson's own.
     */
    private static final class LinearFactory extends YAMLFactory {
        LinearFactory() {
            super(YAMLFactory.builder().loaderOptions(loaderOptions()));
        }

        private static LoaderOptions loaderOptions() {
            LoaderOptions o = new LoaderOptions();
            o.setCodePointLimit(MAX_CODE_POINTS);
            o.setNestingDepthLimit(MAX_DEPTH);
            o.setMaxAliasesForCollections(MAX_ALIASES);
            o.setAllowRecursiveKeys(false);
            return o;
        }

        @Override
        protected YAMLParser _createParser(Reader r, IOContext ctxt) throws IOException {
            StringWriter text = new StringWriter();
            r.transferTo(text);
            return new Parser(ctxt, _parserFeatures, _yamlParserFeatures, _objectCodec, r,
                    new ParserImpl(new WholeTextReader(text.toString()), _loaderOptions));
        }

        private static final class Parser extends YAMLParser {
            Parser(IOContext ctxt, int parserFeatures, int formatFeatures, ObjectCodec codec, Reader r, ParserImpl yaml) {
                super(ctxt, parserFeatures, formatFeatures, codec, r, yaml);
            }
        }
    }

    private static SyntaxError syntax(StreamReadException e) {
        Throwable c = e.getCause();
        if (c instanceof MarkedYAMLException m && m.getProblemMark() != null) {
            Mark pm = m.getProblemMark();
            StringBuilder msg = new StringBuilder("YAML syntax error: ").append(oneLine(m.getProblem()));
            if (m.getContext() != null) {
                msg.append("; ").append(oneLine(m.getContext()));
                Mark cm = m.getContextMark();
                if (cm != null) msg.append(" at line ").append(cm.getLine() + 1).append(", column ").append(cm.getColumn() + 1);
            }
            return new SyntaxError(new Loc(pm.getLine() + 1, pm.getColumn() + 1), msg.toString());
        }
        String msg = e.getOriginalMessage() == null ? String.valueOf(e.getMessage()) : e.getOriginalMessage();
        return new SyntaxError(Loc.of(e.getLocation()), "YAML syntax error: " + oneLine(msg));
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\n\\s*", " ");
    }
}
