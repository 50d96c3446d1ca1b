package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.vmctl.engine.Owners;
import dev.vmctl.engine.Store;
import dev.vmctl.engine.UserStore;
import dev.vmctl.engine.VmService;
import dev.vmctl.model.Sizes;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every VM, network, router, topology, snapshot, scenario, segment and template has an owner: the user whose request
 * created it ({@link Owners}); what a topology creates (VMs, networks, routers, its nodes) belongs to the topology's
 * owner. Admins see and change everything; a {@code user} sees and changes only its own: another's is 404, as if it
 * did not exist, and lists leave it out. Resources with no owner (made before ownership, or by the server itself)
 * are the admins'. Quotas per user (VMs, their memory) refuse a {@code POST /api/v1/vms} that would exceed them with
 * 403 naming {@code quota}, before anything is created.
 * <p>Works on the HTTP layer, around the routes: {@link #check} before (404, quota), {@link #after} after (records
 * the owner of what a 2xx POST created, forgets what a 2xx DELETE removed, filters the lists).
 */
final class Ownership {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A kind of owned resource: its collection's path and the field of its answers that is its key. */
    enum Kind {
        VM("vm", "/api/v1/vms", "id"), NETWORK("network", "/api/v1/networks", "name"), ROUTER("router", "/api/v1/routers", "name"),
        TOPOLOGY("topology", "/api/v1/topologies", "name"), SNAPSHOT("snapshot", "/api/v1/snapshots", "name"),
        SCENARIO("scenario", "/api/v1/scenarios", "name"), SEGMENT("segment", "/api/v1/segments", "name"),
        TEMPLATE("template", "/api/v1/templates", "name");

        final String noun;
        final String collection;
        final String key;

        Kind(String noun, String collection, String key) {
            this.noun = noun;
            this.collection = collection;
            this.key = key;
        }
    }

    private static final Pattern ITEM = Pattern.compile("/api/v1/(vms|networks|routers|topologies|snapshots|scenarios|segments|templates)/([^/]+)(/.*)?");
    private static final Pattern NODE = Pattern.compile("/api/v1/nodes/([^/]+)(/.*)?");
    private static final Pattern RUN = Pattern.compile("/run/([^/]+)(/.*)?");
    private static final Pattern OPERATION = Pattern.compile("/api/v1/operations/([^/]+)(/.*)?");

    private final Owners owners;
    private final Store store;
    private final VmService vms;
    private final dev.vmctl.engine.op.Operations operations;

    Ownership(Owners owners, Store store, VmService vms, dev.vmctl.engine.op.Operations operations) {
        this.owners = owners;
        this.store = store;
        this.vms = vms;
        this.operations = operations;
    }

    Owners owners() { return owners; }

    private static Kind kindOf(String collection) {
        for (Kind k : Kind.values()) if (k.collection.equals("/api/v1/" + collection)) return k;
        throw new IllegalArgumentException(collection);
    }

    /** Whether {@code user} may see the resource: its owner, or (none recorded) the owner of the topology that made it. */
    boolean sees(UserStore.User user, Kind kind, String id, String name) {
        if (user.admin()) return true;
        String key = kind.key.equals("id") ? id : name;
        Optional<String> owner = owners.owner(kind.noun, key);
        if (owner.isPresent()) return owner.get().equals(user.name());
        if (id != null && (kind == Kind.VM || kind == Kind.NETWORK || kind == Kind.ROUTER)) {
            Optional<Store.Label> label = store.labelOf(kind.noun, id);
            if (label.isPresent()) return owners.owner(Kind.TOPOLOGY.noun, label.get().topology()).map(user.name()::equals).orElse(false);
        }
        return false;
    }

