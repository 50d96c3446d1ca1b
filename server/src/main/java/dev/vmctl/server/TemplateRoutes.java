package dev.vmctl.server;

import dev.vmctl.engine.Templates;
import dev.vmctl.model.InvocationView;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /api/v1/templates…} (request-driven node templates, their pool and invocations) and {@code /run/{name}/…}: any
 * method, headers and body forwarded to a fresh copy of the template's node, its answer streamed back with a
 * {@code Server-Timing} header.
 */
final class TemplateRoutes {
    /** The methods {@code /run/…} forwards. */
    static final List<HandlerType> RUN_METHODS = List.of(HandlerType.GET, HandlerType.POST, HandlerType.PUT, HandlerType.DELETE,
            HandlerType.PATCH, HandlerType.HEAD, HandlerType.OPTIONS);
    private final Templates templates;

    TemplateRoutes(Templates templates) {
        this.templates = templates;
    }

    record PoolBody(Integer warm) {}

    /** {@code POST /api/v1/templates/{name}/invocations}: a request described in JSON ({@code body} text, or {@code bodyBase64}). */
    record InvokeBody(String method, String path, Map<String, String> headers, String body, String bodyBase64) {}

    /** Its answer: the service's status, headers and body (text when it is UTF-8, else {@code bodyBase64}) and the timings. */
    record InvokeAnswer(int status, Map<String, String> headers, String body, String bodyBase64, Map<String, Double> timings,
                        InvocationView invocation) {}

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/templates", ctx -> Api.json(ctx, 200, templates.list()));
        r.add(HandlerType.POST, "/api/v1/templates", ctx -> Http.answer(ctx, 201, templates.create(Api.body(ctx, Templates.CreateRequest.class))));
        r.add(HandlerType.GET, "/api/v1/templates/{name}", ctx -> Api.json(ctx, 200, templates.get(ctx.pathParam("name"))));
        r.add(HandlerType.DELETE, "/api/v1/templates/{name}", ctx -> Http.answer(ctx, 200, templates.delete(ctx.pathParam("name"))));
        r.add(HandlerType.PUT, "/api/v1/templates/{name}/pool", ctx -> {
            PoolBody b = Api.body(ctx, PoolBody.class);
            Api.json(ctx, 200, templates.pool(ctx.pathParam("name"), b == null ? null : b.warm()));
        });
        r.add(HandlerType.GET, "/api/v1/templates/{name}/invocations", ctx -> {
            String l = ctx.queryParam("limit");
            int limit;
            try {
                limit = l == null ? 20 : Integer.parseInt(l);
            } catch (NumberFormatException e) {
                throw VmctlException.invalid("limit", "'" + l + "'", "a number of requests, 1-1000");
            }
            Api.json(ctx, 200, templates.invocations(ctx.pathParam("name"), limit));
        });
        r.add(HandlerType.POST, "/api/v1/templates/{name}/invocations", this::invokeJson);
    }

    /** {@code /run/{name}} and {@code /run/{name}/<path>} for every method in {@link #RUN_METHODS}. */
    void registerRun(Http.Routes r) {
        for (HandlerType t : RUN_METHODS) {
            r.add(t, "/run/{name}", ctx -> run(ctx, "/"));
            r.add(t, "/run/{name}/<path>", ctx -> run(ctx, "/" + ctx.pathParam("path")));
        }
    }

    private void run(Context ctx, String path) {
        String name = ctx.pathParam("name");
        String q = ctx.queryString();
        String target = q == null || q.isEmpty() ? path : path + "?" + q;
        long declared = ctx.contentLength();
        if (declared > dev.vmctl.engine.Templates.maxBody()) {
            throw new VmctlException(VmctlException.Kind.INVALID, "request body of " + declared + " bytes is larger than the limit",
                    "at most " + dev.vmctl.engine.Templates.maxBody() + " bytes");
        }
        byte[] body = ctx.bodyAsBytes();
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (String h : java.util.Collections.list(ctx.req().getHeaderNames())) {
            for (String v : java.util.Collections.list(ctx.req().getHeaders(h))) headers.add(Map.entry(h, v));
        }
        try {
            templates.invoke(name, new Templates.Invocation(ctx.method().name(), target, headers, body), new Templates.Sink() {
                @Override
                public void head(int status, List<Map.Entry<String, String>> hs) {
                    ctx.status(status);
                    java.util.Set<String> seen = new java.util.HashSet<>();
                    for (var h : hs) {
                        if (seen.add(h.getKey().toLowerCase(Locale.ROOT))) ctx.res().setHeader(h.getKey(), h.getValue());
                        else ctx.res().addHeader(h.getKey(), h.getValue());
                    }
                }

                @Override
                public OutputStream body() throws IOException {
                    return ctx.res().getOutputStream();
                }
            });
        } catch (Templates.Refused e) {
            refused(ctx, e);
        }
    }

    private static void refused(Context ctx, Templates.Refused e) {
        if (e.status == 0) { // the answer was under way: it is cut, nothing more can be said
            ctx.res().setHeader("Connection", "close");
            return;
        }
        if (e.retryAfter != null) ctx.header("Retry-After", String.valueOf(e.retryAfter));
        if (e.serverTiming != null) ctx.header("Server-Timing", e.serverTiming);
        Api.json(ctx, e.status, new Api.ErrorBody(e.getMessage(), switch (e.status) {
            case 429 -> "retry after " + e.retryAfter + "s, or raise the limit (template create --max-concurrent)";
            case 504 -> "the request took longer than the template's timeout (template create --timeout); its node was removed all the same";
            default -> "the template's service failed; its node was removed";
        }));
    }

    private void invokeJson(Context ctx) {
        InvokeBody b = Api.body(ctx, InvokeBody.class);
        String method = b == null || b.method() == null ? "GET" : b.method().toUpperCase(Locale.ROOT);
        if (RUN_METHODS.stream().noneMatch(t -> t.name().equals(method))) {
            throw VmctlException.invalid("method", "'" + method + "'", String.join(", ", RUN_METHODS.stream().map(HandlerType::name).toList()));
        }
        String path = b == null || b.path() == null || b.path().isBlank() ? "/" : b.path();
        if (!path.startsWith("/")) throw VmctlException.invalid("path", "'" + path + "' does not start with /", "a path like /x?y=1");
        if (path.chars().anyMatch(c -> c <= ' ' || c >= 127)) throw VmctlException.invalid("path", "contains spaces or control characters", "a URL path with its query, percent-encoded");
        byte[] body;
        if (b != null && b.bodyBase64() != null) {
            try {
                body = Base64.getDecoder().decode(b.bodyBase64());
            } catch (IllegalArgumentException e) {
                throw VmctlException.invalid("bodyBase64", "not base64", "the body in base64");
            }
        } else {
            body = b == null || b.body() == null ? new byte[0] : b.body().getBytes(StandardCharsets.UTF_8);
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        if (b != null && b.headers() != null) {
            for (var e : b.headers().entrySet()) {
                if (e.getKey() == null || e.getKey().isBlank() || e.getKey().chars().anyMatch(c -> c <= ' ' || c == ':' || c >= 127)
                        || e.getValue() == null || e.getValue().indexOf('\r') >= 0 || e.getValue().indexOf('\n') >= 0) {
                    throw VmctlException.invalid("headers", "'" + e.getKey() + "' is not a valid header", "names without spaces or ':', values on one line");
                }
                headers.add(Map.entry(e.getKey(), e.getValue()));
            }
        }
        int[] status = {0};
        Map<String, String> hs = new LinkedHashMap<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            InvocationView v = templates.invoke(ctx.pathParam("name"), new Templates.Invocation(method, path, headers, body), new Templates.Sink() {
                @Override
                public void head(int s, List<Map.Entry<String, String>> h) {
                    status[0] = s;
                    for (var e : h) hs.merge(e.getKey(), e.getValue(), (a, c) -> a + ", " + c);
                }

                @Override
                public OutputStream body() {
                    return out;
                }
            });
            byte[] bytes = out.toByteArray();
            String text = utf8(bytes);
            Api.json(ctx, 200, new InvokeAnswer(status[0], hs, text, text == null ? Base64.getEncoder().encodeToString(bytes) : null, v.timings(), v));
        } catch (Templates.Refused e) {
            if (e.status == 0) throw new VmctlException(VmctlException.Kind.UNAVAILABLE, e.getMessage(), "the service's answer broke off");
            refused(ctx, e);
        }
    }

    /** The bytes as text when they are valid UTF-8, else null. */
    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }
}
