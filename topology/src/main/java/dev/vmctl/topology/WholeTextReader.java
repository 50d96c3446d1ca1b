package dev.vmctl.topology;

import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.scanner.Constant;

import java.io.StringReader;

/**
 * SnakeYAML's character source over a text that is already in memory, read in linear time.
 *
 * <p>SnakeYAML's own {@link StreamReader} reads 1 023 characters at a time and copies everything from the start
 * of the current token onto a new array at each read, so scanning one token (a comment, a scalar) of n characters
 * costs n²/1 023 copies: a 3 MB comment took 5 s, two of them at once 17 s. This one holds the whole text as code
 * points and never copies. It behaves as SnakeYAML's does (same line/column counting, {@code '\0'} past the end,
 * the same error for a character YAML does not allow, raised when the scanner reaches it).
 */
final class WholeTextReader extends StreamReader {
    private static final String NAME = "'string'";

    private final int[] data;
    private final int firstBad; // index of the first code point YAML does not allow, or data.length
    private int pointer;
    private int documentIndex;
    private int line;
    private int column;

    WholeTextReader(String text) {
        super(new StringReader(""));
        this.data = text.codePoints().toArray();
        int bad = data.length;
        for (int i = 0; i < data.length; i++) {
            if (!isPrintable(data[i])) {
                bad = i;
                break;
            }
        }
        this.firstBad = bad;
    }

    /** Whether the code point {@code size} ahead exists; fails on a forbidden character before it. */
    private boolean has(int size) {
        int at = pointer + size;
        if (at >= firstBad && firstBad < data.length) {
            throw new ReaderException(NAME, firstBad, data[firstBad], "special characters are not allowed");
        }
        return at < data.length;
    }

    @Override
    public Mark getMark() {
        return new Mark(NAME, pointer, line, column, data, pointer);
    }

    @Override
    public void forward() {
        forward(1);
    }

    @Override
    public void forward(int length) {
        for (int i = 0; i < length && has(0); i++) {
            int c = data[pointer++];
            documentIndex++;
            if (Constant.LINEBR.has(c) || (c == '\r' && has(0) && data[pointer] != '\n')) {
                line++;
                column = 0;
            } else if (c != 0xFEFF) {
                column++;
            }
        }
    }

    @Override
    public int peek() {
        return has(0) ? data[pointer] : '\0';
    }

    @Override
    public int peek(int index) {
        return has(index) ? data[pointer + index] : '\0';
    }

    @Override
    public String prefix(int length) {
        if (length == 0) return "";
        if (has(length)) return new String(data, pointer, length);
        return new String(data, pointer, Math.min(length, data.length - pointer));
    }

    @Override
    public String prefixForward(int length) {
        String prefix = prefix(length);
        pointer += length;
        documentIndex += length;
        column += length; // a prefix never holds a line break
        return prefix;
    }

    @Override
    public int getColumn() { return column; }

    @Override
    public int getDocumentIndex() { return documentIndex; }

    @Override
    public void resetDocumentIndex() { documentIndex = 0; }

    @Override
    public int getIndex() { return pointer; }

    @Override
    public int getLine() { return line; }
}
