package dev.vmctl.server;

import dev.vmctl.engine.AccelService;
import dev.vmctl.engine.DataDir;
import dev.vmctl.engine.EventBus;
import dev.vmctl.engine.ImageService;
import dev.vmctl.engine.LinuxHostNet;
import dev.vmctl.engine.NetService;
import dev.vmctl.engine.Store;
import dev.vmctl.engine.VmService;
import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.AccelProbe;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.sse.SseClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The vmctl server: wires store, engine and REST API together. Routes only translate HTTP into
 * {@link VmService} calls; every error goes through {@link Api#status} in one exception handler.
 */
public final class VmctlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VmctlServer.class);

    public record Options(Path dataDir, String host, int port, VmSpec.Accel accel, Duration bootTimeout) {}

    /** A registered route; the OpenAPI test checks this list against the published document. */
    public record Route(String method, String path) {}

    private final Options options;
    private final DataDir dir;
    private final Store store;
    private final EventBus events = new EventBus();
    private final ImageService images;
    private final AccelService accel;
    private final VmService vms;
    private final NetService nets;
    private final dev.vmctl.engine.TopologyService topologies;
    private final List<Route> routes = new ArrayList<>();
    private final Map<String, HostCapabilities.Capability> capabilities;
    private Javalin app;

    public VmctlServer(Options options) {
        this.options = options;
        this.dir = new DataDir(options.dataDir()).create();
        this.store = new Store(dir.database());
        this.images = new ImageService(dir, events);
        this.accel = new AccelService(dir, options.accel());
        this.capabilities = HostCapabilities.probe();
        this.nets = new NetService(store, events, new LinuxHostNet(LinuxHostNet.fabricName(dir.root()), capabilities));
        this.vms = new VmService(dir, store, events, images, accel, nets, options.bootTimeout());
        this.vms.snapshots(new dev.vmctl.snapshot.SnapshotStore(dir.root().resolve("snapshots")));
        this.topologies = new dev.vmctl.engine.TopologyService(store, events, vms, nets, images, options.bootTimeout());

    }

    public VmctlServer start() {
        vms.reconcile();
        for (Path orphan : vms.snapshotStore().removeOrphans()) log.info("removed unfinished snapshot {}", orphan);
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = VmService.MAX_FILE_BYTES + (1 << 20);
            cfg.jetty.host = options.host();
            cfg.jetty.port = options.port();
            cfg.routes.exception(VmctlException.class, (e, ctx) ->
                    Api.json(ctx, Api.status(e.kind()), Api.error(e.getMessage(), e.detail())));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                log.error("{} {}: {}", ctx.method(), ctx.path(), e.toString(), e);
                Api.json(ctx, 500, Api.error("internal error: " + e.getMessage(), e.getClass().getSimpleName()));
            });
            cfg.routes.error(404, "*", ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty()) {
                    Api.json(ctx, 404, Api.error("no such endpoint: " + ctx.method() + " " + ctx.path(), "see /api/v1/openapi.json"));
                }
            });
            route(cfg, HandlerType.GET, "/", this::gui);
            route(cfg, HandlerType.GET, "/assets/{file}", this::guiAsset);
            route(cfg, HandlerType.GET, "/api/v1/openapi.json", ctx -> ctx.contentType("application/json").result(resource("openapi.json")));
            route(cfg, HandlerType.GET, "/api/v1/host", ctx -> Api.json(ctx, 200, host()));
            route(cfg, HandlerType.GET, "/api/v1/images", ctx -> Api.json(ctx, 200, images.list()));
            route(cfg, HandlerType.POST, "/api/v1/images/{name}/build", ctx -> {
                var info = images.build(ctx.pathParam("name"), ctx.queryParam("kernel"));
                if (options.accel() == VmSpec.Accel.AUTO) CompletableFuture.runAsync(() -> accel.probe(info));
                Api.json(ctx, 200, info);
            });
            route(cfg, HandlerType.GET, "/api/v1/vms", ctx -> Api.json(ctx, 200, vms.list()));
            route(cfg, HandlerType.POST, "/api/v1/vms", this::createVm);
            route(cfg, HandlerType.GET, "/api/v1/vms/{id}", ctx -> Api.json(ctx, 200, vms.get(ctx.pathParam("id"))));
            route(cfg, HandlerType.DELETE, "/api/v1/vms/{id}", ctx ->
                    Api.json(ctx, 200, vms.destroy(ctx.pathParam("id"), bool(ctx, "force"))));
            route(cfg, HandlerType.POST, "/api/v1/vms/{id}/start", ctx -> settle(ctx, vms.start(ctx.pathParam("id"))));
            route(cfg, HandlerType.POST, "/api/v1/vms/{id}/stop", ctx -> settle(ctx, vms.stop(ctx.pathParam("id"))));
            route(cfg, HandlerType.POST, "/api/v1/vms/{id}/reboot", ctx -> settle(ctx, vms.reboot(ctx.pathParam("id"))));
            route(cfg, HandlerType.POST, "/api/v1/vms/{id}/exec", this::exec);
            route(cfg, HandlerType.GET, "/api/v1/vms/{id}/console", this::console);
            route(cfg, HandlerType.PUT, "/api/v1/vms/{id}/files", ctx -> {
                byte[] data = ctx.bodyAsBytes();
                vms.writeFile(ctx.pathParam("id"), ctx.queryParam("path"), data);
                Api.json(ctx, 200, Map.of("path", ctx.queryParam("path"), "bytes", data.length));
            });
            route(cfg, HandlerType.POST, "/api/v1/vms/{id}/nics", ctx -> {
                NicBody b = Api.body(ctx, NicBody.class);
                Api.json(ctx, 201, vms.addNic(ctx.pathParam("id"), b.network(), b.ip()));
            });
            route(cfg, HandlerType.PATCH, "/api/v1/vms/{id}/nics/{nic}", this::patchNic);
            route(cfg, HandlerType.DELETE, "/api/v1/vms/{id}/nics/{nic}", ctx ->
                    Api.json(ctx, 200, vms.removeNic(ctx.pathParam("id"), ctx.pathParam("nic"))));
            route(cfg, HandlerType.GET, "/api/v1/snapshots", ctx -> Api.json(ctx, 200,
                    vms.snapshotStore().list().stream().map(this::snapshotView).toList()));
            route(cfg, HandlerType.POST, "/api/v1/snapshots", ctx -> {
                SnapshotBody b = Api.body(ctx, SnapshotBody.class);
                if (b.vm() == null) throw VmctlException.invalid("vm", "missing", "the name or id of a running VM");
                var res = vms.snapshot(b.vm(), b.name());
                Map<String, Object> v = snapshotView(res.manifest());
                v.put("pausedMillis", res.pausedMillis());
                v.put("totalMillis", res.totalMillis());
                Api.json(ctx, 201, v);
            });
            route(cfg, HandlerType.GET, "/api/v1/snapshots/{name}", ctx ->
                    Api.json(ctx, 200, snapshotView(vms.snapshotStore().get(ctx.pathParam("name")))));
            route(cfg, HandlerType.DELETE, "/api/v1/snapshots/{name}", ctx -> {
                var m = vms.snapshotStore().get(ctx.pathParam("name"));
                Map<String, Object> v = snapshotView(m);
                vms.deleteSnapshot(m.name());
                Api.json(ctx, 200, v);
            });
            route(cfg, HandlerType.POST, "/api/v1/snapshots/{name}/clone", ctx -> {
                CloneBody b = Api.body(ctx, CloneBody.class);
                List<VmView> clones = vms.cloneSnapshot(ctx.pathParam("name"), new VmService.CloneRequest(b.count(), b.name(), b.network(), b.start()));
                if (bool(ctx, "wait")) clones = clones.stream().map(c -> vms.awaitSettled(c.id(), timeout(ctx))).toList();
                Api.json(ctx, 201, clones);
            });
            route(cfg, HandlerType.GET, "/api/v1/snapshots/{name}/export", ctx -> {
                var m = vms.snapshotStore().get(ctx.pathParam("name"));
                Path tmp = Files.createTempFile(dir.root(), ".export-", ".tar.zst");
                try {
                    Files.deleteIfExists(tmp);
                    vms.snapshotStore().exportTo(m.name(), tmp);
                    ctx.contentType("application/zstd");
                    ctx.header("Content-Disposition", "attachment; filename=\"" + m.name() + ".tar.zst\"");
                    try (var in = Files.newInputStream(tmp); var out = ctx.res().getOutputStream()) {
                        in.transferTo(out);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
            });
            route(cfg, HandlerType.POST, "/api/v1/snapshots/import", ctx -> {
                Path tmp = Files.createTempFile(dir.root(), ".import-", ".tar.zst");
                try {
                    try (var in = ctx.req().getInputStream()) {
                        Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                    if (Files.size(tmp) == 0) throw VmctlException.invalid("body", "empty", "a snapshot archive made by vmctl snapshot export");
                    var m = vms.snapshotStore().importFrom(tmp, ctx.queryParam("name"));
                    Api.json(ctx, 201, snapshotView(m));
                } finally {
                    Files.deleteIfExists(tmp);
                }
            });
            route(cfg, HandlerType.POST, "/api/v1/vms/{id}/restore", ctx -> {
                RestoreBody b = Api.body(ctx, RestoreBody.class);
                settle(ctx, vms.restore(ctx.pathParam("id"), b.snapshot()));
            });
            route(cfg, HandlerType.GET, "/api/v1/topologies", ctx -> Api.json(ctx, 200, topologies.topologies()));
            route(cfg, HandlerType.POST, "/api/v1/topologies", ctx -> {
                String text = ctx.body();
                if (text.isBlank()) throw VmctlException.invalid("body", "empty", "a topology file (YAML or JSON), see /api/v1/topology.schema.json");
                Api.json(ctx, 200, topologies.apply(text, ctx.queryParam("file"), bool(ctx, "dryRun"), bool(ctx, "rollbackOnError")));
            });
            route(cfg, HandlerType.GET, "/api/v1/topologies/{name}", ctx -> Api.json(ctx, 200, topologies.view(ctx.pathParam("name"))));
            route(cfg, HandlerType.DELETE, "/api/v1/topologies/{name}", ctx -> Api.json(ctx, 200, topologies.down(ctx.pathParam("name"))));
            route(cfg, HandlerType.GET, "/api/v1/topology.schema.json", ctx -> ctx.contentType("application/schema+json")
                    .result(new String(dev.vmctl.topology.TopologySpec.class.getResourceAsStream("topology.schema.json").readAllBytes(),
                            StandardCharsets.UTF_8)));
            route(cfg, HandlerType.GET, "/api/v1/nodes", ctx -> Api.json(ctx, 200, topologies.allNodes()));
            route(cfg, HandlerType.GET, "/api/v1/nodes/{topology}/{node}", ctx ->
                    Api.json(ctx, 200, topologies.node(ctx.pathParam("topology"), ctx.pathParam("node"))));
            route(cfg, HandlerType.POST, "/api/v1/nodes/{topology}/{node}/start", ctx ->
                    Api.json(ctx, 200, topologies.startNode(ctx.pathParam("topology"), ctx.pathParam("node"))));
            route(cfg, HandlerType.POST, "/api/v1/nodes/{topology}/{node}/stop", ctx ->
                    Api.json(ctx, 200, topologies.stopNode(ctx.pathParam("topology"), ctx.pathParam("node"))));
            route(cfg, HandlerType.POST, "/api/v1/nodes/{topology}/{node}/snapshot", ctx -> {
                SnapshotBody b = Api.body(ctx, SnapshotBody.class);
                Api.json(ctx, 201, topologies.snapshotNode(ctx.pathParam("topology"), ctx.pathParam("node"), b.name()));
            });
            route(cfg, HandlerType.POST, "/api/v1/nodes/{topology}/{node}/restore", ctx -> {
                RestoreBody b = Api.body(ctx, RestoreBody.class);
                if (b.snapshot() == null) throw VmctlException.invalid("snapshot", "missing", "the name of a node snapshot");
                Api.json(ctx, 200, topologies.restoreNode(ctx.pathParam("topology"), ctx.pathParam("node"), b.snapshot()));
            });
            route(cfg, HandlerType.DELETE, "/api/v1/nodes/{topology}/{node}", ctx ->
                    Api.json(ctx, 200, topologies.removeNode(ctx.pathParam("topology"), ctx.pathParam("node"))));
            route(cfg, HandlerType.GET, "/api/v1/networks", ctx -> Api.json(ctx, 200, nets.networks()));
            route(cfg, HandlerType.POST, "/api/v1/networks", ctx -> {
                NetworkBody b = Api.body(ctx, NetworkBody.class);
                Api.json(ctx, 201, nets.createNetwork(b.name(), b.subnet(), b.vlan()));
            });
            route(cfg, HandlerType.GET, "/api/v1/networks/{name}", ctx -> Api.json(ctx, 200, nets.network(ctx.pathParam("name"))));
            route(cfg, HandlerType.DELETE, "/api/v1/networks/{name}", ctx -> {
                var v = nets.deleteNetwork(ctx.pathParam("name"));
                vms.networkRemoved();
                Api.json(ctx, 200, v);
            });
            route(cfg, HandlerType.GET, "/api/v1/routers", ctx -> Api.json(ctx, 200, nets.routers()));
            route(cfg, HandlerType.POST, "/api/v1/routers", ctx -> {
                RouterBody b = Api.body(ctx, RouterBody.class);
                Api.json(ctx, 201, nets.createRouter(b.name(), b.networks(), b.routes()));
            });
            route(cfg, HandlerType.GET, "/api/v1/routers/{name}", ctx -> Api.json(ctx, 200, nets.router(ctx.pathParam("name"))));
            route(cfg, HandlerType.DELETE, "/api/v1/routers/{name}", ctx -> {
                var v = nets.deleteRouter(ctx.pathParam("name"));
                vms.networkRemoved();
                Api.json(ctx, 200, v);
            });
            route(cfg, HandlerType.GET, "/api/v1/vms/{id}/files", ctx ->
                    ctx.contentType("application/octet-stream").result(vms.readFile(ctx.pathParam("id"), ctx.queryParam("path"))));
            routes.add(new Route("GET", "/api/v1/events"));
            cfg.routes.sse("/api/v1/events", this::events);
        });
        app.start();
        log.info("vmctl server on http://{}:{} (data dir {})", options.host(), app.port(), dir.root());
        return this;
    }

    private void route(io.javalin.config.JavalinConfig cfg, HandlerType type, String path, Handler h) {
        routes.add(new Route(type.name(), path));
        switch (type.name()) {
            case "GET" -> cfg.routes.get(path, h);
            case "POST" -> cfg.routes.post(path, h);
            case "DELETE" -> cfg.routes.delete(path, h);
            case "PATCH" -> cfg.routes.patch(path, h);
            case "PUT" -> cfg.routes.put(path, h);
            default -> throw new IllegalArgumentException(type.name());
        }
    }

    public int port() { return app.port(); }
    public List<Route> routes() { return List.copyOf(routes); }
    public VmService vms() { return vms; }
    public EventBus events() { return events; }

    // ---------------------------------------------------------------- handlers

    record CreateVmBody(String name, String image, Integer cpus, String memory, Integer memoryMiB, String accel, Boolean start,
                        List<NetService.NicRequest> nics) {}

    record NicBody(String network, String ip) {}

    record SnapshotBody(String vm, String name) {}

    record CloneBody(Integer count, String name, String network, Boolean start) {}

    record RestoreBody(String snapshot) {}

    private Map<String, Object> snapshotView(dev.vmctl.snapshot.SnapshotManifest m) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", m.name());
        v.put("createdAt", m.createdAt());
        v.put("parent", m.parent());
        v.put("vm", m.vm().name());
        v.put("image", m.vm().image());
        v.put("cpus", m.vm().cpus());
        v.put("memoryMiB", m.vm().memoryMiB());
        v.put("accel", m.vm().accel());
        v.put("ramMode", m.state().ramMode() == null ? null : m.state().ramMode().name().toLowerCase());
        v.put("compressed", m.state().compressed());
        v.put("nics", m.vm().nics());
        v.put("sizeBytes", m.files().stream().mapToLong(f -> f.size()).sum());
        v.put("files", m.files());
        v.put("formatVersion", m.formatVersion());
        v.put("clones", vms.clonesBySnapshot().getOrDefault(m.name(), List.of()));
        return v;
    }

    record NetworkBody(String name, String subnet, Integer vlan) {}

    record RouterBody(String name, List<String> networks, List<NetService.RouteSpec> routes) {}

    private void patchNic(Context ctx) {
        com.fasterxml.jackson.databind.JsonNode b;
        try {
            b = Api.JSON.readTree(ctx.body().isBlank() ? "{}" : ctx.body());
        } catch (java.io.IOException e) {
            throw new VmctlException(VmctlException.Kind.INVALID, "invalid JSON body", e.getMessage());
        }
        if (!b.isObject()) throw VmctlException.invalid("body", "not a JSON object", "{\"link\": \"down\"} and the like");
        for (var it = b.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("link", "network", "ip", "impair").contains(f)) {
                throw VmctlException.invalid(f, "unknown field", "impair, ip, link, network");
            }
        }
        Map<String, String> impair = null;
        boolean impairGiven = b.has("impair");
        if (impairGiven && !b.get("impair").isNull()) {
            if (!b.get("impair").isObject()) throw VmctlException.invalid("impair", "not an object", "{\"delay\": \"50ms\", …} or null");
            impair = new LinkedHashMap<>();
            for (var it = b.get("impair").fields(); it.hasNext(); ) {
                var e = it.next();
                impair.put(e.getKey(), e.getValue().asText());
            }
        }
        String link = b.hasNonNull("link") ? b.get("link").asText() : null;
        String network = b.hasNonNull("network") ? b.get("network").asText() : null;
        String ip = b.hasNonNull("ip") ? b.get("ip").asText() : null;
        Api.json(ctx, 200, vms.patchNic(ctx.pathParam("id"), ctx.pathParam("nic"),
                new VmService.NicPatch(link, network, ip, impairGiven, impair)));
    }

    private void createVm(Context ctx) {
        CreateVmBody b = Api.body(ctx, CreateVmBody.class);
        if (b.memory() != null && b.memoryMiB() != null) {
            throw VmctlException.invalid("memory", "give either memory or memoryMiB, not both", "memory (\"128M\") or memoryMiB (128)");
        }
        String memory = b.memory() != null ? b.memory() : b.memoryMiB() != null ? b.memoryMiB().toString() : null;
        VmView v = vms.create(new VmService.CreateRequest(b.name(), b.image(), b.cpus(), memory, b.accel(),
                Boolean.TRUE.equals(b.start()), b.nics()));
        if (bool(ctx, "wait")) v = vms.awaitSettled(v.id(), timeout(ctx));
        ctx.header("Location", "/api/v1/vms/" + v.id());
        Api.json(ctx, 201, v);
    }

    private void settle(Context ctx, VmView v) {
        if (bool(ctx, "wait")) {
            Api.json(ctx, 200, vms.awaitSettled(v.id(), timeout(ctx)));
        } else {
            Api.json(ctx, 202, v);
        }
    }

    record ExecBody(List<String> argv, Integer timeoutSec, String stdin) {}

    private void exec(Context ctx) {
        ExecBody b = Api.body(ctx, ExecBody.class);
        int t = b.timeoutSec() == null ? 30 : b.timeoutSec();
        if (t < 1 || t > 3600) throw VmctlException.invalid("timeoutSec", t + " is out of range", "1..3600");
        ExecResult r = vms.exec(ctx.pathParam("id"), b.argv(),
                b.stdin() == null ? null : b.stdin().getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(t));
        Api.json(ctx, 200, r);
    }

    private void console(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        int tail = intParam(ctx, "tail", 100, 0, 100_000);
        String text = vms.consoleTail(id, tail);
        ctx.contentType("text/plain; charset=utf-8");
        if (!bool(ctx, "follow")) {
            ctx.result(text);
            return;
        }
        Path file = vms.consoleFile(id);
        OutputStream out = ctx.res().getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        long pos = Files.exists(file) ? Files.size(file) : 0;
        int idleAfterStop = 0;
        byte[] buf = new byte[8192];
        while (true) {
            boolean wrote = false;
            if (Files.exists(file)) {
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                    if (raf.length() < pos) pos = 0; // truncated
                    raf.seek(pos);
                    int n;
                    while ((n = raf.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        pos += n;
                        wrote = true;
                    }
                }
            }
            if (wrote) out.flush(); // throws when the client has gone
            if (!vms.isLive(id)) {
                if (++idleAfterStop > 2) return;
            }
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * One SSE client. Events are queued per client and written by the client's own thread, so a slow or
     * vanished client never blocks the code that publishes (which may hold engine locks); a client whose
     * queue overflows is disconnected (it can reconnect with Last-Event-ID and catch up).
     */
    private void events(SseClient client) {
        client.keepAlive();
        java.util.concurrent.BlockingQueue<VmEvent> queue = new java.util.concurrent.LinkedBlockingQueue<>(2048);
        long after = 0;
        String last = client.ctx().header("Last-Event-ID");
        if (last != null) {
            try {
                after = Long.parseLong(last.trim());
            } catch (NumberFormatException ignored) {
                after = 0;
            }
        }
        Runnable[] unsubscribe = new Runnable[1];
        unsubscribe[0] = events.subscribe(e -> {
            if (!queue.offer(e)) {
                unsubscribe[0].run();
                client.close();
            }
        });
        if (last != null) for (VmEvent e : events.since(after)) queue.offer(e);
        client.onClose(() -> unsubscribe[0].run());
        client.sendComment("connected");
        Thread.ofVirtual().name("sse-writer").start(() -> {
            try {
                while (!client.terminated()) {
                    VmEvent e = queue.poll(15, java.util.concurrent.TimeUnit.SECONDS);
                    if (e == null) client.sendComment("keep-alive");
                    else send(client, e);
                }
            } catch (InterruptedException | RuntimeException ignored) {
                // the client went away
            } finally {
                unsubscribe[0].run();
            }
        });
    }

    private static void send(SseClient client, VmEvent e) {
        client.sendEvent(e.type(), Api.toJson(e), Long.toString(e.seq()));
    }

    private Map<String, Object> host() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("mode", options.accel().cli());
        AccelProbe.Result probe = accel.lastProbe();
        if (probe == null && options.accel() == VmSpec.Accel.AUTO && !images.names().isEmpty()) {
            probe = accel.probe(images.get(images.names().getFirst()));
        }
        if (options.accel() == VmSpec.Accel.AUTO) {
            a.put("chosen", probe == null ? null : probe.accel());
            a.put("reason", probe == null ? "not probed yet: no guest image to probe with; run 'vmctl image build tiny'" : probe.reason());
        } else {
            a.put("chosen", options.accel().cli());
            a.put("reason", "server started with --accel " + options.accel().cli());
        }
        a.put("kvmDevice", Files.exists(Path.of("/dev/kvm")));
        if (probe != null) {
            a.put("probedAt", probe.probedAt());
            a.put("probeMillis", probe.probeMillis());
        }
        m.put("accel", a);
        m.put("qemu", accel.qemuVersion());
        m.put("hostKernel", System.getProperty("os.version"));
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        m.put("dataDir", dir.root().toString());
        m.put("images", images.names());
        m.put("fabricNamespace", nets.host().fabric());
        Map<String, Object> caps = new LinkedHashMap<>();
        capabilities.forEach((k, v) -> caps.put(k, Map.of("available", v.available(), "detail", v.detail())));
        m.put("capabilities", caps);
        m.put("vlanMechanism", capabilities.getOrDefault("bridgeVlanFiltering", new HostCapabilities.Capability(false, "")).available()
                ? "bridge VLAN filtering" : "one bridge per VLAN id (no bridge VLAN filtering in this kernel)");
        m.put("impairmentMechanism", capabilities.getOrDefault("netem", new HostCapabilities.Capability(false, "")).available()
                ? "netem on the host" : "netem inside the guest through the agent (host kernel has no netem); rate with tbf on the host");
        return m;
    }

    // ---------------------------------------------------------------- small helpers

    /** The GUI (module gui, built by Vite into classpath dev/vmctl/gui/), else a placeholder page. */
    private void gui(Context ctx) throws IOException {
        try (InputStream in = VmctlServer.class.getResourceAsStream("/dev/vmctl/gui/index.html")) {
            ctx.contentType("text/html; charset=utf-8").result(in != null ? new String(in.readAllBytes(), StandardCharsets.UTF_8) : resource("index.html"));
        }
    }

    private void guiAsset(Context ctx) throws IOException {
        String file = ctx.pathParam("file");
        if (!file.matches("[A-Za-z0-9._-]+")) throw VmctlException.notFound("asset", file);
        try (InputStream in = VmctlServer.class.getResourceAsStream("/dev/vmctl/gui/assets/" + file)) {
            if (in == null) throw VmctlException.notFound("asset", file);
            String type = file.endsWith(".js") ? "text/javascript" : file.endsWith(".css") ? "text/css" : file.endsWith(".svg") ? "image/svg+xml"
                    : file.endsWith(".png") ? "image/png" : file.endsWith(".woff2") ? "font/woff2" : "application/octet-stream";
            ctx.contentType(type).header("Cache-Control", "public, max-age=31536000, immutable").result(in.readAllBytes());
        }
    }

    private static boolean bool(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null) return false;
        return switch (v) {
            case "true", "1", "yes", "" -> true;
            case "false", "0", "no" -> false;
            default -> throw VmctlException.invalid(name, "'" + v + "' is not a boolean", "true, false");
        };
    }

    private static int intParam(Context ctx, String name, int dflt, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null) return dflt;
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw VmctlException.invalid(name, "'" + v + "' is not allowed", min + ".." + max);
        }
    }

    private static Duration timeout(Context ctx) {
        return Duration.ofSeconds(intParam(ctx, "timeout", 180, 1, 3600));
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = VmctlServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("missing resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        if (app != null) app.stop();
        vms.close();
        store.close();
    }
}
