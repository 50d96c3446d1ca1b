package dev.vmctl.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;

/** Reading the server's JSON (tolerant of fields and enum values it does not know) and printing it. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL)
            .build();

    /** Two-space indent, "key": value, arrays one element a line, '\n' on every platform. */
    private static final ObjectWriter PRETTY;

    static {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                        .withObjectEmptySeparator("")
                        .withArrayEmptySeparator(""));
        printer.indentObjectsWith(indenter);
        printer.indentArraysWith(indenter);
        PRETTY = MAPPER.writer(printer);
    }

    private Json() {}

    static String pretty(JsonNode node) {
        try {
            return PRETTY.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot print JSON", e);
        }
    }

    static JsonNode parse(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }

    /** Converts the server's answer to a model record; a mismatch is the server's fault, not a usage error. */
    static <T> T as(JsonNode node, Class<T> type) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            throw CliException.failed("unexpected answer from the server: not a " + type.getSimpleName(),
                    e.getOriginalMessage(), e);
        } catch (IllegalArgumentException e) {
            throw CliException.failed("unexpected answer from the server: not a " + type.getSimpleName(),
                    e.getMessage(), e);
        }
    }

    static <T> List<T> listOf(JsonNode node, Class<T> type) {
        if (!node.isArray()) {
            throw CliException.failed("unexpected answer from the server: expected a list of "
                    + type.getSimpleName(), abbreviate(node.toString()));
        }
        List<T> list = new ArrayList<>(node.size());
        for (JsonNode element : node) list.add(as(element, type));
        return list;
    }

    static String abbreviate(String text) {
        String t = text.strip();
        return t.length() <= 300 ? t : t.substring(0, 300) + "…";
    }
}
