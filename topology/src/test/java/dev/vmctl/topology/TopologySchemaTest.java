package dev.vmctl.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The JSON Schema and the records (and the parser's required fields) describe the same format. */
class TopologySchemaTest {
    static JsonNode schema() throws Exception {
        try (InputStream in = TopologySpec.class.getResourceAsStream("topology.schema.json")) {
            assertThat(in).as("topology.schema.json on the class path").isNotNull();
            return new ObjectMapper().readTree(in);
        }
    }

    /** The schema object that describes each record: the root, or a $defs entry (for nic: the object branch). */
    static JsonNode objectOf(JsonNode schema, Rules.Shape shape) {
        return switch (shape) {
            case TOPOLOGY -> schema;
            case NIC -> schema.at("/$defs/nic/oneOf/1");
            default -> schema.at("/$defs/" + shape.name().toLowerCase());
        };
    }

    @Test
    void schemaIsDraft202012() throws Exception {
        JsonNode s = schema();
        assertThat(s.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        assertThat(s.at("/properties/apiVersion/const").asText()).isEqualTo(TopologySpec.API_VERSION);
        assertThat(s.at("/properties/kind/const").asText()).isEqualTo(TopologySpec.KIND);
        assertThat(s.at("/$defs/name/pattern").asText()).isEqualTo("^" + dev.vmctl.model.Names.PATTERN + "$");
    }

    @Test
    void everyRecordMatchesItsSchemaObject() throws Exception {
        JsonNode s = schema();
        for (Rules.Shape shape : Rules.Shape.values()) {
            JsonNode o = objectOf(s, shape);
            assertThat(o.isMissingNode()).as(shape + " in the schema").isFalse();
            assertThat(o.get("type").asText()).as(shape + " type").isEqualTo("object");
            assertThat(o.get("additionalProperties").asBoolean(true)).as(shape + " closed").isFalse();
            List<String> props = new ArrayList<>();
            o.get("properties").fieldNames().forEachRemaining(props::add);
            assertThat(props).as(shape + " properties").containsExactlyElementsOf(shape.fields);
            List<String> required = new ArrayList<>();
            o.get("required").forEach(r -> required.add(r.asText()));
            assertThat(required).as(shape + " required").containsExactlyElementsOf(shape.required);
        }
    }

    @Test
    void theShapesAreTheRecordComponents() {
        Map<Rules.Shape, Class<? extends Record>> records = Map.of(
                Rules.Shape.TOPOLOGY, TopologySpec.class, Rules.Shape.NETWORK, TopologySpec.Network.class,
                Rules.Shape.ROUTER, TopologySpec.Router.class, Rules.Shape.ROUTE, TopologySpec.Route.class,
                Rules.Shape.NODE, TopologySpec.Node.class, Rules.Shape.VM, TopologySpec.Vm.class, Rules.Shape.NIC, TopologySpec.Nic.class,
                Rules.Shape.RESOURCES, TopologySpec.Resources.class,
                Rules.Shape.ARTIFACT, dev.vmctl.model.ArtifactSpec.class);
        assertThat(records.keySet()).containsExactlyInAnyOrder(Rules.Shape.values());
        records.forEach((shape, type) -> assertThat(shape.fields).as(shape.name())
                .containsExactlyElementsOf(Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList()));
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

    /** The examples use only fields the schema declares, and every field it requires. */
    @Test
    void theExamplesFitTheSchemasFields() throws Exception {
        JsonNode s = schema();
        for (String f : List.of("shop.yaml", "routed-lab.yaml")) {
            JsonNode doc = new YAMLMapper().readTree(Files.readString(TopologyParserTest.EXAMPLES.resolve(f)));
            checkObject(s, Rules.Shape.TOPOLOGY, doc, f);
            for (JsonNode n : doc.path("networks")) checkObject(s, Rules.Shape.NETWORK, n, f);
            for (JsonNode r : doc.path("routers")) {
                checkObject(s, Rules.Shape.ROUTER, r, f);
                for (JsonNode rt : r.path("routes")) checkObject(s, Rules.Shape.ROUTE, rt, f);
            }
            for (JsonNode n : doc.path("nodes")) {
                checkObject(s, Rules.Shape.NODE, n, f);
                for (JsonNode v : n.path("vms")) {
                    checkObject(s, Rules.Shape.VM, v, f);
                    for (JsonNode nic : v.path("nics")) if (nic.isObject()) checkObject(s, Rules.Shape.NIC, nic, f);
                }
            }
        }
    }

    private static void checkObject(JsonNode schema, Rules.Shape shape, JsonNode obj, String file) {
        JsonNode o = objectOf(schema, shape);
        obj.fieldNames().forEachRemaining(k -> assertThat(o.get("properties").has(k)).as(file + ": " + shape + "." + k).isTrue());
        o.get("required").forEach(r -> assertThat(obj.has(r.asText())).as(file + ": " + shape + " has " + r).isTrue());
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
