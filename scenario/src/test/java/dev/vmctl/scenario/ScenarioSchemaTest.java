package dev.vmctl.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.vmctl.scenario.ScenarioRules.Shape;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The JSON Schema and the parser accept the same fields: the schema is checked against {@link ScenarioRules}. */
class ScenarioSchemaTest {
    static JsonNode schema() throws Exception {
        return new ObjectMapper().readTree(ScenarioParser.schemaJson());
    }

    /** The schema object of a shape: the root, or its $defs entry (for nodeSnapshot: the object branch). */
    static JsonNode objectOf(JsonNode schema, Shape shape) {
        return switch (shape) {
            case SCENARIO -> schema;
            case NODE_SNAPSHOT -> schema.at("/$defs/nodeSnapshot/oneOf/1");
            default -> schema.at("/$defs/" + shape.def);
        };
    }

    static List<String> names(JsonNode n) {
        List<String> l = new ArrayList<>();
        n.fieldNames().forEachRemaining(l::add);
        return l;
    }

    /** The one key each branch of a oneOf/anyOf requires: [{"required": ["ping"]}, …] → [ping, …]. */
    static List<String> branchKeys(JsonNode branches) {
        List<String> l = new ArrayList<>();
        branches.forEach(b -> {
            assertThat(b.get("required")).hasSize(1);
            l.add(b.get("required").get(0).asText());
        });
        return l;
    }

