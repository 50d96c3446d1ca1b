package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.engine.Store;
import dev.vmctl.engine.TopologyService;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Impairment;
import dev.vmctl.model.NetworkView;
import dev.vmctl.model.NicView;
import dev.vmctl.model.RouterView;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static java.util.Map.entry;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * openapi.json against the Java records the server serialises (Jackson, every component always written), field by
 * field and both ways: names, rough JSON types (string, integer, number, boolean, array, object), enum values of Java
 * enums, "required" for every component, no "nullable" on primitives. Nested records (List&lt;Leg&gt;, Impairment …)
 * are compared with the nested schemas. No server, no VMs.
 */
class OpenApiContractTest {

    static final JsonNode DOC = load();

    /** response schema → the record the server writes for it */
    static final Map<String, Class<? extends Record>> RECORDS = Map.ofEntries(
            entry("Vm", VmView.class),
            entry("Nic", NicView.class),
            entry("Impairment", Impairment.class),
            entry("Network", NetworkView.class),
            entry("Router", RouterView.class),
            entry("Segment", dev.vmctl.model.SegmentView.class),
            entry("SegmentVpnEndpoint", dev.vmctl.model.SegmentView.Vpn.class),
            entry("SegmentVpn", dev.vmctl.model.SegmentVpnView.class),
            entry("Image", ImageInfo.class),
            entry("ImageDetail", dev.vmctl.model.ImageDetail.class),
            entry("BootSnapshot", dev.vmctl.model.BootSnapshotView.class),
            entry("ExecResult", ExecResult.class),
            entry("Event", VmEvent.class),
            entry("Node", dev.vmctl.model.NodeView.class),
            entry("Topology", dev.vmctl.model.TopologyView.class),
            entry("TopologyReport", dev.vmctl.model.TopologyReport.class),
            entry("NodeSnapshot", dev.vmctl.model.NodeSnapshotView.class),
            entry("Snapshot", dev.vmctl.model.SnapshotView.class),
            entry("Operation", dev.vmctl.model.Operation.class),
            entry("Scenario", dev.vmctl.model.ScenarioView.class),
            entry("ScenarioRun", dev.vmctl.model.ScenarioRun.class),
            entry("ScenarioStepResult", dev.vmctl.model.ScenarioStepResult.class),
            entry("ScenarioProblem", dev.vmctl.model.ScenarioProblem.class),
            entry("ScenarioValidation", dev.vmctl.model.ScenarioValidation.class),
            entry("HealReport", dev.vmctl.model.HealReport.class),
            entry("Host", HostView.class),
            entry("Error", Api.ErrorBody.class),
            entry("FileWritten", VmRoutes.FileWritten.class),
            entry("Artifact", dev.vmctl.model.ArtifactView.class),
            entry("VmArtifact", dev.vmctl.model.VmArtifactView.class),
            entry("Template", dev.vmctl.model.TemplateView.class),
            entry("TemplateMember", dev.vmctl.model.TemplateView.Member.class),
            entry("Invocation", dev.vmctl.model.InvocationView.class),
            entry("InvokeAnswer", TemplateRoutes.InvokeAnswer.class),
            entry("User", AuthRoutes.UserView.class),
            entry("IssuedToken", AuthRoutes.IssuedToken.class),
            entry("AuditEntry", AuthRoutes.AuditEntry.class),

            entry("MetricsWindow", dev.vmctl.model.Metrics.Window.class),
            entry("MetricSample", dev.vmctl.model.Metrics.Sample.class),
            entry("NicMetrics", dev.vmctl.model.Metrics.Nic.class),
            entry("GuestMetrics", dev.vmctl.model.Metrics.Guest.class),
            entry("MetricsLatest", dev.vmctl.model.Metrics.Latest.class));

    /** response schemas that no record backs yet: each says what builds the answer today */
    static final Map<String, String> NOT_RECORDS = Map.of();

    /** record fields the server leaves out when null (Api's Jackson mix-ins): not "required" */
    static final Set<String> OMITTED_WHEN_NULL = Set.of("Snapshot.pausedMillis", "Snapshot.totalMillis",
            "Host.accel.probedAt", "Host.accel.probeMillis");

    /** mutating routes that are not operations (no Operation-Location) */
    static final Set<String> NOT_OPERATIONS = Set.of(
            "POST /api/v1/vms/{id}/exec", "PUT /api/v1/vms/{id}/files", "POST /api/v1/operations/{id}/cancel",
            // saved scenario files are rows, not resources with a lane; an abort ends the run's own operation
            "POST /api/v1/scenarios", "POST /api/v1/scenarios/validate", "DELETE /api/v1/scenarios/{name}",
            "POST /api/v1/scenario-runs/{id}/abort",
            // heal is a batch of operations (one per link, impairment, partition), each with its own record
            "POST /api/v1/heal",
            // a request to a template's node is served, not queued behind others: its copy's VMs and segment are
            // operations of their own (vm.clone, segment.create/delete); the pool's size is a setting
            "POST /api/v1/templates/{name}/invocations", "PUT /api/v1/templates/{name}/pool",
            "POST /run/{name}", "PUT /run/{name}", "DELETE /run/{name}", "PATCH /run/{name}",
            "POST /run/{name}/{path}", "PUT /run/{name}/{path}", "DELETE /run/{name}/{path}", "PATCH /run/{name}/{path}",
            // users, tokens and the GUI's session are rows and a cookie, not resources with a lane
            "POST /api/v1/users", "DELETE /api/v1/users/{name}", "POST /api/v1/token/rotate", "POST /login", "POST /logout");

