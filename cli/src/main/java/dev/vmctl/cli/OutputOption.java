package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/** {@code -o json|table}: json prints the server's JSON as it came (pretty); table is for people. */
final class OutputOption {
    enum Format { table, json }

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table (default) or json (the server's JSON, pretty-printed)")
    Format format = Format.table;

    boolean json() {
        return format == Format.json;
    }

    /** Prints {@code node}; an answer without a body (204) prints nothing. */
    static void printJson(PrintWriter out, JsonNode node) {
        if (node == null || node.isMissingNode()) return;
        out.println(Json.pretty(node));
        out.flush();
    }
}
