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
        try {
            return JSON.readValue(b, type);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
            throw VmctlException.invalid(e.getPropertyName(), "unknown field", known);
        } catch (InvalidFormatException e) {
            throw VmctlException.invalid(fieldOf(e), "'" + e.getValue() + "' is not a valid " + e.getTargetType().getSimpleName(),
                    "a value of type " + e.getTargetType().getSimpleName());
        } catch (MismatchedInputException e) {
            throw VmctlException.invalid(fieldOf(e), "wrong JSON type", "a value of type "
                    + (e.getTargetType() == null ? "?" : e.getTargetType().getSimpleName()));
        } catch (JsonProcessingException e) {
            throw new VmctlException(VmctlException.Kind.INVALID, "invalid JSON body", e.getOriginalMessage());
        }
    }

    private static String fieldOf(MismatchedInputException e) {
        String f = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
        return f.isEmpty() ? "body" : f;
    }

    static int status(VmctlException.Kind kind) {
        return switch (kind) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT, WRONG_STATE -> 409;
            case UNAVAILABLE -> 503;
            case INTERNAL -> 500;
        };
    }

    /** Every error's body, {@code {"error": ..., "detail": ...}}; {@code detail} may be null. */
    record ErrorBody(String error, String detail) {}
}