    static Stream<String> recordSchemas() {
        return RECORDS.keySet().stream().sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recordSchemas")
    void schemaMatchesRecordFieldByField(String schema) {
        List<String> problems = new ArrayList<>();
        compare(schemaNode(schema), RECORDS.get(schema), schema, problems);
        assertThat(problems).as("openapi.json schema %s vs record %s", schema, RECORDS.get(schema).getName()).isEmpty();
    }

    @Test
    void everyResponseSchemaIsARecordOrListedAsNotYet() {
        Set<String> reached = new TreeSet<>();
        DOC.path("paths").properties().forEach(p -> p.getValue().properties().forEach(m -> {
            if (m.getKey().equals("parameters")) return;
            m.getValue().path("responses").forEach(r -> collectRefs(r, reached));
        }));
        Set<String> objects = new TreeSet<>();
        for (String name : reached) if (!schemaNode(name).path("type").asText("object").equals("string")) objects.add(name);
        Set<String> unknown = new TreeSet<>(objects);
        unknown.removeAll(RECORDS.keySet());
        unknown.removeAll(NOT_RECORDS.keySet());
        assertThat(unknown).as("response schemas with no record in RECORDS (or a reason in NOT_RECORDS)").isEmpty();
        Set<String> stale = new TreeSet<>(RECORDS.keySet());
        stale.addAll(NOT_RECORDS.keySet());
        stale.removeAll(objects);
        assertThat(stale).as("schemas listed here that no response uses").isEmpty();
    }

    @Test
    void everyMutatingRouteNamesItsOperation() {
        List<String> problems = new ArrayList<>();
        Set<String> kinds = new TreeSet<>();
        DOC.path("paths").properties().forEach(p -> p.getValue().properties().forEach(m -> {
            String method = m.getKey();
            if (!Set.of("post", "put", "patch", "delete").contains(method)) return;
            String route = method.toUpperCase() + " " + p.getKey();
            String kind = m.getValue().path("x-operation-kind").asText(null);
            if (kind == null) {
                if (!NOT_OPERATIONS.contains(route)) problems.add(route + ": mutating route without x-operation-kind");
                return;
            }
            if (!kinds.add(kind)) problems.add(route + ": kind " + kind + " used twice");
            m.getValue().path("responses").properties().forEach(r -> {
                if (r.getKey().startsWith("2") && !r.getValue().path("headers").has("Operation-Location")) {
                    problems.add(route + " " + r.getKey() + ": no Operation-Location header");
                }
            });
        }));
        assertThat(problems).isEmpty();
        String documented = schemaNode("Operation").path("properties").path("kind").path("description").asText();
        for (String k : kinds) assertThat(documented).as("Operation.kind's description lists " + k).contains(k);
    }

    /** The EventType enum in openapi.json is exactly the Java one (every type the code can publish), both ways. */
    @Test
    void eventTypesAreDocumented() {
        Set<String> documented = new TreeSet<>();
        schemaNode("EventType").path("enum").forEach(e -> documented.add(e.asText()));
        Set<String> java = new TreeSet<>();
        for (dev.vmctl.model.EventType t : dev.vmctl.model.EventType.values()) java.add(t.wire());
        assertThat(documented).as("EventType enum in openapi.json vs dev.vmctl.model.EventType").isEqualTo(java);
    }

    /** No code publishes an event by a string of its own: every publish names a dev.vmctl.model.EventType. */
    @Test
    void eventsArePublishedByType() throws IOException {
        Pattern byString = Pattern.compile("\\.publish\\(\\s*\"");
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root, 8)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/java/")
                    && !f.toString().contains("/target/") && !f.toString().contains("/node_modules/")).toList()) {
                if (byString.matcher(Files.readString(f)).find()) offenders.add(root.relativize(f).toString());
            }
        }
        assertThat(offenders).as("files publishing events by a string instead of an EventType").isEmpty();
    }

    // ---------------------------------------------------------------- comparison

    private static void compare(JsonNode schema, Type type, String where, List<String> problems) {
        boolean nullable = schema.path("nullable").asBoolean(false);
        JsonNode s = resolve(schema);
        nullable |= s.path("nullable").asBoolean(false);
        Class<?> raw = rawClass(type);
        if (raw.isPrimitive() && nullable) problems.add(where + ": nullable in openapi.json, but a " + raw + " in Java is never null");
        String expected = jsonType(raw);
        String actual = s.path("type").asText("");
        if (expected == null) return; // Object or something Jackson writes freely
        if (!expected.equals(actual)) {
            problems.add(where + ": " + (actual.isEmpty() ? "no type" : actual) + " in openapi.json, " + expected + " in Java (" + type.getTypeName() + ")");
            return;
        }
        if (raw.isEnum()) {
            if (!s.has("enum")) {
                problems.add(where + ": Java enum " + raw.getSimpleName() + " but no enum in openapi.json");
                return;
            }
            Set<String> documented = new TreeSet<>();
            s.path("enum").forEach(e -> { if (!e.isNull()) documented.add(e.asText()); });
            Set<String> java = new TreeSet<>();
            for (Object c : raw.getEnumConstants()) java.add(((Enum<?>) c).name());
            if (!documented.equals(java)) problems.add(where + ": enum " + documented + " in openapi.json, " + java + " in Java");
        } else if (raw.isRecord()) {
            compareRecord(s, raw, where, problems);
        } else if (Collection.class.isAssignableFrom(raw)) {
            compare(s.path("items"), typeArgument(type, 0), where + "[]", problems);
        } else if (Map.class.isAssignableFrom(raw)) {
            JsonNode values = s.path("additionalProperties");
            if (!values.isObject()) problems.add(where + ": a Map in Java, but openapi.json gives no additionalProperties schema");
            else compare(values, typeArgument(type, 1), where + "{}", problems);
        }
    }

    private static void compareRecord(JsonNode s, Class<?> record, String where, List<String> problems) {
        JsonNode props = s.path("properties");
        Set<String> required = new LinkedHashSet<>();
        s.path("required").forEach(r -> required.add(r.asText()));
        Set<String> components = new LinkedHashSet<>();
        for (RecordComponent c : record.getRecordComponents()) {
            String field = where + "." + c.getName();
            components.add(c.getName());
            if (!props.has(c.getName())) {
                problems.add(field + ": in record " + record.getSimpleName() + ", missing in openapi.json");
                continue;
            }
            if (!required.contains(c.getName()) && !OMITTED_WHEN_NULL.contains(field)) {
                problems.add(field + ": always sent, but not in openapi.json's required");
            }
            compare(props.get(c.getName()), c.getGenericType(), field, problems);
        }
        props.fieldNames().forEachRemaining(p -> {
            if (!components.contains(p)) problems.add(where + "." + p + ": in openapi.json, missing in record " + record.getSimpleName());
        });
        for (String r : required) if (!props.has(r)) problems.add(where + "." + r + ": required but not a property in openapi.json");
    }

    private static String jsonType(Class<?> c) {
        if (c == String.class || c.isEnum()) return "string";
        if (c == int.class || c == long.class || c == short.class || c == Integer.class || c == Long.class || c == Short.class) return "integer";
        if (c == double.class || c == float.class || c == Double.class || c == Float.class) return "number";
        if (c == boolean.class || c == Boolean.class) return "boolean";
        if (Collection.class.isAssignableFrom(c) || c.isArray()) return "array";
        if (c.isRecord() || Map.class.isAssignableFrom(c)) return "object";
        return null;
    }

    private static Class<?> rawClass(Type t) {
        if (t instanceof Class<?> c) return c;
        if (t instanceof ParameterizedType p) return (Class<?>) p.getRawType();
        return Object.class;
    }

    private static Type typeArgument(Type t, int i) {
        return t instanceof ParameterizedType p ? p.getActualTypeArguments()[i] : Object.class;
    }

    /** Follows $ref and a single-element allOf (the OpenAPI 3.0 way to make a $ref nullable). */
    private static JsonNode resolve(JsonNode schema) {
        JsonNode s = schema;
        for (int i = 0; i < 10; i++) {
            if (s.has("$ref")) s = schemaNode(s.path("$ref").asText().replace("#/components/schemas/", ""));
            else if (s.has("allOf") && s.path("allOf").size() == 1 && !s.has("type")) s = s.path("allOf").get(0);
            else return s;
        }
        throw new IllegalStateException("$ref loop at " + schema);
    }

    private static void collectRefs(JsonNode n, Set<String> out) {
        if (n.isObject()) {
            JsonNode ref = n.get("$ref");
            if (ref != null && ref.asText().startsWith("#/components/")) {
                String[] parts = ref.asText().split("/");
                JsonNode target = DOC.path("components").path(parts[2]).path(parts[3]);
                if (parts[2].equals("schemas") && !out.add(parts[3])) return;
                collectRefs(target, out);
            }
            n.forEach(c -> collectRefs(c, out));
        } else if (n.isArray()) {
            n.forEach(c -> collectRefs(c, out));
        }
    }

    private static JsonNode schemaNode(String name) {
        JsonNode s = DOC.path("components").path("schemas").path(name);
        if (s.isMissingNode()) throw new AssertionError("openapi.json has no schema " + name);
        return s;
    }

    private static JsonNode load() {
        try (InputStream in = VmctlServer.class.getResourceAsStream("openapi.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