    /**
     * Whether {@code user} may see an operation or event target ({@code vm:ID}, {@code nic:VMID/NIC}, {@code network:NAME},
     * {@code router:NAME}, {@code topology:NAME}, {@code node:TOPO/NODE}, {@code snapshot:NAME}, {@code segment:NAME},
     * {@code template:NAME}, {@code scenario:NAME}; images and artifacts are everyone's). Unknown kinds are the admins'.
     */
    boolean seesTarget(UserStore.User user, String target) {
        if (user.admin()) return true;
        int colon = target.indexOf(':');
        if (colon < 0) return false;
        String kind = target.substring(0, colon);
        String key = target.substring(colon + 1);
        return switch (kind) {
            case "image", "artifact" -> true;
            case "vm" -> sees(user, Kind.VM, key, null);
            case "nic" -> sees(user, Kind.VM, key.contains("/") ? key.substring(0, key.indexOf('/')) : key, null);
            case "node" -> sees(user, Kind.TOPOLOGY, null, key.contains("/") ? key.substring(0, key.indexOf('/')) : key);
            case "network", "router" -> {
                Kind k = kind.equals("network") ? Kind.NETWORK : Kind.ROUTER;
                yield sees(user, k, owners.idOf(k.noun, key), owners.nameOf(k.noun, key));
            }
            case "topology" -> sees(user, Kind.TOPOLOGY, null, key);
            case "snapshot" -> sees(user, Kind.SNAPSHOT, null, key);
            case "segment" -> sees(user, Kind.SEGMENT, null, key);
            case "template" -> sees(user, Kind.TEMPLATE, null, key);
            case "scenario" -> sees(user, Kind.SCENARIO, null, key);
            default -> false;
        };
    }

    /** An operation is the user's when every resource it works on is. */
    boolean seesOperation(UserStore.User user, List<String> targets) {
        if (user.admin()) return true;
        if (targets.isEmpty()) return false;
        for (String t : targets) if (!seesTarget(user, t)) return false;
        return true;
    }

    /**
     * Whether an event on the stream is about something {@code user} sees: a VM's (vmId), a network's, router's, segment's,
     * template's or topology's (name; a node's TOPO/NODE), an operation's (its targets), a scenario run's (its topology:
     * {@code runs} remembers the runs a user may follow, from their scenario.started); image events are everyone's.
     */
    boolean seesEvent(UserStore.User user, dev.vmctl.model.VmEvent e, java.util.Set<String> runs) {
        if (user.admin()) return true;
        String type = e.type();
        if (type.startsWith("image.")) return true;
        if (e.data() instanceof dev.vmctl.model.Operation op) return seesOperation(user, op.targets());
        if (type.startsWith("scenario.")) {
            if (e.data() instanceof dev.vmctl.model.ScenarioRun run) {
                boolean mine = run.topology() != null && sees(user, Kind.TOPOLOGY, null, run.topology());
                if (mine) runs.add(run.id()); else runs.remove(run.id());
                return mine;
            }
            return e.name() != null && runs.contains(e.name());
        }
        if (e.vmId() != null) return sees(user, Kind.VM, e.vmId(), e.name());
        if (e.name() == null) return false;
        String prefix = type.substring(0, type.indexOf('.'));
        return switch (prefix) {
            case "network", "router", "segment", "template" -> seesTarget(user, prefix + ":" + e.name());
            case "topology", "node" -> seesTarget(user, "node:" + e.name());
            default -> false;
        };
    }