    @Test
    void schemaIsDraft202012AndServedByTheParser() throws Exception {
        JsonNode s = schema();
        assertThat(s.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        assertThat(s.at("/properties/apiVersion/const").asText()).isEqualTo(ScenarioSpec.API_VERSION);
        assertThat(s.at("/properties/kind/const").asText()).isEqualTo(ScenarioSpec.KIND);
        assertThat(s.at("/$defs/name/anyOf/0/pattern").asText()).isEqualTo("^" + dev.vmctl.model.Names.PATTERN + "$");
        assertThat(s.at("/$defs/nic/anyOf/0/pattern").asText()).isEqualTo("^" + ScenarioRules.NIC.pattern() + "$");
        assertThat(s.at("/properties/vars/propertyNames/pattern").asText()).isEqualTo("^" + ScenarioRules.VAR_NAME.pattern() + "$");
    }

    @Test
    void everyShapeHasExactlyTheParsersFields() throws Exception {
        JsonNode s = schema();
        for (Shape shape : Shape.values()) {
            JsonNode o = objectOf(s, shape);
            assertThat(o.isMissingNode()).as(shape + " in the schema").isFalse();
            assertThat(o.get("type").asText()).as(shape + " type").isEqualTo("object");
            assertThat(o.get("additionalProperties").asBoolean(true)).as(shape + " closed").isFalse();
            assertThat(names(o.get("properties"))).as(shape + " properties").containsExactlyElementsOf(shape.fields);
            List<String> required = new ArrayList<>();
            o.get("required").forEach(r -> required.add(r.asText()));
            assertThat(required).as(shape + " required").containsExactlyElementsOf(shape.required);
        }
        // every object of the schema is one of the shapes (besides vars, a free mapping)
        Set<String> defs = new LinkedHashSet<>();
        s.get("$defs").properties().forEach(e -> {
            if (e.getValue().path("type").asText().equals("object")) defs.add(e.getKey());
        });
        List<String> shapeDefs = java.util.Arrays.stream(Shape.values()).filter(x -> x != Shape.SCENARIO && x != Shape.NODE_SNAPSHOT)
                .map(x -> x.def).toList();
        assertThat(defs).containsExactlyInAnyOrderElementsOf(shapeDefs);
    }

    @Test
    void probesActionsAndImpairmentsAreThoseOfTheParser() throws Exception {
        JsonNode s = schema();
        assertThat(branchKeys(s.at("/$defs/check/oneOf"))).containsExactlyElementsOf(ScenarioRules.PROBES.keySet());
        assertThat(branchKeys(s.at("/$defs/fault/oneOf"))).containsExactlyElementsOf(ScenarioRules.ACTIONS.keySet());
        assertThat(branchKeys(s.at("/$defs/linkImpair/anyOf"))).containsExactlyElementsOf(ScenarioRules.IMPAIRMENTS);
        assertThat(branchKeys(s.at("/$defs/step/oneOf"))).containsExactly("check", "fault");
        for (var e : ScenarioRules.PROBES.entrySet()) {
            assertThat(s.at("/$defs/check/properties/" + e.getKey() + "/$ref").asText()).isEqualTo("#/$defs/" + e.getValue().def);
        }
        for (var e : ScenarioRules.ACTIONS.entrySet()) {
            assertThat(s.at("/$defs/fault/properties/" + e.getKey().replace("~", "~0").replace("/", "~1") + "/$ref").asText())
                    .isEqualTo("#/$defs/" + e.getValue().def);
        }
        assertThat(s.at("/$defs/linkImpair/properties/direction/anyOf/0/enum").toString()).isEqualTo("[\"egress\",\"ingress\",\"both\"]");
        assertThat(s.at("/properties/onFail/anyOf/0/enum").toString()).isEqualTo("[\"snapshot\",\"nothing\"]");
        assertThat(s.at("/$defs/check/properties/expect/anyOf/0/enum").toString()).isEqualTo("[\"pass\",\"fail\"]");
    }

    @Test
    void everyReferenceResolvesAndEveryDefIsUsed() throws Exception {
        JsonNode s = schema();
        Set<String> refs = new LinkedHashSet<>();
        collectRefs(s, refs);
        for (String r : refs) {
            assertThat(r).startsWith("#/$defs/");
            assertThat(s.at(r.substring(1)).isMissingNode()).as(r).isFalse();
        }
        Iterator<String> defs = s.get("$defs").fieldNames();
        while (defs.hasNext()) assertThat(refs).contains("#/$defs/" + defs.next());
    }

    /** The example uses only fields the schema declares, and every field it requires. */
    @Test
    void theExampleFitsTheSchemasFields() throws Exception {
        JsonNode s = schema();
        JsonNode doc = new YAMLMapper().readTree(Files.readString(ScenarioParserTest.EXAMPLES.resolve("failover.yaml")));
        checkObject(s, Shape.SCENARIO, doc);
        for (JsonNode c : doc.path("steadyState")) checkCheck(s, c);
        for (JsonNode step : doc.path("steps")) {
            checkObject(s, Shape.STEP, step);
            if (step.has("check")) checkCheck(s, step.get("check"));
            if (step.has("fault")) {
                JsonNode f = step.get("fault");
                checkObject(s, Shape.FAULT, f);
                for (Map.Entry<String, Shape> a : ScenarioRules.ACTIONS.entrySet()) {
                    if (f.has(a.getKey())) checkObject(s, a.getValue(), f.get(a.getKey()));
                }
            }
        }
    }

    private static void checkCheck(JsonNode s, JsonNode c) {
        checkObject(s, Shape.CHECK, c);
        for (Map.Entry<String, Shape> p : ScenarioRules.PROBES.entrySet()) {
            if (c.has(p.getKey())) checkObject(s, p.getValue(), c.get(p.getKey()));
        }
    }

    private static void checkObject(JsonNode schema, Shape shape, JsonNode obj) {
        JsonNode o = objectOf(schema, shape);
        obj.fieldNames().forEachRemaining(k -> assertThat(o.get("properties").has(k)).as(shape + "." + k).isTrue());
        o.get("required").forEach(r -> assertThat(obj.has(r.asText())).as(shape + " has " + r).isTrue());
    }

    private static void collectRefs(JsonNode n, Set<String> out) {
        if (n.isObject()) {
            n.properties().forEach(e -> {
                if (e.getKey().equals("$ref")) out.add(e.getValue().asText());
                else collectRefs(e.getValue(), out);
            });
        } else if (n.isArray()) {
            n.forEach(x -> collectRefs(x, out));
        }
    }
}
