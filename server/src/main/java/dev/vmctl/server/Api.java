package dev.vmctl.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.vmctl.model.SnapshotView;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;

import java.util.List;
import java.util.stream.Collectors;

/** JSON in and out, and the one place where errors become HTTP statuses. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .setSerializationInclusion(JsonInclude.Include.ALWAYS)
            .addMixIn(SnapshotView.class, SnapshotTimes.class)
            .addMixIn(HostView.Accel.class, ProbeTimes.class);

    /** A snapshot's {@code pausedMillis} and {@code totalMillis} are in its JSON only when set (in the answer to a new one). */
    private abstract static class SnapshotTimes {
        @JsonInclude(JsonInclude.Include.NON_NULL)
        abstract Long pausedMillis();

        @JsonInclude(JsonInclude.Include.NON_NULL)
        abstract Long totalMillis();
    }

    /** The accelerator probe's {@code probedAt} and {@code probeMillis} are in the host's JSON only when a probe ran. */
    private abstract static class ProbeTimes {
        @JsonInclude(JsonInclude.Include.NON_NULL)
        abstract String probedAt();

        @JsonInclude(JsonInclude.Include.NON_NULL)
        abstract Long probeMillis();
    }

    /**
     * What request bodies are read with: like {@link #JSON}, and no JSON type is silently converted into another
     * (a number is not a string, 5 is not true, 1.5 is not an integer, null is not a number).
     */
    static final ObjectMapper STRICT = strict(JSON.copy());

    private static ObjectMapper strict(ObjectMapper m) {
        m.disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS);
        m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        m.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        m.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // {"name":"a","name":"b"}
        var fail = com.fasterxml.jackson.databind.cfg.CoercionAction.Fail;
        var textual = m.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Textual);
        for (var shape : List.of(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer,
                com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float,
                com.fasterxml.jackson.databind.cfg.CoercionInputShape.Boolean)) {
            textual.setCoercion(shape, fail);
        }
        m.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Boolean)
                .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer, fail);
        return m;
    }

    private Api() {}

    static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses a request body into a record; unknown fields and wrong types are a 400 naming the field. */
    static <T> T body(Context ctx, Class<T> type) {
        String b = ctx.body();
        if (b.isBlank()) b = "{}";
        T value;
        try {
            value = STRICT.readValue(b, type);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
            throw VmctlException.invalid(fieldOf(e), "unknown field", known);
        } catch (com.fasterxml.jackson.core.exc.InputCoercionException e) {
            throw VmctlException.invalid(fieldOf(e), "the number " + numberOf(e) + " is out of range",
                    "a number that fits a " + (e.getTargetType() == null ? "number" : e.getTargetType().getSimpleName()) + " field");
        } catch (InvalidFormatException e) {
            throw VmctlException.invalid(fieldOf(e), "'" + e.getValue() + "' is not a valid " + e.getTargetType().getSimpleName(),
                    "a value of type " + e.getTargetType().getSimpleName());
        } catch (MismatchedInputException e) {
            throw VmctlException.invalid(fieldOf(e), "wrong JSON type", "a value of type "
                    + (e.getTargetType() == null ? "?" : e.getTargetType().getSimpleName()));
        } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
            String msg = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
            if (msg.contains("out of range")) {
                throw VmctlException.invalid(fieldOf(e), "the number is out of range", "a number that fits the field");
            }
            throw VmctlException.invalid(fieldOf(e), "not a valid value", msg.lines().findFirst().orElse(""));
        } catch (JsonProcessingException e) {
            throw new VmctlException(VmctlException.Kind.INVALID, "invalid JSON body", e.getOriginalMessage());
        }
        if (value == null) throw VmctlException.invalid("body", "null is not a JSON object", "a JSON object");
        return value;
    }

    /** The field path of a number that does not fit, from the parser's position ("nics[0].ip"). */
    private static String fieldOf(com.fasterxml.jackson.core.exc.InputCoercionException e) {
        if (!(e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser p)) return "body";
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (var c = p.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            else if (c.getCurrentName() != null) parts.addFirst("." + c.getCurrentName());
        }
        String f = String.join("", parts);
        if (f.startsWith(".")) f = f.substring(1);
        return f.isEmpty() ? "body" : f;
    }

    private static String numberOf(com.fasterxml.jackson.core.exc.InputCoercionException e) {
        try {
            return e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser p ? p.getText() : "";
        } catch (java.io.IOException io) {
            return "";
        }
    }

    private static String fieldOf(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder f = new StringBuilder();
        for (var r : e.getPath()) {
            if (r.getFieldName() != null) f.append(f.isEmpty() ? "" : ".").append(r.getFieldName());
            else f.append('[').append(r.getIndex()).append(']');
        }
        return f.isEmpty() ? "body" : f.toString();
    }

    static int status(VmctlException.Kind kind) {
        return switch (kind) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT, WRONG_STATE -> 409;
            case UNAVAILABLE -> 503;
            case INTERNAL -> 500;
            case FORBIDDEN -> 403;
            case UNAUTHORIZED -> 401;
        };
    }

    /** Every error's body, {@code {"error": ..., "detail": ...}}; {@code detail} may be null. */
    record ErrorBody(String error, String detail) {}
}