    /** Before the routes (after {@link Auth#check}): a user's request for another's resource is 404; VM quotas. */
    void check(Context ctx) {
        UserStore.User user = ctx.attribute("vmctl.user");
        if (user == null || user.admin()) return;
        String path = ctx.path();
        Matcher m = ITEM.matcher(path);
        if (m.matches()) {
            Kind kind = kindOf(m.group(1));
            String key = m.group(2);
            if (kind == Kind.SNAPSHOT && key.equals("import") || kind == Kind.SCENARIO && key.equals("validate")) return;
            if (kind == Kind.VM) {
                VmView v;
                try {
                    v = vms.get(key);
                } catch (VmctlException notFound) {
                    return; // the route answers 404 itself
                }
                if (!sees(user, kind, v.id(), v.name())) throw VmctlException.notFound(kind.noun, key);
            } else if (!sees(user, kind, idOf(kind, key), nameOf(kind, key))) {
                throw VmctlException.notFound(kind.noun, key);
            }
            return;
        }
        Matcher opm = OPERATION.matcher(path);
        if (opm.matches()) {
            dev.vmctl.model.Operation op;
            try {
                op = operations.get(opm.group(1));
            } catch (VmctlException notFound) {
                return; // the route answers 404 itself
            }
            if (!seesOperation(user, op.targets())) throw VmctlException.notFound("operation", opm.group(1));
            return;
        }
        Matcher n = NODE.matcher(path);
        if (n.matches() && !sees(user, Kind.TOPOLOGY, null, n.group(1))) throw VmctlException.notFound("topology", n.group(1));
        Matcher r = RUN.matcher(path);
        if (r.matches() && !sees(user, Kind.TEMPLATE, null, r.group(1))) throw VmctlException.notFound("template", r.group(1));
        if (path.equals("/api/v1/snapshots") && ctx.method().name().equals("POST")) {
            String vm = field(ctx, "vm");
            if (vm != null) check(user, vm);
        }
        preOwn(ctx, user, path);
        if (path.equals(Kind.VM.collection) && ctx.method().name().equals("POST")) {
            JsonNode nics = body(ctx).path("nics");
            for (JsonNode nic : nics) if (nic.hasNonNull("network")) network(user, nic.get("network").asText());
            quota(ctx, user);
        }
        if (path.matches("/api/v1/vms/[^/]+/nics") && ctx.method().name().equals("POST")) {
            String net = field(ctx, "network");
            if (net != null) network(user, net);
        }
        if (path.equals(Kind.TOPOLOGY.collection) && ctx.method().name().equals("POST")) topology(ctx, user);
        if (path.equals("/api/v1/scenario-runs") && ctx.method().name().equals("POST")) {
            String topo = field(ctx, "topology");
            if (topo != null && !sees(user, Kind.TOPOLOGY, null, topo)) throw VmctlException.notFound("topology", topo);
            String scenario = field(ctx, "scenario");
            if (scenario != null && !sees(user, Kind.SCENARIO, null, scenario)) throw VmctlException.notFound("scenario", scenario);
        }
    }

    private static final String PRE_OWNED = "vmctl.preOwned";

    /**
     * A create of a resource named in its JSON body (network, router, segment, template, snapshot) records its owner before
     * the route runs, so that the events the creation publishes already reach the creator's stream; {@link #after} takes it
     * back when the create fails. (A VM's id is made by the route: its owner is recorded after the answer.)
     */
    private void preOwn(Context ctx, UserStore.User user, String path) {
        if (!ctx.method().name().equals("POST")) return;
        Kind kind = null;
        for (Kind k : List.of(Kind.NETWORK, Kind.ROUTER, Kind.SEGMENT, Kind.TEMPLATE, Kind.SNAPSHOT)) if (k.collection.equals(path)) kind = k;
        if (kind == null) return;
        String name = field(ctx, "name");
        if (name == null || name.isBlank() || owners.owner(kind.noun, name).isPresent()) return;
        owners.set(kind.noun, name, user.name());
        ctx.attribute(PRE_OWNED, kind.noun + ":" + name);
    }

    /** A NIC on another's network: 404 for that network, as if it did not exist. */
    private void network(UserStore.User user, String key) {
        String id = owners.idOf(Kind.NETWORK.noun, key);
        if (id == null) return; // the route says it does not exist
        if (!sees(user, Kind.NETWORK, id, owners.nameOf(Kind.NETWORK.noun, key))) throw VmctlException.notFound("network", key);
    }

    /**
     * {@code POST /api/v1/topologies} by a user: a topology of that name that is not its own (another's, or the
     * admins') is not changed (409), and a segment it names must be its own (404).
     */
    private void topology(Context ctx, UserStore.User user) {
        String segment = ctx.queryParam("segment");
        if (segment != null && !segment.isBlank() && !sees(user, Kind.SEGMENT, null, segment)) throw VmctlException.notFound("segment", segment);
        String name;
        try {
            name = dev.vmctl.topology.TopologyParser.parse(ctx.body(), ctx.queryParam("file") == null ? "topology" : ctx.queryParam("file")).name();
        } catch (RuntimeException invalid) {
            return; // the route reports every problem of the file
        }
        if (name == null) return;
        boolean exists = store.topologies().stream().anyMatch(t -> t.name().equals(name));
        if (exists && !sees(user, Kind.TOPOLOGY, null, name)) {
            throw VmctlException.conflict("apply topology " + name + ": a topology of that name exists and is not yours",
                    "pick another name (topology names are unique on this server)");
        }
    }

