package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What each route takes as a request body: how many bytes at most, and of which content types. The types come from
 * the published OpenAPI document (its {@code requestBody} of the operation), so the document and the server cannot
 * disagree; the limits are {@link #BODY_BYTES} for every route but the uploads named in the constructor.
 * A route that declares no body takes none or a JSON one (clients send {@code {}} or nothing).
 * {@link BodyLimitFilter} enforces the size (also of bodies without Content-Length), {@link #checkType} the type.
 */
final class RouteRules {
    /** JSON bodies, topology and scenario files: 1 MiB. */
    static final long BODY_BYTES = 1 << 20;

    static final List<String> YAML = List.of("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml");

    /** One route: method, its path as registered (Javalin syntax) split into segments, the body limit, the types. */
    record Rule(String method, String path, String[] segments, long maxBytes, List<String> types) {
        boolean anyType() { return types.contains("*/*"); }
    }

    private final JsonNode paths;
    private final Map<String, Long> uploads;
    private final List<Rule> rules = new ArrayList<>();

    /**
     * @param openApi the OpenAPI document's text
     * @param uploads limits of the routes that take more than {@link #BODY_BYTES}, by "METHOD /path" (OpenAPI syntax)
     */
    RouteRules(String openApi, Map<String, Long> uploads) {
        try {
            this.paths = Api.JSON.readTree(openApi).path("paths");
        } catch (IOException e) {
            throw new IllegalStateException("openapi.json: " + e.getMessage(), e);
        }
        this.uploads = Map.copyOf(uploads);
    }

    static String openApiPath(String javalinPath) {
        return javalinPath.replace("<", "{").replace(">", "}");
    }

    /** Registers a route (method as HTTP names it, path in Javalin syntax) and returns its rule. */
    synchronized Rule add(String method, String javalinPath) {
        String p = openApiPath(javalinPath);
        JsonNode content = paths.path(p).path(method.toLowerCase(Locale.ROOT)).path("requestBody").path("content");
        Set<String> types = new LinkedHashSet<>();
        for (var it = content.fieldNames(); it.hasNext(); ) {
            String t = it.next();
            if (t.equals("application/yaml")) types.addAll(YAML);
            else types.add(t);
        }
        if (types.isEmpty()) types.add("application/json");
        long max = uploads.getOrDefault(method + " " + p, BODY_BYTES);
        Rule r = new Rule(method, p, split(javalinPath), max, List.copyOf(types));
        rules.add(r);
        return r;
    }

    /** The rule of the route a request goes to (the one with most literal segments), or null for no route. */
    Rule match(String method, String path) {
        String[] s = split(path);
        Rule best = null;
        int bestLiterals = -1;
        synchronized (this) {
            for (Rule r : rules) {
                if (!r.method.equals(method)) continue;
                int lit = literals(r.segments, s);
                if (lit > bestLiterals) {
                    best = r;
                    bestLiterals = lit;
                }
            }
        }
        return best;
    }

    /** How many literal segments of {@code pattern} match {@code s}, or -1 when it does not match. */
    private static int literals(String[] pattern, String[] s) {
        int lit = 0;
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.startsWith("<")) return s.length > i ? lit : -1; // <rest>: one or more segments
            if (i >= s.length) return -1;
            if (p.startsWith("{")) continue;
            if (!p.equals(s[i])) return -1;
            lit++;
        }
        return s.length == pattern.length ? lit : -1;
    }

    private static String[] split(String path) {
        return java.util.Arrays.stream(path.split("/")).filter(x -> !x.isEmpty()).toArray(String[]::new);
    }

    /** Whether the request carries a body (a Content-Length above 0, or chunked). */
    static boolean hasBody(Context ctx) {
        long n = ctx.req().getContentLengthLong();
        return n > 0 || (n < 0 && ctx.header("Transfer-Encoding") != null);
    }

    /**
     * 415 unless the body's content type is one the route takes; a request without a body passes (whatever its
     * Content-Type). Runs after the guards, before the handler.
     */
    static void checkType(Context ctx, Rule r) {
        if (r == null || r.anyType() || !hasBody(ctx)) return;
        String ct = ctx.header("Content-Type");
        String type = ct == null ? "" : ct.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (r.types.contains(type)) return;
        throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                (type.isEmpty() ? "a request body without Content-Type" : "unsupported Content-Type '" + type + "'")
                        + " for " + r.method + " " + r.path,
                Map.of("detail", "allowed: " + String.join(", ", r.types)));
    }

    /** The 413 of a body over the route's limit. */
    static HttpResponseException tooLarge(Rule r, long declared) {
        return new HttpResponseException(HttpStatus.CONTENT_TOO_LARGE.getCode(),
                "request body " + (declared >= 0 ? "of " + declared + " bytes " : "") + "is larger than the limit of "
                        + r.method + " " + r.path,
                Map.of("detail", "allowed: at most " + r.maxBytes + " bytes (" + human(r.maxBytes) + ")"));
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) return (bytes >> 30) + " GiB";
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) return (bytes >> 20) + " MiB";
        if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) return (bytes >> 10) + " KiB";
        return bytes + " bytes";
    }

    /** An input stream that fails with the route's 413 once more than {@code max} bytes have been read from it. */
    static final class Capped extends InputStream {
        private final InputStream in;
        private final Rule rule;
        private long read;

        Capped(InputStream in, Rule rule) {
            this.in = in;
            this.rule = rule;
        }

        private int count(int n) {
            if (n > 0) {
                read += n;
                if (read > rule.maxBytes) throw tooLarge(rule, -1);
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) count(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return count(in.read(b, off, len));
        }

        @Override
        public int available() throws IOException { return in.available(); }

        @Override
        public void close() throws IOException { in.close(); }
    }
}
