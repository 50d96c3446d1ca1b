package dev.vmctl.server;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;

import java.time.Duration;

/** Query parameters (parsed before anything is done) and answers of mutating calls (with Operation-Location). */
final class Http {
    private Http() {}

    /** Where routes are declared (the server keeps the list for the OpenAPI check). */
    interface Routes {
        void add(HandlerType method, String path, Handler handler);
    }

    static boolean bool(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null) return false;
        return switch (v) {
            case "true", "1", "yes", "" -> true;
            case "false", "0", "no" -> false;
            default -> throw VmctlException.invalid(name, "'" + v + "' is not a boolean", "true, false");
        };
    }

    static int intParam(Context ctx, String name, int dflt, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null) return dflt;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw VmctlException.invalid(name, "'" + v + "' is not allowed", min + ".." + max);
        }
    }

    /** {@code ?timeout=} seconds for {@code ?wait=true} (default 180). */
    static Duration timeout(Context ctx) {
        return Duration.ofSeconds(intParam(ctx, "timeout", 180, 1, 3600));
    }

    /** The header every 2xx answer of a mutating call carries. */
    static void operationLocation(Context ctx, dev.vmctl.model.Operation op) {
        if (op != null) ctx.header("Operation-Location", "/api/v1/operations/" + op.id());
    }

    static void answer(Context ctx, int status, Accepted<?> a) {
        operationLocation(ctx, a.op());
        Api.json(ctx, status, a.value());
    }
}
