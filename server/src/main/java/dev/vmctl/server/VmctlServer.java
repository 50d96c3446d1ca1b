package dev.vmctl.server;

import dev.vmctl.engine.AccelService;
import dev.vmctl.engine.DataDir;
import dev.vmctl.engine.Engine;
import dev.vmctl.engine.EventBus;
import dev.vmctl.engine.ImageService;
import dev.vmctl.engine.LinuxHostNet;
import dev.vmctl.engine.NetService;
import dev.vmctl.engine.Store;
import dev.vmctl.engine.TopologyService;
import dev.vmctl.engine.scenario.ScenarioService;
import dev.vmctl.engine.VmService;
import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.SnapshotStore;
import dev.vmctl.vmm.AccelProbe;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.sse.SseClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The vmctl server: wires store, engine and REST API together. Routes live per domain ({@link VmRoutes},
 * {@link SnapshotRoutes}, {@link NetworkRoutes}, {@link SegmentRoutes}, {@link TopologyRoutes}, {@link OperationRoutes}) and only
 * translate HTTP into engine calls; every error goes through {@link Api#status} in one exception handler.
 */
public final class VmctlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VmctlServer.class);

    public record Options(Path dataDir, String host, int port, VmSpec.Accel accel, Duration bootTimeout) {}

    /** A registered route; the OpenAPI test checks this list against the published document. */
    public record Route(String method, String path) {}

    private final Options options;
    private final DataDir dir;
    private final DataDirLock lock;
    private final Store store;
    private final EventBus events = new EventBus();
    private final ImageService images;
    private final AccelService accel;
    private final Engine engine;
    private final NetService nets;
    private final TopologyService topologies;
    private final ScenarioService scenarios;
    private final dev.vmctl.engine.Templates templates;
    private final List<Route> routes = new ArrayList<>();
    private static final String SSE_PLACE = "vmctl.ssePlace";
    private final Followers sseFollowers = new Followers("event-stream clients");
    private final PrometheusExport prometheus;
    private final Auth auth;
    private final Ownership ownership;
    private final Map<String, HostCapabilities.Capability> capabilities;
    private Javalin app;

    /**
     * What the server enforces on the host: {@code memoryReserve}, the memory admission control keeps back for the
     * host ({@code vmctl serve --memory-reserve}, {@link dev.vmctl.engine.MemoryBudget.Reserve#parse}).
     */
    public record HostPolicy(String memoryReserve, boolean sandbox, String qemuUser) {
        public HostPolicy(String memoryReserve) {
            this(memoryReserve, true, dev.vmctl.vmm.QemuConfinement.DEFAULT_USER);
        }

        public static HostPolicy defaults() {
            return new HostPolicy(dev.vmctl.engine.MemoryBudget.DEFAULT_RESERVE);
        }
    }

    private final dev.vmctl.vmm.QemuConfinement confinement;

    public VmctlServer(Options options) {
        this(options, HostPolicy.defaults());
    }

    public VmctlServer(Options options, HostPolicy policy) {
        dev.vmctl.engine.MemoryBudget.Reserve.parse(policy.memoryReserve()); // a bad value is refused before anything starts
        this.options = options;
        this.dir = new DataDir(options.dataDir()).create();
        this.lock = DataDirLock.acquire(dir.root());
        this.store = new Store(dir.database());
        this.images = new ImageService(dir, events);
        this.accel = new AccelService(dir, options.accel());
        this.capabilities = HostCapabilities.probe();
        this.nets = new NetService(store, events, new LinuxHostNet(LinuxHostNet.fabricName(dir.root()), capabilities));
        this.engine = new Engine(dir, store, events, images, accel, nets, new SnapshotStore(dir.root().resolve("snapshots")),
                options.bootTimeout());
        this.topologies = new TopologyService(store, events, engine, images, options.bootTimeout());
        this.scenarios = new ScenarioService(engine, topologies, events);
        this.templates = new dev.vmctl.engine.Templates(engine, topologies, events);
        this.prometheus = new PrometheusExport(engine.metrics(), events);
        engine.memory().reserve(policy.memoryReserve());
        // QEMU confined: seccomp and its own user (what the host allows; vmctl doctor says which)
        this.confinement = dev.vmctl.vmm.QemuConfinement.detect(policy.sandbox(), policy.qemuUser());
        dev.vmctl.vmm.QemuConfinement.activate(confinement);
        dev.vmctl.net.Fabric.tapOwner(confinement.user(), confinement.user() == null ? null : Integer.toString(confinement.gid()));
        if (confinement.user() != null) {
            privateFiles(dir.root());
            confinement.openDataDir(dir.root());
        }
        this.auth = new Auth(new dev.vmctl.engine.UserStore(store), new dev.vmctl.engine.AuditLog(store), dir.root());
        this.ownership = new Ownership(new dev.vmctl.engine.Owners(store), store, engine.vms(), engine.ops());
    }

    /** The server's own files stay its own when the data directory is opened to QEMU's group for traversal. */
    private static void privateFiles(Path root) {
        for (String f : List.of("vmctl.db", "vmctl.db-wal", "vmctl.db-shm", "server.lock", "host-probe.json")) {
            Path p = root.resolve(f);
            try {
                if (Files.exists(p)) Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (IOException | UnsupportedOperationException e) {
                log.warn("{}: make it private: {}", p, e.getMessage());
            }
        }
    }

    public VmctlServer start() {
        auth.bootstrap(); // DATA/admin.token before anything answers
        engine.reconcile();
        scenarios.reconcile();
        templates.start();
        for (Path orphan : engine.snapshots().store().removeOrphans()) log.info("removed unfinished snapshot {}", orphan);
        RouteRules rules = routeRules();
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = Long.MAX_VALUE; // each route's own limit: BodyLimitFilter
            cfg.jetty.modifyServletContextHandler(h -> h.addFilter(new org.eclipse.jetty.ee10.servlet.FilterHolder(new BodyLimitFilter(rules)),
                    "/*", java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST)));
            HttpErrors.install(cfg);
            cfg.jetty.host = options.host();
            cfg.jetty.port = options.port();
            RequestGuard guard = new RequestGuard(options.host(), System.getenv("VMCTL_ALLOWED_HOSTS"));
            cfg.routes.before(guard::check);
            cfg.routes.before(auth::check);
            cfg.routes.before(ownership::check);
            cfg.routes.after(ownership::after);
            cfg.routes.after(auth::audit);
            cfg.routes.exception(VmctlException.class, (e, ctx) ->
                    Api.json(ctx, Api.status(e.kind()), new Api.ErrorBody(e.getMessage(), e.detail())));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                log.error("{} {}: {}", ctx.method(), ctx.path(), e.toString(), e);
                Api.json(ctx, 500, new Api.ErrorBody("internal error: " + e.getMessage(), e.getClass().getSimpleName()));
            });
            cfg.routes.error(404, "*", ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty()) {
                    Api.json(ctx, 404, new Api.ErrorBody("no such endpoint: " + ctx.method() + " " + ctx.path(), "see /api/v1/openapi.json"));
                }
            });
            Http.Routes r = (method, path, h) -> route(cfg, method, path, withContentType(rules.add(method.name(), path), h));
            r.add(HandlerType.GET, "/", this::gui);
            r.add(HandlerType.GET, "/assets/{file}", this::guiAsset);
            r.add(HandlerType.GET, "/api/v1/openapi.json", ctx -> ctx.contentType("application/json").result(resource("openapi.json")));
            r.add(HandlerType.GET, "/api/v1/host", ctx -> Api.json(ctx, 200, host()));
            r.add(HandlerType.GET, "/api/v1/images", ctx -> Api.json(ctx, 200, images.list()));
            r.add(HandlerType.GET, "/api/v1/images/{name}", ctx -> Api.json(ctx, 200, engine.image(ctx.pathParam("name"))));
            r.add(HandlerType.POST, "/api/v1/images/{name}/build", ctx -> {
                var a = engine.buildImage(ctx.pathParam("name"), ctx.queryParam("kernel"), ctx.queryParam("packages"),
                        ctx.queryParam("size"));
                if (options.accel() == VmSpec.Accel.AUTO) CompletableFuture.runAsync(() -> accel.probe(a.value()));
                Http.answer(ctx, 200, a);
            });
            r.add(HandlerType.POST, "/api/v1/images/{name}/import", ctx -> {
                ImportBody b = Api.body(ctx, ImportBody.class);
                Http.answer(ctx, 201, engine.importImage(ctx.pathParam("name"), b.kernel(), b.rootfs(), b.initrd(), b.os()));
            });
            r.add(HandlerType.DELETE, "/api/v1/images/{name}", ctx -> Http.answer(ctx, 200, engine.removeImage(ctx.pathParam("name"))));
            new VmRoutes(engine.vms(), engine.nics(), engine.artifacts()).register(r);
            new ArtifactRoutes(engine.artifacts()).register(r);
            new SnapshotRoutes(engine.snapshots(), engine.vms(), dir.root()).register(r);
            new NetworkRoutes(engine.networks()).register(r);
            new SegmentRoutes(engine.segments()).register(r);
            new TopologyRoutes(topologies).register(r);
            new OperationRoutes(engine.ops(), engine.vms()).register(r);
            new ScenarioRoutes(scenarios).register(r);
            TemplateRoutes tr = new TemplateRoutes(templates);
            tr.register(r);
            tr.registerRun(r);
            new MetricsRoutes(engine.metrics(), prometheus).register(r);
            new AuthRoutes(auth).register(r);
            routes.add(new Route("GET", "/api/v1/events"));
            rules.add("GET", "/api/v1/events");
            // a place per event-stream client: taken here, given back when its stream ends (events), or here after the
            // request when no stream took it over (whoever claims the place first owns it)
            cfg.routes.before("/api/v1/events", ctx -> {
                sseFollowers.enter();
                ctx.attribute(SSE_PLACE, new java.util.concurrent.atomic.AtomicBoolean());
            });
            cfg.routes.after("/api/v1/events", ctx -> {
                java.util.concurrent.atomic.AtomicBoolean place = ctx.attribute(SSE_PLACE);
                if (place != null && place.compareAndSet(false, true)) sseFollowers.leave();
            });
            cfg.routes.sse("/api/v1/events", this::events);
        });
        app.start();
        engine.metrics().start();
        log.info("vmctl server on http://{}:{} (data dir {})", options.host(), app.port(), dir.root());
        return this;
    }

    /** Body limits and content types per route (see {@link RouteRules}): uploads are larger than the 1 MiB of the rest. */
    private static RouteRules routeRules() {
        java.util.Map<String, Long> uploads = new java.util.HashMap<>();
        uploads.put("PUT /api/v1/vms/{id}/files", (long) VmService.MAX_FILE_BYTES);
        uploads.put("POST /api/v1/snapshots/import", SnapshotStore.maxImportBytes());
        for (String m : List.of("POST", "PUT", "PATCH", "DELETE", "GET")) {
            uploads.put(m + " /run/{name}", (long) dev.vmctl.engine.Templates.maxBody());
            uploads.put(m + " /run/{name}/{path}", (long) dev.vmctl.engine.Templates.maxBody());
        }
        try {
            return new RouteRules(resource("openapi.json"), uploads);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Handler withContentType(RouteRules.Rule rule, Handler h) {
        return ctx -> {
            RouteRules.checkType(ctx, rule);
            h.handle(ctx);
        };
    }

    private void route(JavalinConfig cfg, HandlerType type, String path, Handler h) {
        routes.add(new Route(type.name(), path.replace("<", "{").replace(">", "}"))); // Javalin's <rest> is OpenAPI's {rest}
        switch (type.name()) {
            case "GET" -> cfg.routes.get(path, h);
            case "POST" -> cfg.routes.post(path, h);
            case "DELETE" -> cfg.routes.delete(path, h);
            case "PATCH" -> cfg.routes.patch(path, h);
            case "PUT" -> cfg.routes.put(path, h);
            case "HEAD" -> cfg.routes.head(path, h);
            case "OPTIONS" -> cfg.routes.options(path, h);
            default -> throw new IllegalArgumentException(type.name());
        }
    }

    public int port() { return app.port(); }
    public List<Route> routes() { return List.copyOf(routes); }
    public Engine engine() { return engine; }
    public VmService vms() { return engine.vms(); }
    public EventBus events() { return events; }
    public ScenarioService scenarios() { return scenarios; }

    /**
     * One SSE client. Events are queued per client and written by the client's own thread, so a slow or
     * vanished client never blocks the code that publishes (which may hold engine locks); a client whose
     * queue overflows is disconnected (it can reconnect with Last-Event-ID and catch up).
     */
    private void events(SseClient client) {
        java.util.concurrent.atomic.AtomicBoolean place = client.ctx().attribute(SSE_PLACE);
        if (place == null || !place.compareAndSet(false, true)) {
            try {
                sseFollowers.enter(); // the request's place was given back already: take one again, or end the stream
            } catch (io.javalin.http.HttpResponseException full) {
                client.close();
                return;
            }
        }
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
        // a user's stream carries only the events of what it may see (checked here, off the publishing thread)
        dev.vmctl.engine.UserStore.User user = client.ctx().attribute("vmctl.user");
        java.util.Set<String> runs = new java.util.HashSet<>();
        Thread.ofVirtual().name("sse-writer").start(() -> {
            try {
                while (!client.terminated()) {
                    VmEvent e = queue.poll(15, java.util.concurrent.TimeUnit.SECONDS);
                    if (e == null) client.sendComment("keep-alive");
                    else if (user == null || ownership.seesEvent(user, e, runs)) send(client, e);
                }
            } catch (InterruptedException | RuntimeException ignored) {
                // the client went away
            } finally {
                unsubscribe[0].run();
                sseFollowers.leave();
            }
        });
    }

    private static void send(SseClient client, VmEvent e) {
        client.sendEvent(e.type(), Api.toJson(e), Long.toString(e.seq()));
    }

    /** {@code POST /api/v1/images/{name}/import}: paths on the server's host. */
    record ImportBody(String kernel, String rootfs, String initrd, String os) {}

    private HostView host() {
        AccelProbe.Result probe = accel.lastProbe();
        if (probe == null && options.accel() == VmSpec.Accel.AUTO && !images.names().isEmpty()) {
            probe = accel.probe(images.get(images.names().getFirst()));
        }
        String mode = options.accel().cli();
        String chosen;
        String reason;
        if (options.accel() == VmSpec.Accel.AUTO) {
            chosen = probe == null ? null : probe.accel();
            reason = probe == null ? "not probed yet: no guest image to probe with; run 'vmctl image build tiny'" : probe.reason();
        } else {
            chosen = mode;
            reason = "server started with --accel " + mode;
        }
        HostView.Accel a = new HostView.Accel(mode, chosen, reason, Files.exists(Path.of("/dev/kvm")),
                probe == null ? null : probe.probedAt(), probe == null ? null : probe.probeMillis());
        return new HostView(a, accel.qemuVersion(), System.getProperty("os.version"), Runtime.getRuntime().availableProcessors(),
                dir.root().toString(), images.names(), nets.host().fabric(), capabilities,
                available("bridgeVlanFiltering")
                        ? "bridge VLAN filtering" : "one bridge per VLAN id (no bridge VLAN filtering in this kernel)",
                available("netem")
                        ? "netem on the host (egress on an ifb of the tap, ingress at the tap's root)"
                        : "netem inside the guest through the agent (host kernel has no netem): egress at the root of its interface,"
                        + " ingress on an ifb fed by the interface's ingress; rate with tbf on the host",
                nets.host().partitionMechanism(), engine.segments().vpnMechanism(), cgroups(), engine.memory().view(),
                new HostView.Confinement(confinement.mode(), confinement.sandbox() ? dev.vmctl.vmm.QemuConfinement.SANDBOX : null,
                        confinement.user(), confinement.detail()));
    }

    private HostView.Cgroups cgroups() {
        dev.vmctl.host.Cgroups.Layout l = engine.limits().layout();
        return new HostView.Cgroups(l.mode().name().toLowerCase(java.util.Locale.ROOT), l.cpu() == null ? null : l.cpu().toString(),
                l.memory() == null ? null : l.memory().toString(), l.detail());
    }

    private boolean available(String capability) {
        HostCapabilities.Capability c = capabilities.get(capability);
        return c != null && c.available();
    }

    // ---------------------------------------------------------------- small helpers

    /** The GUI (module gui, built by Vite into classpath dev/vmctl/gui/), else a placeholder page. */
    private void gui(Context ctx) throws IOException {
        if (auth.guiEntry(ctx)) return;
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

    private static String resource(String name) throws IOException {
        try (InputStream in = VmctlServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("missing resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }


    @Override
    public void close() {
        scenarios.close(); // a run's faults are reverted before the server stops
        templates.close();
        if (app != null) app.stop();
        accel.close(); // a KVM probe booting now ends with the server
        engine.close();
        store.close();
        lock.close();
    }
}