    private static JsonNode body(Context ctx) {
        try {
            JsonNode b = JSON.readTree(ctx.body());
            return b == null ? JSON.createObjectNode() : b;
        } catch (Exception notJson) {
            return JSON.createObjectNode();
        }
    }

    private void check(UserStore.User user, String vmKey) {
        try {
            VmView v = vms.get(vmKey);
            if (!sees(user, Kind.VM, v.id(), v.name())) throw VmctlException.notFound("vm", vmKey);
        } catch (VmctlException e) {
            if (e.kind() != VmctlException.Kind.NOT_FOUND) throw e;
            throw VmctlException.notFound("vm", vmKey);
        }
    }

    /** The name of a network or router given by name or id; other kinds are keyed by name. */
    private String nameOf(Kind kind, String key) {
        String n = kind == Kind.NETWORK || kind == Kind.ROUTER ? owners.nameOf(kind.noun, key) : null;
        return n == null ? key : n;
    }

    /** The id of a network or router named {@code key} (a topology's are found by their label), else null. */
    private String idOf(Kind kind, String key) {
        return kind == Kind.NETWORK || kind == Kind.ROUTER ? owners.idOf(kind.noun, key) : null;
    }

    /**
     * {@code POST /api/v1/segments}: the segment's {@code owner} is the caller; an admin may create one for another user
     * (that user then owns it), a user only for itself (another name: 403).
     */
    static dev.vmctl.engine.Segments.CreateRequest segmentOwner(Context ctx, dev.vmctl.engine.Segments.CreateRequest r) {
        if (r == null) return null;
        UserStore.User user = Auth.user(ctx);
        String owner = r.owner() == null || r.owner().isBlank() ? null : r.owner().strip();
        if (owner != null && !user.admin() && !owner.equals(user.name())) {
            throw new VmctlException(VmctlException.Kind.FORBIDDEN, "invalid owner: user " + user.name() + " creates segments for itself only",
                    "leave owner out (it is the caller) or give " + user.name() + "; admins may give any user");
        }
        return new dev.vmctl.engine.Segments.CreateRequest(r.name(), owner == null ? user.name() : owner, r.subnet(), r.ttl(), r.router());
    }

