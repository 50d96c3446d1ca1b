package dev.vmctl.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Left-aligned columns separated by two spaces, headers in capitals, no trailing blanks. */
final class Table {
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    Table(List<String> headers) {
        this.headers = List.copyOf(headers);
    }

    Table(String... headers) {
        this(List.of(headers));
    }

    Table row(List<?> cells) {
        if (cells.size() != headers.size()) {
            throw new IllegalArgumentException(cells.size() + " cells for " + headers.size() + " columns");
        }
        List<String> r = new ArrayList<>(cells.size());
        for (Object c : cells) r.add(c == null ? "-" : oneLine(String.valueOf(c)));
        rows.add(r);
        return this;
    }

    /** A null cell prints as "-". */
    Table row(Object... cells) {
        return row(Arrays.asList(cells));
    }

    void print(PrintWriter out) {
        print(out, "");
    }

    /** The table with every line (header included) prefixed by {@code indent}. */
    void print(PrintWriter out, String indent) {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) width[i] = headers.get(i).length();
        for (List<String> r : rows) {
            for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
        }
        printRow(out, indent, headers, width);
        for (List<String> r : rows) printRow(out, indent, r, width);
        out.flush();
    }

    private static void printRow(PrintWriter out, String indent, List<String> cells, int[] width) {
        StringBuilder b = new StringBuilder(indent);
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) b.append("  ");
            b.append(cells.get(i));
            if (i < cells.size() - 1) b.append(" ".repeat(width[i] - cells.get(i).length()));
        }
        out.println(b.toString().stripTrailing());
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
