package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmSpec;
import dev.vmctl.server.VmctlServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The published OpenAPI document and the live server agree: same routes, and responses match the schemas. */
@ExtendWith(Fixture.class)
class OpenApiIT {

    @Test
    void documentedRoutesAreExactlyTheServersRoutes(Fixture f, @TempDir Path tmp) throws Exception {
        JsonNode doc = f.api.get("/api/v1/openapi.json").json();
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        Set<String> documented = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("paths").fields(); it.hasNext(); ) {
            var e = it.next();
            for (Iterator<String> m = e.getValue().fieldNames(); m.hasNext(); ) {
                String method = m.next();
                if (!method.equals("parameters")) documented.add(method.toUpperCase() + " " + e.getKey());
            }
        }
        Set<String> registered = new TreeSet<>();
        try (VmctlServer s = new VmctlServer(new VmctlServer.Options(tmp, "127.0.0.1", 0, VmSpec.Accel.TCG, Duration.ofSeconds(30)))) {
            for (VmctlServer.Route r : s.start().routes()) registered.add(r.method() + " " + r.path());
        }
        assertThat(documented).isEqualTo(registered);

        // and each documented route answers on the live server (no "no such endpoint")
        for (String route : documented) {
            String[] mp = route.split(" ", 2);
            if (mp[1].equals("/api/v1/events") || mp[1].endsWith("/build")) continue; // stream; long build: covered elsewhere
            if (mp[0].equals("HEAD")) continue; // no body to read the error from (GET of the same route is checked)
            String path = mp[1].replace("{id}", "no-such-vm").replace("{name}", "no-such-image").replace("{nic}", "eth0").replace("{topology}", "no-such-topo").replace("{node}", "no-such-node").replace("{file}", "no-such-asset.js").replace("{path}", "x/y").replace("{sha256}", "no-such-artifact");
            Api.Response r = f.api.send(mp[0], path, mp[0].equals("POST") && path.endsWith("/exec") ? Map.of("argv", List.of("true")) : null);
            assertThat(r.status()).as(route + " → " + r.body()).isNotEqualTo(405);
            if (r.status() == 404) assertThat(r.json().path("error").asText()).as(route).contains("not found: no-such");
        }
    }

    @Test
    void liveResponsesMatchTheSchemas(Fixture f) {
        JsonNode doc = f.api.get("/api/v1/openapi.json").json();
        JsonNode vm = f.runningVm("schema1");
        try {
            check(doc, ref(doc, "Vm"), f.api.get("/api/v1/vms/schema1").json(), "Vm");
            for (JsonNode v : f.api.get("/api/v1/vms").json()) check(doc, ref(doc, "Vm"), v, "Vm[]");
            for (JsonNode i : f.api.get("/api/v1/images").json()) check(doc, ref(doc, "Image"), i, "Image");
            check(doc, ref(doc, "Host"), f.api.get("/api/v1/host").json(), "Host");
            check(doc, ref(doc, "ExecResult"),
                    f.api.post("/api/v1/vms/schema1/exec", Map.of("argv", List.of("true"))).json(), "ExecResult");
            check(doc, ref(doc, "Error"), f.api.get("/api/v1/vms/nope").json(), "Error");
            check(doc, ref(doc, "Error"), f.api.post("/api/v1/vms", Map.of("name", "BAD")).json(), "Error");
            assertThat(vm.path("state").asText()).isEqualTo("RUNNING");
        } finally {
            f.destroyQuietly("schema1");
        }
    }

    private static JsonNode ref(JsonNode doc, String name) {
        return doc.path("components").path("schemas").path(name);
    }

    /** A small checker for the subset of JSON Schema the document uses: $ref, type, required, enum, nullable, items. */
    static void check(JsonNode doc, JsonNode schema, JsonNode value, String where) {
        if (schema.has("$ref")) {
            String name = schema.path("$ref").asText().replace("#/components/schemas/", "");
            check(doc, ref(doc, name), value, where);
            return;
        }
        if (value == null || value.isNull() || value.isMissingNode()) {
            assertThat(schema.path("nullable").asBoolean(false)).as(where + " is null but not nullable").isTrue();
            return;
        }
        String type = schema.path("type").asText("");
        switch (type) {
            case "string" -> assertThat(value.isTextual()).as(where + " string: " + value).isTrue();
            case "integer" -> assertThat(value.isIntegralNumber()).as(where + " integer: " + value).isTrue();
            case "boolean" -> assertThat(value.isBoolean()).as(where + " boolean: " + value).isTrue();
            case "array" -> {
                assertThat(value.isArray()).as(where + " array").isTrue();
                for (JsonNode item : value) check(doc, schema.path("items"), item, where + "[]");
            }
            case "object" -> {
                assertThat(value.isObject()).as(where + " object").isTrue();
                List<String> missing = new ArrayList<>();
                for (JsonNode req : schema.path("required")) if (!value.has(req.asText())) missing.add(req.asText());
                assertThat(missing).as(where + " required fields missing").isEmpty();
                for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext(); ) {
                    var p = it.next();
                    if (value.has(p.getKey())) check(doc, p.getValue(), value.get(p.getKey()), where + "." + p.getKey());
                }
            }
            default -> { }
        }
        if (schema.has("enum") && value.isTextual()) {
            List<String> allowed = new ArrayList<>();
            schema.path("enum").forEach(e -> allowed.add(e.asText()));
            assertThat(allowed).as(where + " enum").contains(value.asText());
        }
    }
}