    /** Refuses a VM the user's quota has no room for (count and memory of the VMs it sees now, plus this one). */
    private void quota(Context ctx, UserStore.User user) {
        if (user.maxVms() == null && user.maxMemoryMiB() == null) return;
        List<VmView> mine = vms.list().stream().filter(v -> sees(user, Kind.VM, v.id(), v.name())).toList();
        if (user.maxVms() != null && mine.size() + 1 > user.maxVms()) {
            throw new VmctlException(VmctlException.Kind.FORBIDDEN, "create vm: quota of user " + user.name() + " exceeded: at most "
                    + user.maxVms() + " VMs, it has " + mine.size(), "remove a VM first, or ask an admin for a larger quota (maxVms)");
        }
        if (user.maxMemoryMiB() != null) {
            String memory = field(ctx, "memory");
            String memoryMiB = field(ctx, "memoryMiB");
            long want = memory != null ? Sizes.parseMiB(memory) : memoryMiB != null ? parseLong(memoryMiB) : 128;
            if (want < 0) return; // not a size: the route names the field
            long used = mine.stream().mapToLong(VmView::memoryMiB).sum();
            if (used + want > user.maxMemoryMiB()) {
                throw new VmctlException(VmctlException.Kind.FORBIDDEN, "create vm: memory quota of user " + user.name() + " exceeded: requested "
                        + want + " MiB, " + used + " MiB of " + user.maxMemoryMiB() + " MiB in use",
                        "ask for less memory, remove a VM, or ask an admin for a larger quota (maxMemory)");
            }
        }
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A top-level text or number field of the JSON body, or null (the route validates the body itself). */
    private static String field(Context ctx, String name) {
        try {
            JsonNode b = JSON.readTree(ctx.body());
            JsonNode v = b == null ? null : b.get(name);
            return v == null || v.isNull() || v.isContainerNode() ? null : v.asText();
        } catch (Exception notJson) {
            return null;
        }
    }

    /** After the routes: the owner of what was created, forgotten for what was removed; lists only what the caller sees. */
    void after(Context ctx) {
        UserStore.User user = ctx.attribute("vmctl.user");
        int status = ctx.status().getCode();
        String pre = ctx.attribute(PRE_OWNED);
        if (pre != null && (status < 200 || status > 299)) {
            owners.remove(pre.substring(0, pre.indexOf(':')), pre.substring(pre.indexOf(':') + 1)); // the create failed
        }
        if (user == null || status < 200 || status > 299) return;
        String method = ctx.method().name();
        String path = ctx.path();
        try {
            switch (method) {
                case "POST" -> created(ctx, user, path);
                case "DELETE" -> {
                    Matcher m = ITEM.matcher(path);
                    if (m.matches() && m.group(3) == null) removed(ctx, kindOf(m.group(1)));
                }
                case "GET" -> {
                    if (!user.admin()) filter(ctx, user, path);
                }
                default -> { }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void created(Context ctx, UserStore.User user, String path) throws java.io.IOException {
        Kind kind = null;
        for (Kind k : Kind.values()) if (k.collection.equals(path)) kind = k;
        if (path.equals("/api/v1/snapshots/import")) kind = Kind.SNAPSHOT;
        if (kind == Kind.TOPOLOGY && Http.bool(ctx, "dryRun")) return;
        if (kind == null) {
            // clones and restores make VMs: they belong to the caller
            if (path.matches("/api/v1/snapshots/[^/]+/clone")) kind = Kind.VM;
            else return;
        }
        JsonNode body = result(ctx);
        if (body == null) return;
        for (JsonNode item : body.isArray() ? body : List.of(body)) {
            JsonNode vmsOf = item.get("vms");
            String key = item.path(kind.key).asText(null);
            if (kind == Kind.TOPOLOGY && key == null) key = item.path("topology").asText(null); // a deploy's report
            if (kind == Kind.TOPOLOGY && owners.owner(kind.noun, key).isPresent()) continue; // an update keeps its owner
            // a segment's owner is its owner field (the caller, or the user an admin created it for)
            String owner = kind == Kind.SEGMENT && item.hasNonNull("owner") ? item.get("owner").asText() : user.name();
            if (key != null) owners.set(kind.noun, key, owner);
            if (kind == Kind.VM && vmsOf != null && vmsOf.isArray()) {
                for (JsonNode v : vmsOf) if (v.hasNonNull("id")) owners.set(Kind.VM.noun, v.get("id").asText(), user.name());
            }
        }
    }

    private void removed(Context ctx, Kind kind) throws java.io.IOException {
        JsonNode body = result(ctx);
        String key = body == null ? null : body.path(kind.key).asText(null);
        if (kind == Kind.TOPOLOGY && key == null && body != null) key = body.path("topology").asText(null);
        if (key != null) owners.remove(kind.noun, key);
    }

    /** The lists of owned kinds, and of nodes (by their topology), without what the caller may not see. */
    private void filter(Context ctx, UserStore.User user, String path) throws java.io.IOException {
        Kind kind = null;
        for (Kind k : Kind.values()) if (k.collection.equals(path)) kind = k;
        boolean nodes = path.equals("/api/v1/nodes");
        boolean ops = path.equals("/api/v1/operations");
        if (kind == null && !nodes && !ops) return;
        JsonNode body = result(ctx);
        if (!(body instanceof ArrayNode list)) return;
        ArrayNode kept = JSON.createArrayNode();
        for (JsonNode item : list) {
            List<String> targets = new java.util.ArrayList<>();
            if (ops) for (JsonNode t : item.path("targets")) targets.add(t.asText());
            boolean visible = ops ? seesOperation(user, targets)
                    : nodes ? sees(user, Kind.TOPOLOGY, null, item.path("topology").asText(null))
                    : sees(user, kind, item.path("id").asText(null), item.path("name").asText(null));
            if (visible) kept.add(item);
        }
        ctx.result(JSON.writeValueAsString(kept));
    }

    private static JsonNode result(Context ctx) throws java.io.IOException {
        String r = ctx.result();
        if (r == null || r.isBlank() || !String.valueOf(ctx.res().getContentType()).contains("json")) return null;
        return JSON.readTree(r);
    }
}
