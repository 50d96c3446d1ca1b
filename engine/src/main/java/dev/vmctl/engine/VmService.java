package dev.vmctl.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Procs;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmOperation;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.VmFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The VM actions that the REST API, the CLI (through the API) and later the GUI share. No web types
 * here. Each action checks its allowed states ({@link VmOperation}); every state change goes through
 * {@link #transition}, which checks the one transition table ({@link VmState}), persists and emits an
 * event.
 */
public final class VmService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VmService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DataDir dir;
    private final Store store;
    private final EventBus events;
    private final ImageService images;
    private final AccelService accel;
    private final NetService net;
    private final Duration bootTimeout;
    private final Map<String, VmRuntime> runtimes = new ConcurrentHashMap<>();
    private final Map<String, String> busy = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public VmService(DataDir dir, Store store, EventBus events, ImageService images, AccelService accel, NetService net,
                     Duration bootTimeout) {
        this.dir = dir;
        this.net = net;
        this.store = store;
        this.events = events;
        this.images = images;
        this.accel = accel;
        this.bootTimeout = bootTimeout;
    }

    // ---------------------------------------------------------------- queries

    public List<VmView> list() {
        return store.all().stream().map(this::view).toList();
    }

    public VmView get(String key) {
        return view(row(key));
    }

    private VmView view(VmRow r) {
        return r.view(net.nicViews(r.id()));
    }

    private VmRow row(String key) {
        return store.byIdOrName(key).orElseThrow(() -> VmctlException.notFound("vm", key));
    }

    // ---------------------------------------------------------------- create / start

    public record CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start,
                                List<NetService.NicRequest> nics) {
        public CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start) {
            this(name, image, cpus, memory, accel, start, List.of());
        }
    }

    public VmView create(CreateRequest req) {
        VmSpec spec = VmSpec.validate(req.name(), req.image(), req.cpus(), req.memory(), req.accel(), images.names());
        String now = now();
        VmRow row = new VmRow(newId(), spec.name(), VmState.REQUESTED, spec.image(), spec.cpus(), spec.memoryMiB(),
                spec.accel().cli(), null, now, now, null, null, null);
        if (store.byIdOrName(spec.name()).isPresent()) {
            throw VmctlException.conflict("create vm " + spec.name() + ": the name is already in use",
                    "choose another name or remove the existing VM");
        }
        List<NetRows.NicRow> nics = net.planNics(row.id(), req.nics());
        store.insert(row);
        try {
            net.saveNics(nics);
        } catch (RuntimeException e) {
            store.delete(row.id());
            throw e;
        }
        events.publish("vm.state", row.id(), row.name(), null, VmState.REQUESTED, "created");
        if (req.start()) return start(row.id());
        return view(row);
    }

    public VmView start(String key) {
        VmRow r = row(key);
        synchronized (lock(r.id())) {
            r = row(r.id());
            VmOperation.START.check(r.name(), r.state());
            claim(r, "starting");
            r = transition(r.id(), VmState.PREPARING, null, "booting");
        }
        String id = r.id();
        Thread.ofVirtual().name("boot-" + r.name()).start(() -> boot(id, false));
        return view(r);
    }

    /** How a boot starts: a cold boot from the image, a reset of the running QEMU, or a snapshot load. */
    sealed interface BootPlan permits Cold, Reboot, FromSnapshot {}

    record Cold() implements BootPlan {}

    record Reboot() implements BootPlan {}

    /** A clone (fresh identity, RAM mapped copy-on-write) or a roll-back of this VM (its own RAM file). */
    record FromSnapshot(dev.vmctl.snapshot.VerifiedSnapshot snapshot, boolean asClone) implements BootPlan {}

    private void boot(String id, boolean reboot) {
        boot(id, reboot ? new Reboot() : new Cold());
    }

    private void boot(String id, BootPlan plan) {
        VmRuntime rt = runtimes.get(id);
        try {
            VmRow r = row(id);
            switch (plan) {
                case Cold c -> {
                    ImageInfo img = images.usable(r.image());
                    AccelService.Decision d = accel.decide(VmSpec.Accel.parse("accel", r.accel()), img);
                    events.publish("vm.progress", id, r.name(), null, VmState.PREPARING,
                            "launching qemu (accel " + d.accel() + ": " + d.reason() + ")");
                    VmFiles files = dir.vmForBoot(r.id(), r.memoryMiB()); // RAM file on tmpfs when it fits (RamFiles)
                    prepareFiles(files, true);
                    List<QemuCommand.Nic> nics = net.prepareTaps(r.id());
                    rt = launch(r, d.accel(), new QemuCommand.Spec(r.id(), r.name(), r.cpus(), r.memoryMiB(), d.kvm(),
                            img.kernel(), img.initrd(), null, files, nics, files.ramFile(), true, false));
                }
                case Reboot b -> { /* the QEMU process stays; the guest was reset */ }
                case FromSnapshot fs -> {
                    dev.vmctl.snapshot.VerifiedSnapshot snap = fs.snapshot();
                    VmFiles files = dir.vmForBoot(r.id(), r.memoryMiB()); // RAM file on tmpfs when it fits (RamFiles)
                    prepareFiles(files, true);
                    List<QemuCommand.Nic> nics = net.prepareTaps(r.id());
                    QemuCommand.Spec spec;
                    if (fs.asClone()) {
                        spec = snap.cloneSpec(r.id(), r.name(), files, nics);
                    } else if (snap.ramFile() != null) {
                        snap.copyRamTo(files.ramFile());
                        spec = snap.restoreSpec(r.id(), r.name(), files, nics, files.ramFile(), true);
                    } else {
                        spec = snap.restoreSpec(r.id(), r.name(), files, nics, null, false);
                    }
                    events.publish("vm.progress", id, r.name(), null, VmState.PREPARING,
                            (fs.asClone() ? "cloning from snapshot " : "restoring snapshot ") + snap.name());
                    rt = launch(r, spec.kvm() ? "kvm" : "tcg", spec);
                    snap.load(rt.qmp, true, Duration.ofMinutes(2));
                }
            }
            waitForAgent(rt, r.name(), Instant.now().plus(bootTimeout));
            if (plan instanceof FromSnapshot fs && fs.asClone()) {
                List<dev.vmctl.snapshot.CloneIdentity.Nic> ids = new ArrayList<>();
                for (NetRows.NicRow n : store.nics(id)) ids.add(new dev.vmctl.snapshot.CloneIdentity.Nic(n.name(), n.mac(), null, null));
                dev.vmctl.snapshot.CloneIdentity.apply(rt.agent, dev.vmctl.snapshot.CloneIdentity.Spec.of(r.name(), ids), Duration.ofSeconds(30));
            }
            net.configureGuest(id, rt.agent);
            applyLinkStates(rt, id);
            synchronized (lock(id)) {
                VmRow now = row(id);
                if (now.state() == VmState.PREPARING && rt.alive()) {
                    transition(id, VmState.RUNNING, null, "guest agent answered");
                }
            }
        } catch (RuntimeException e) {
            failBoot(id, rt, e);
        } finally {
            busy.remove(id);
        }
    }

    private void prepareFiles(VmFiles files, boolean freshRam) {
        try {
            Files.createDirectories(files.dir());
            for (Path p : List.of(files.qmpSocket(), files.agentSocket(), files.pidFile())) Files.deleteIfExists(p);
            if (freshRam) Files.deleteIfExists(files.ramFile());
        } catch (IOException e) {
            throw new UncheckedIOException("prepare " + files.dir() + ": " + e.getMessage(), e);
        }
    }

    private VmRuntime launch(VmRow r, String accelName, QemuCommand.Spec spec) {
        VmFiles files = spec.files();
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", net.host().fabric()));
        argv.add("setsid"); // own session: a Ctrl-C or kill of the server's process group does not reach the VM
        argv.addAll(QemuCommand.argv(spec));
        ProcessBuilder pb = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(files.qemuLog().toFile()))
                .redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "start vm " + r.name() + ": cannot run qemu: " + e.getMessage(),
                    "install the Debian package qemu-system-x86");
        }
        long pid = p.pid();
        long start = Procs.startTime(pid).orElse(0);
        VmRuntime rt = new VmRuntime(r.id(), files, pid, start, p, p.toHandle());
        runtimes.put(r.id(), rt);
        synchronized (lock(r.id())) {
            store.update(row(r.id()).withProcess(pid, start, accelName));
        }
        p.onExit().thenRun(() -> onProcessExit(rt));
        connectQmp(rt, Instant.now().plusSeconds(15));
        return rt;
    }

    private void connectQmp(VmRuntime rt, Instant deadline) {
        while (true) {
            if (!rt.alive()) throw new VmctlException(VmctlException.Kind.INTERNAL, "qemu exited during start-up", null);
            try {
                QmpClient q = QmpClient.connect(rt.files.qmpSocket(), Duration.ofSeconds(1));
                q.onEvent(ev -> onQmpEvent(rt, ev));
                rt.qmp = q;
                return;
            } catch (RuntimeException e) {
                if (Instant.now().isAfter(deadline)) {
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "qmp socket did not answer: " + e.getMessage(), null);
                }
                sleep(50);
            }
        }
    }

    private void onQmpEvent(VmRuntime rt, JsonNode ev) {
        rt.dispatch(ev);
        String name = ev.path("event").asText();
        if ("SHUTDOWN".equals(name)) {
            rt.guestShutdown = ev.path("data").path("guest").asBoolean(false);
            rt.shutdownReason = ev.path("data").path("reason").asText(null);
        }
    }

    private void waitForAgent(VmRuntime rt, String name, Instant deadline) {
        String lastError = "no answer yet";
        while (true) {
            if (!rt.alive()) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, "qemu exited during boot (" + rt.exitDescription() + ")", null);
            }
            if (Instant.now().isAfter(deadline)) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, "guest agent did not answer within "
                        + bootTimeout.toSeconds() + " s (" + lastError + ")", null);
            }
            try {
                if (rt.agent == null) rt.agent = GuestAgentClient.connect(rt.files.agentSocket(), Duration.ofSeconds(1));
                if (rt.agent.ping(Duration.ofMillis(700))) return;
            } catch (RuntimeException e) {
                lastError = String.valueOf(e.getMessage());
                sleep(50);
            }
        }
    }

    private void failBoot(String id, VmRuntime rt, RuntimeException e) {
        String reason = e.getMessage();
        if (rt != null && rt.expectedExit) return; // a stop or destroy ended the boot: it records the state
        if (rt != null) {
            rt.expectedExit = true;
            kill(rt, Duration.ofSeconds(2));
        }
        synchronized (lock(id)) {
            store.byIdOrName(id).ifPresent(r -> {
                if (r.state() == VmState.PREPARING || r.state() == VmState.RUNNING) {
                    transition(id, VmState.ERROR, "boot failed: " + reason + consoleTail(id), "boot failed");
                    clearProcess(id);
                }
            });
        }
        log.warn("vm {}: boot failed: {}", id, reason);
    }

    // ---------------------------------------------------------------- stop / reboot / destroy

    public VmView stop(String key) {
        VmRow r = row(key);
        synchronized (lock(r.id())) {
            r = row(r.id());
            VmOperation.STOP.check(r.name(), r.state());
            if (busy.containsKey(r.id()) && !"starting".equals(busy.get(r.id()))) {
                throw busyError(r);
            }
            busy.put(r.id(), "stopping");
        }
        String id = r.id();
        Thread.ofVirtual().name("stop-" + r.name()).start(() -> {
            try {
                stopNow(id);
            } catch (RuntimeException e) {
                log.warn("vm {}: stop failed: {}", id, e.getMessage());
            } finally {
                busy.remove(id, "stopping");
            }
        });
        return view(r);
    }

    private void stopNow(String id) {
        VmRuntime rt = runtimes.get(id);
        if (rt != null) {
            rt.expectedExit = true;
            boolean graceful = false;
            GuestAgentClient agent = rt.agent;
            if (agent != null && row(id).state() == VmState.RUNNING) {
                try {
                    agent.shutdown("powerdown");
                    graceful = waitExit(rt, Duration.ofSeconds(10));
                } catch (RuntimeException e) {
                    log.info("vm {}: agent shutdown failed: {}", id, e.getMessage());
                }
            }
            if (!graceful) kill(rt, Duration.ofSeconds(3));
        }
        synchronized (lock(id)) {
            VmRow r = row(id);
            if (r.state() != VmState.STOPPED && r.state() != VmState.DESTROYED) {
                transition(id, VmState.STOPPED, null, "stopped");
            }
            clearProcess(id);
        }
        maybeRemoveFabric();
    }

    public VmView reboot(String key) {
        VmRow r = row(key);
        VmRuntime rt;
        synchronized (lock(r.id())) {
            r = row(r.id());
            VmOperation.REBOOT.check(r.name(), r.state());
            claim(r, "rebooting");
            rt = runtimes.get(r.id());
            if (rt == null || rt.qmp == null) {
                busy.remove(r.id());
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "reboot " + r.name() + ": no qemu control connection", null);
            }
            r = transition(r.id(), VmState.PREPARING, null, "rebooting");
        }
        String id = r.id();
        VmRuntime runtime = rt;
        Thread.ofVirtual().name("reboot-" + r.name()).start(() -> {
            try {
                GuestAgentClient old = runtime.agent;
                runtime.agent = null;
                if (old != null) old.close();
                runtime.qmp.execute("system_reset", Map.of(), Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                failBoot(id, runtime, e);
                busy.remove(id);
                return;
            }
            boot(id, true);
        });
        return view(r);
    }

    public VmView destroy(String key, boolean force) {
        VmRow r = row(key);
        synchronized (lock(r.id())) {
            r = row(r.id());
            (force ? VmOperation.DESTROY_FORCE : VmOperation.DESTROY).check(r.name(), r.state());
            if (!force && busy.containsKey(r.id())) throw busyError(r);
            busy.put(r.id(), "destroying");
        }
        String id = r.id();
        try {
            VmRuntime rt = runtimes.get(id);
            if (rt != null) {
                rt.expectedExit = true;
                kill(rt, Duration.ofSeconds(2));
            } else if (r.pid() != null && r.pidStart() != null && Procs.isSame(r.pid(), r.pidStart())) {
                Procs.terminate(r.pid(), Duration.ofSeconds(2));
            }
            VmRow gone;
            VmView goneView;
            synchronized (lock(id)) {
                List<dev.vmctl.model.NicView> nics = net.nicViews(id);
                net.releaseTaps(id);
                gone = transition(id, VmState.DESTROYED, null, "destroyed");
                goneView = gone.view(nics);
                deleteQuietly(dir.vm(id).dir());
                dir.ramFiles().remove(id); // a RAM file on tmpfs is not in the VM folder (RamFiles)
                store.delete(id);
            }
            return goneView;
        } finally {
            busy.remove(id);
            locks.remove(id);
            maybeRemoveFabric();
        }
    }

    // ---------------------------------------------------------------- exec / console

    public ExecResult exec(String key, List<String> argv, byte[] stdin, Duration timeout) {
        if (argv == null || argv.isEmpty() || argv.getFirst() == null || argv.getFirst().isBlank()) {
            throw VmctlException.invalid("argv", "missing command", "a non-empty list: program followed by its arguments");
        }
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofHours(1)) > 0) {
            throw VmctlException.invalid("timeoutSec", timeout.toSeconds() + " is out of range", "1..3600");
        }
        VmRow r = row(key);
        VmOperation.EXEC.check(r.name(), r.state());
        VmRuntime rt = runtimes.get(r.id());
        GuestAgentClient agent = rt == null ? null : rt.agent;
        if (agent == null) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "exec " + r.name() + ": the guest agent is not connected", null);
        }
        try {
            return agent.exec(argv, stdin, timeout);
        } catch (RuntimeException e) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "exec " + r.name() + ": " + e.getMessage(), null, e);
        }
    }

    public static final int MAX_FILE_BYTES = 64 << 20;

    /** Writes a file in the guest (through the agent; for bulk artefacts a later release adds a faster path). */
    public void writeFile(String key, String path, byte[] data) {
        checkGuestPath(path);
        if (data.length > MAX_FILE_BYTES) {
            throw VmctlException.invalid("body", data.length + " bytes is too large", "at most " + MAX_FILE_BYTES + " bytes");
        }
        GuestAgentClient agent = agentFor(key, "write file");
        try {
            agent.writeFile(path, data);
        } catch (RuntimeException e) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "write " + path + " in vm " + key + ": " + e.getMessage(), null, e);
        }
    }

    public byte[] readFile(String key, String path) {
        checkGuestPath(path);
        GuestAgentClient agent = agentFor(key, "read file");
        try {
            return agent.readFile(path);
        } catch (RuntimeException e) {
            throw new VmctlException(VmctlException.Kind.NOT_FOUND, "read " + path + " in vm " + key + ": " + e.getMessage(), null, e);
        }
    }

    private static void checkGuestPath(String path) {
        if (path == null || !path.startsWith("/") || path.contains("\0")) {
            throw VmctlException.invalid("path", "'" + path + "' is not an absolute guest path", "an absolute path such as /etc/app.conf");
        }
    }

    private GuestAgentClient agentFor(String key, String what) {
        VmRow r = row(key);
        VmOperation.EXEC.check(r.name(), r.state());
        VmRuntime rt = runtimes.get(r.id());
        GuestAgentClient agent = rt == null ? null : rt.agent;
        if (agent == null) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, what + " " + r.name() + ": the guest agent is not connected", null);
        }
        return agent;
    }

    public Path consoleFile(String key) {
        return dir.vm(row(key).id()).console();
    }

    /** The last {@code lines} lines of the serial console. */
    public String consoleTail(String key, int lines) {
        Path f = consoleFile(key);
        if (!Files.exists(f)) return "";
        try {
            // serial output is mostly UTF-8 but may hold any byte: decode leniently
            List<String> all = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            List<String> tail = all.subList(Math.max(0, all.size() - lines), all.size());
            return String.join("\n", tail) + (tail.isEmpty() ? "" : "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until no operation is in progress on the VM and it is not PREPARING (or it is gone).
     * @return the settled view, or the current one at the deadline
     */
    public VmView awaitSettled(String key, Duration timeout) {
        VmRow r = row(key);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            var now = store.byIdOrName(r.id());
            if (now.isEmpty()) return r.withState(VmState.DESTROYED, null, now()).view();
            if (!busy.containsKey(r.id()) && now.get().state() != VmState.PREPARING) return view(now.get());
            sleep(50);
        }
        return view(row(r.id()));
    }

    public boolean isLive(String key) {
        return store.byIdOrName(key).map(r -> r.state() == VmState.RUNNING || r.state() == VmState.PREPARING).orElse(false);
    }

    // ---------------------------------------------------------------- NICs and links

    private boolean anyLive() {
        return !runtimes.isEmpty() || store.all().stream()
                .anyMatch(r -> r.state() == VmState.RUNNING || r.state() == VmState.PREPARING);
    }

    private void maybeRemoveFabric() {
        try {
            net.maybeRemoveFabric(anyLive());
        } catch (RuntimeException e) {
            log.warn("remove fabric namespace: {}", e.getMessage());
        }
    }

    /** Called by the network API after a network or router is removed. */
    public void networkRemoved() {
        maybeRemoveFabric();
    }

    /** QMP set_link for every NIC the user has taken down (after boot or re-attach). */
    private void applyLinkStates(VmRuntime rt, String id) {
        for (NetRows.NicRow n : store.nics(id)) {
            if (!n.linkUp()) setLink(rt, n, false);
        }
    }

    private void setLink(VmRuntime rt, NetRows.NicRow n, boolean up) {
        rt.qmp.execute("set_link", Map.of("name", "nic" + n.index(), "up", up), Duration.ofSeconds(5));
    }

    public record NicPatch(String link, String network, String ip, boolean impairGiven, Map<String, String> impair) {}

    /** PATCH /vms/{id}/nics/{nic}: link up/down, move to another network, impair or clear. Idempotent. */
    public dev.vmctl.model.NicView patchNic(String key, String nicName, NicPatch p) {
        VmRow r = row(key);
        synchronized (lock(r.id())) {
            r = row(r.id());
            if (busy.containsKey(r.id())) throw busyError(r);
            NetRows.NicRow nic = net.nic(r.id(), r.name(), nicName);
            if (p.link() == null && p.network() == null && !p.impairGiven()) {
                throw VmctlException.invalid("body", "nothing to change", "one or more of link (up|down), network (+ ip), impair ({...} or null)");
            }
            Boolean up = null;
            if (p.link() != null) {
                up = switch (p.link()) {
                    case "up" -> true;
                    case "down" -> false;
                    default -> throw VmctlException.invalid("link", "'" + p.link() + "' is not a link state", "up, down");
                };
            }
            dev.vmctl.model.Impairment imp = nic.impair();
            if (p.impairGiven()) imp = p.impair() == null ? null : dev.vmctl.model.Impairment.parse(p.impair());
            if (p.ip() != null && p.network() == null) {
                throw VmctlException.invalid("ip", "an address is given without a network", "give network too (the NIC's own network to change only the address)");
            }
            NetRows.NicRow next = nic;
            if (p.network() != null) next = net.planMove(nic, p.network(), p.ip());
            if (up != null) next = next.withLink(up);
            next = next.withImpair(imp);
            boolean live = r.state() == VmState.RUNNING;
            VmRuntime rt = runtimes.get(r.id());
            if (live && (rt == null || rt.qmp == null || rt.agent == null)) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "change nic " + nicName + " of vm " + r.name()
                        + ": no control connection", null);
            }
            if (r.state() == VmState.PREPARING) {
                throw VmctlException.conflict("vm " + r.name() + " is PREPARING", "wait until it is RUNNING or STOPPED");
            }
            store.upsertNic(next);
            if (live) {
                try {
                    if (!next.networkId().equals(nic.networkId())) {
                        net.prepareTap(next);
                        net.configureGuest(r.id(), rt.agent);
                    }
                    if (next.linkUp() != nic.linkUp() || up != null) {
                        setLink(rt, next, next.linkUp());
                        net.host().setTapUp(NetService.tap(r.id(), next.index()), next.linkUp());
                    }
                    if (p.impairGiven()) {
                        net.applyHostShaping(next);
                        net.applyGuestNetem(next, rt.agent);
                    }
                } catch (RuntimeException e) {
                    store.upsertNic(nic);
                    throw e;
                }
            }
            events.publish("vm.nic", r.id(), r.name(), null, r.state(), nicName + ": " + describe(p));
            return net.nicView(next);
        }
    }

    private static String describe(NicPatch p) {
        List<String> parts = new ArrayList<>();
        if (p.link() != null) parts.add("link " + p.link());
        if (p.network() != null) parts.add("network " + p.network() + (p.ip() == null ? "" : " ip " + p.ip()));
        if (p.impairGiven()) parts.add(p.impair() == null ? "impairment cleared" : "impair " + p.impair());
        return String.join(", ", parts);
    }

    /** Adds a NIC; on a running VM it is hot-plugged (PCIe) and configured before this returns. */
    public dev.vmctl.model.NicView addNic(String key, String network, String ip) {
        VmRow r = row(key);
        synchronized (lock(r.id())) {
            r = row(r.id());
            if (busy.containsKey(r.id())) throw busyError(r);
            if (r.state() == VmState.PREPARING || r.state() == VmState.DESTROYED) {
                throw new VmctlException(VmctlException.Kind.WRONG_STATE, "add nic: vm " + r.name() + " is " + r.state(),
                        "current state: " + r.state() + "; allowed in: [REQUESTED, RUNNING, STOPPED, ERROR]");
            }
            NetRows.NicRow nic = net.planAdditional(r.id(), new NetService.NicRequest(network, ip));
            store.upsertNic(nic);
            if (r.state() == VmState.RUNNING) {
                VmRuntime rt = runtimes.get(r.id());
                try {
                    hotAdd(rt, nic);
                } catch (RuntimeException e) {
                    store.deleteNic(r.id(), nic.index());
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "add nic to vm " + r.name() + ": " + e.getMessage(), null, e);
                }
            }
            events.publish("vm.nic", r.id(), r.name(), null, r.state(), nic.name() + " added on " + network);
            return net.nicView(nic);
        }
    }

    private void hotAdd(VmRuntime rt, NetRows.NicRow nic) {
        String tap = NetService.tap(nic.vmId(), nic.index());
        net.prepareTap(nic);
        Map<String, Object> netdev = new java.util.LinkedHashMap<>();
        netdev.put("type", "tap");
        netdev.put("id", "net" + nic.index());
        netdev.put("ifname", tap);
        netdev.put("script", "no");
        netdev.put("downscript", "no");
        boolean netdevAdded = false;
        try {
            rt.qmp.execute("netdev_add", netdev, Duration.ofSeconds(5));
            netdevAdded = true;
            rt.qmp.execute("device_add", Map.of("driver", "virtio-net-pci", "netdev", "net" + nic.index(),
                    "bus", "rp" + nic.index(), "id", "nic" + nic.index(), "mac", nic.mac()), Duration.ofSeconds(5));
            // the guest sees the card ~0.2 s later; configure once it is there
            Instant deadline = Instant.now().plusSeconds(15);
            while (true) {
                try {
                    net.configureGuest(nic.vmId(), rt.agent);
                    break;
                } catch (VmctlException e) {
                    if (Instant.now().isAfter(deadline)) throw e;
                    sleep(100);
                }
            }
            if (!nic.linkUp()) setLink(rt, nic, false);
        } catch (RuntimeException e) {
            if (netdevAdded) {
                try { rt.qmp.execute("device_del", Map.of("id", "nic" + nic.index()), Duration.ofSeconds(5)); } catch (RuntimeException ignored) { /* not added */ }
                try { rt.qmp.execute("netdev_del", Map.of("id", "net" + nic.index()), Duration.ofSeconds(5)); } catch (RuntimeException ignored) { /* still in use */ }
            }
            net.deleteTap(nic);
            throw e;
        }
    }

    /** Removes a NIC; on a running VM it is unplugged (PCIe: the guest takes ~6 s to release it). */
    public dev.vmctl.model.NicView removeNic(String key, String nicName) {
        VmRow r = row(key);
        synchronized (lock(r.id())) {
            r = row(r.id());
            if (busy.containsKey(r.id())) throw busyError(r);
            NetRows.NicRow nic = net.nic(r.id(), r.name(), nicName);
            if (r.state() == VmState.PREPARING) {
                throw VmctlException.conflict("vm " + r.name() + " is PREPARING", "wait until it is RUNNING or STOPPED");
            }
            dev.vmctl.model.NicView v = net.nicView(nic);
            if (r.state() == VmState.RUNNING) {
                VmRuntime rt = runtimes.get(r.id());
                var deleted = rt.awaitEvent(e -> "DEVICE_DELETED".equals(e.path("event").asText())
                        && ("nic" + nic.index()).equals(e.path("data").path("device").asText()));
                rt.qmp.execute("device_del", Map.of("id", "nic" + nic.index()), Duration.ofSeconds(5));
                try {
                    deleted.get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new VmctlException(VmctlException.Kind.INTERNAL, "remove nic " + nicName + " of vm " + r.name()
                            + ": the guest did not release the device within 30 s", null);
                }
                rt.qmp.execute("netdev_del", Map.of("id", "net" + nic.index()), Duration.ofSeconds(5));
            }
            net.deleteTap(nic);
            store.deleteNic(r.id(), nic.index());
            events.publish("vm.nic", r.id(), r.name(), null, r.state(), nicName + " removed");
            return v;
        }
    }

    // ---------------------------------------------------------------- snapshots, restore, clones

    private dev.vmctl.snapshot.SnapshotStore snapshots;

    /** Wires the snapshot store (the server creates it in DATA/snapshots). */
    public void snapshots(dev.vmctl.snapshot.SnapshotStore store) {
        this.snapshots = store;
    }

    public dev.vmctl.snapshot.SnapshotStore snapshotStore() {
        return snapshots;
    }

    /** Memory, device state (and disk) of a running VM; the VM is paused for tens of milliseconds and keeps running. */
    public dev.vmctl.snapshot.Snapshotter.Result snapshot(String key, String name) {
        Names.check("name", name);
        VmRow r = row(key);
        VmRuntime rt;
        synchronized (lock(r.id())) {
            r = row(r.id());
            if (r.state() != VmState.RUNNING) {
                throw new VmctlException(VmctlException.Kind.WRONG_STATE, "snapshot: vm " + r.name() + " is " + r.state(),
                        "current state: " + r.state() + "; snapshot is allowed in: [RUNNING]");
            }
            if (snapshots.exists(name)) {
                throw VmctlException.conflict("snapshot " + name + " already exists", "choose another name or remove it first");
            }
            claim(r, "snapshotting");
            rt = runtimes.get(r.id());
        }
        try {
            return take(r.id(), rt, name);
        } finally {
            busy.remove(r.id());
        }
    }

    /**
     * Snapshots several VMs at the same moment (a node): all are paused first, then saved one after the
     * other, then all resumed — the guests' clocks and state line up across the group.
     * @param names vm id or name → snapshot name
     */
    public List<dev.vmctl.snapshot.Snapshotter.Result> snapshotGroup(Map<String, String> names) {
        Map<String, VmRuntime> rts = new java.util.LinkedHashMap<>();
        Map<String, String> snapOf = new java.util.LinkedHashMap<>();
        try {
            for (var e : names.entrySet()) {
                Names.check("name", e.getValue());
                VmRow r = row(e.getKey());
                synchronized (lock(r.id())) {
                    r = row(r.id());
                    if (r.state() != VmState.RUNNING) {
                        throw new VmctlException(VmctlException.Kind.WRONG_STATE, "snapshot: vm " + r.name() + " is " + r.state(),
                                "current state: " + r.state() + "; every VM of the group must be RUNNING");
                    }
                    if (snapshots.exists(e.getValue())) {
                        throw VmctlException.conflict("snapshot " + e.getValue() + " already exists", "choose another name or remove it first");
                    }
                    claim(r, "snapshotting");
                    rts.put(r.id(), runtimes.get(r.id()));
                    snapOf.put(r.id(), e.getValue());
                }
            }
            for (VmRuntime rt : rts.values()) rt.qmp.execute("stop", Map.of(), Duration.ofSeconds(10));
            List<dev.vmctl.snapshot.Snapshotter.Result> out = new ArrayList<>();
            for (var e : rts.entrySet()) out.add(take(e.getKey(), e.getValue(), snapOf.get(e.getKey())));
            return out;
        } finally {
            for (VmRuntime rt : rts.values()) {
                try {
                    rt.qmp.execute("cont", Map.of(), Duration.ofSeconds(10));
                } catch (RuntimeException ex) {
                    log.warn("vm {}: resume after group snapshot: {}", rt.id, ex.getMessage());
                }
            }
            for (String id : rts.keySet()) busy.remove(id);
        }
    }

    private dev.vmctl.snapshot.Snapshotter.Result take(String vmId, VmRuntime rt, String name) {
        List<String> args = Procs.cmdline(rt.pid).orElse(List.of());
        Path kernel = Path.of(argAfter(args, "-kernel"));
        Path initrd = Path.of(argAfter(args, "-initrd"));
        String imageName = row(vmId).image();
        ImageInfo img = images.list().stream().filter(i -> i.name().equals(imageName)).findFirst().orElse(null);
        boolean fromImage = img != null && kernel.toString().equals(img.kernel());
        Path ram = ramShared(rt) ? rt.files.ramFile() : null;
        List<dev.vmctl.snapshot.SnapshotManifest.Nic> nics = store.nics(vmId).stream()
                .map(n -> new dev.vmctl.snapshot.SnapshotManifest.Nic(n.index(), n.mac())).toList();
        VmRow now = row(vmId);
        var src = new dev.vmctl.snapshot.Snapshotter.Source(now.name(), now.image(), kernel, fromImage ? img.kernelSha256() : null,
                initrd, fromImage ? img.initrdSha256() : null, now.cpus(), now.memoryMiB(), "kvm".equals(now.runAccel()), null,
                nics, ram, null);
        String parent = store.sourceOf(vmId);
        var res = dev.vmctl.snapshot.Snapshotter.take(snapshots, name, rt.qmp, src,
                new dev.vmctl.snapshot.Snapshotter.Options(ram == null, true, parent, Duration.ofMinutes(2)));
        events.publish("snapshot.created", vmId, now.name(), null, now.state(), name + " (paused " + res.pausedMillis() + " ms)");
        return res;
    }

    private static String argAfter(List<String> args, String flag) {
        int i = args.indexOf(flag);
        if (i < 0 || i + 1 >= args.size()) throw new VmctlException(VmctlException.Kind.INTERNAL, "qemu has no " + flag + " argument", null);
        return args.get(i + 1);
    }

    /** Whether the VM's RAM is its own shared file (snapshots skip it in the stream and copy the file). */
    private static boolean ramShared(VmRuntime rt) {
        try {
            return rt.qmp.execute("qom-get", Map.of("path", "/objects/mem0", "property", "share"), Duration.ofSeconds(5)).asBoolean(false);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Rolls a VM back to a snapshot: its QEMU is replaced by one loaded from the snapshot. */
    public VmView restore(String key, String snapshotName) {
        if (snapshotName == null || snapshotName.isBlank()) throw VmctlException.invalid("snapshot", "missing", "the name of a snapshot (vmctl snapshot ls)");
        VmRow r = row(key);
        dev.vmctl.snapshot.VerifiedSnapshot snap = snapshots.verify(snapshotName);
        List<NetRows.NicRow> nics = store.nics(r.id());
        List<String> want = snap.manifest().vm().nics().stream().map(n -> n.index() + "=" + n.mac()).sorted().toList();
        List<String> have = nics.stream().map(n -> n.index() + "=" + n.mac()).sorted().toList();
        if (!want.equals(have)) {
            throw VmctlException.conflict("restore vm " + r.name() + " from " + snapshotName + ": the VM's NICs " + have
                    + " differ from the snapshot's " + want, "restore a VM from its own snapshot, or clone the snapshot instead");
        }
        VmRuntime old;
        synchronized (lock(r.id())) {
            r = row(r.id());
            if (r.state() != VmState.RUNNING && r.state() != VmState.STOPPED && r.state() != VmState.ERROR) {
                throw new VmctlException(VmctlException.Kind.WRONG_STATE, "restore: vm " + r.name() + " is " + r.state(),
                        "current state: " + r.state() + "; restore is allowed in: [RUNNING, STOPPED, ERROR]");
            }
            claim(r, "restoring");
            old = runtimes.get(r.id());
            if (old != null) old.expectedExit = true;
        }
        String id = r.id();
        try {
            if (old != null) kill(old, Duration.ofSeconds(2));
            synchronized (lock(id)) {
                store.update(row(id).withProcess(null, null, row(id).runAccel()));
                r = transition(id, VmState.PREPARING, null, "restoring " + snapshotName);
            }
        } catch (RuntimeException e) {
            busy.remove(id);
            throw e;
        }
        Thread.ofVirtual().name("restore-" + r.name()).start(() -> boot(id, new FromSnapshot(snap, false)));
        return view(r);
    }

    public record CloneRequest(Integer count, String name, String network, Boolean start) {}

    /** New VMs from a snapshot: each maps the snapshot's RAM copy-on-write and gets its own name, MAC, IP, hostname, machine-id. */
    public List<VmView> cloneSnapshot(String snapshotName, CloneRequest req) {
        int count = req.count() == null ? 1 : req.count();
        if (count < 1 || count > 64) throw VmctlException.invalid("count", count + " is out of range", "1..64");
        String pattern = req.name() == null ? snapshotName + "-{n}" : req.name();
        if (count > 1 && !pattern.contains("{n}")) {
            throw VmctlException.invalid("name", "'" + pattern + "' has no {n} for " + count + " clones", "a pattern such as web-{n}");
        }
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            String n = pattern.replace("{n}", Integer.toString(i));
            Names.check("name", n);
            if (store.byIdOrName(n).isPresent()) throw VmctlException.conflict("clone: vm name " + n + " is already in use", "choose another pattern");
            names.add(n);
        }
        dev.vmctl.snapshot.VerifiedSnapshot snap = snapshots.verify(snapshotName);
        var m = snap.manifest().vm();
        if (!m.nics().isEmpty() && req.network() == null) {
            throw VmctlException.invalid("network", "snapshot " + snapshotName + " has " + m.nics().size() + " NIC(s): say which network the clones join",
                    "names of existing networks: " + net.networks().stream().map(dev.vmctl.model.NetworkView::name).toList());
        }
        boolean start = req.start() == null || req.start();
        List<VmView> out = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (String n : names) {
            String now = now();
            VmRow row = new VmRow(newId(), n, VmState.REQUESTED, m.image(), m.cpus(), m.memoryMiB(), m.accel(), null, now, now,
                    null, null, null);
            List<NetService.NicRequest> reqs = m.nics().stream().map(x -> new NetService.NicRequest(req.network(), null)).toList();
            List<NetRows.NicRow> planned = net.planNics(row.id(), reqs);
            // the snapshot's NIC numbers (device layout) with the clone's own MACs and addresses
            List<NetRows.NicRow> nics = new ArrayList<>();
            for (int i = 0; i < planned.size(); i++) {
                NetRows.NicRow p = planned.get(i);
                nics.add(new NetRows.NicRow(p.vmId(), m.nics().get(i).index(), p.networkId(), p.mac(), p.ip(), true, null));
            }
            store.insert(row);
            net.saveNics(nics);
            store.setSource(row.id(), snapshotName);
            events.publish("vm.state", row.id(), n, null, VmState.REQUESTED, "cloned from " + snapshotName);
            ids.add(row.id());
        }
        for (String id : ids) {
            if (start) {
                synchronized (lock(id)) {
                    claim(row(id), "starting");
                    transition(id, VmState.PREPARING, null, "cloning");
                }
                Thread.ofVirtual().name("clone-" + id).start(() -> boot(id, new FromSnapshot(snap, true)));
            }
            out.add(view(row(id)));
        }
        return out;
    }

    /** Removes a snapshot unless VMs cloned from it still exist. */
    public void deleteSnapshot(String name) {
        Map<String, List<String>> clones = store.clonesBySnapshot();
        snapshots.delete(name, n -> clones.containsKey(n));
    }

    public Map<String, List<String>> clonesBySnapshot() {
        return store.clonesBySnapshot();
    }

    // ---------------------------------------------------------------- process exits and reconciliation

    private void onProcessExit(VmRuntime rt) {
        rt.exited.complete(null);
        runtimes.remove(rt.id, rt);
        rt.closeClients();
        if (rt.expectedExit) return;
        synchronized (lock(rt.id)) {
            VmRow r = store.byIdOrName(rt.id).orElse(null);
            if (r == null || r.pid() == null || r.pid() != rt.pid) return;
            if (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) {
                if (rt.guestShutdown) {
                    transition(r.id(), VmState.STOPPED, null, "the guest powered itself off");
                } else {
                    transition(r.id(), VmState.ERROR, "qemu process " + rt.pid + " exited unexpectedly ("
                            + rt.exitDescription() + ")" + qemuLogTail(r.id()) + consoleTail(r.id()), "qemu exited");
                }
                clearProcess(r.id());
            }
        }
    }

    /**
     * Called once at server start: re-attach to VMs whose QEMU still runs, mark the ones whose QEMU died
     * as ERROR, and remove QEMU processes and VM folders that the database does not know.
     */
    public void reconcile() {
        List<VmRow> rows = store.all();
        Set<String> known = new java.util.HashSet<>();
        for (VmRow r : rows) {
            known.add(r.id());
            boolean live = r.state() == VmState.RUNNING || r.state() == VmState.PREPARING;
            boolean procAlive = r.pid() != null && r.pidStart() != null && Procs.isSame(r.pid(), r.pidStart())
                    && ownedBy(r.pid(), r.id());
            if (live && procAlive) {
                reattach(r);
            } else if (live) {
                transition(r.id(), VmState.ERROR, "qemu process " + r.pid() + " exited while the server was down"
                        + qemuLogTail(r.id()) + consoleTail(r.id()), "reconciled");
                clearProcess(r.id());
            } else if (procAlive) {
                log.info("vm {}: killing qemu {} of a VM that is {}", r.name(), r.pid(), r.state());
                Procs.terminate(r.pid(), Duration.ofSeconds(2));
                clearProcess(r.id());
            }
        }
        // QEMU processes tagged as ours (their argv names our vms folder) that the database does not know
        for (long pid : Procs.findByArgs(QemuCommand.QEMU, dir.vmsDir().toString() + "/")) {
            String id = ownerId(pid);
            if (id != null && known.contains(id) && runtimes.containsKey(id) && runtimes.get(id).pid == pid) continue;
            log.info("killing orphan qemu process {} (vm id {})", pid, id);
            Procs.terminate(pid, Duration.ofSeconds(2));
        }
        Set<String> live = new java.util.HashSet<>();
        for (VmRow r : store.all()) if (r.state() == VmState.RUNNING || r.state() == VmState.PREPARING) live.add(r.id());
        try {
            net.reconcile(live);
        } catch (RuntimeException e) {
            log.warn("reconcile networks: {}", e.getMessage());
        }
        try (Stream<Path> s = Files.list(dir.vmsDir())) {
            for (Path p : s.toList()) {
                if (!known.contains(p.getFileName().toString())) {
                    log.info("removing orphan vm folder {}", p);
                    deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            log.warn("scan {}: {}", dir.vmsDir(), e.getMessage());
        }
        dir.ramFiles().reconcile(known); // RAM files on tmpfs of VMs the database does not know (RamFiles)
    }

    private void reattach(VmRow r) {
        VmFiles files = dir.vm(r.id());
        ProcessHandle h = ProcessHandle.of(r.pid()).orElse(null);
        if (h == null) return;
        VmRuntime rt = new VmRuntime(r.id(), files, r.pid(), r.pidStart(), null, h);
        runtimes.put(r.id(), rt);
        h.onExit().thenRun(() -> onProcessExit(rt));
        try {
            connectQmp(rt, Instant.now().plusSeconds(5));
            // ask QEMU whether the guest is actually running (a paused guest stays paused)
            rt.qmp.execute("query-status", Map.of(), Duration.ofSeconds(5));
            if (r.state() == VmState.RUNNING) {
                rt.agent = GuestAgentClient.connect(files.agentSocket(), Duration.ofSeconds(2));
                log.info("vm {}: re-attached to qemu {}", r.name(), r.pid());
                events.publish("vm.progress", r.id(), r.name(), null, r.state(), "re-attached to qemu " + r.pid());
            } else {
                busy.put(r.id(), "starting");
                Thread.ofVirtual().start(() -> boot(r.id(), true));
            }
        } catch (RuntimeException e) {
            failBoot(r.id(), rt, new VmctlException(VmctlException.Kind.INTERNAL,
                    "re-attach to qemu " + r.pid() + " failed: " + e.getMessage(), null));
        }
    }

    private boolean ownedBy(long pid, String id) {
        return id.equals(ownerId(pid));
    }

    /** The VM id a QEMU process belongs to, read from its "-name vmctl-ID" argument (null when not ours). */
    private String ownerId(long pid) {
        List<String> args = Procs.cmdline(pid).orElse(List.of());
        if (args.stream().noneMatch(a -> a.contains(dir.vmsDir().toString() + "/"))) return null;
        int i = args.indexOf("-name");
        if (i < 0 || i + 1 >= args.size() || !args.get(i + 1).startsWith("vmctl-")) return null;
        return args.get(i + 1).substring("vmctl-".length());
    }

    // ---------------------------------------------------------------- helpers

    private VmRow transition(String id, VmState to, String error, String message) {
        synchronized (lock(id)) {
            VmRow r = row(id);
            VmState.checkTransition(r.name(), r.state(), to);
            VmRow n = r.withState(to, to == VmState.ERROR ? error : null, now());
            store.update(n);
            events.publish("vm.state", id, n.name(), r.state(), to, to == VmState.ERROR ? error : message);
            return n;
        }
    }

    private void clearProcess(String id) {
        store.byIdOrName(id).ifPresent(r -> store.update(r.withProcess(null, null, r.runAccel())));
        try {
            net.releaseTaps(id);
        } catch (RuntimeException e) {
            log.warn("vm {}: release taps: {}", id, e.getMessage());
        }
        VmFiles f = dir.vm(id);
        try {
            for (Path p : List.of(f.qmpSocket(), f.agentSocket(), f.pidFile(), f.ramFile())) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: reconcile removes the folder with the VM
        }
    }

    private void claim(VmRow r, String what) {
        String prev = busy.putIfAbsent(r.id(), what);
        if (prev != null) throw busyError(r);
    }

    private VmctlException busyError(VmRow r) {
        return VmctlException.conflict("vm " + r.name() + " is busy: " + busy.getOrDefault(r.id(), "working"),
                "wait until the current operation has finished (state " + r.state() + ")");
    }

    private boolean waitExit(VmRuntime rt, Duration d) {
        try {
            rt.exited.get(d.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (Exception e) {
            return !rt.handle.isAlive();
        }
    }

    /** Ends the VM's QEMU: QMP quit, then SIGKILL. Only this VM's own PID is ever signalled. */
    private void kill(VmRuntime rt, Duration grace) {
        if (!rt.alive()) {
            rt.closeClients();
            return;
        }
        QmpClient q = rt.qmp;
        if (q != null && q.isOpen()) {
            try {
                q.execute("quit", Map.of(), Duration.ofSeconds(1));
            } catch (RuntimeException ignored) {
                // the connection closes as QEMU exits
            }
            if (waitExit(rt, grace)) {
                rt.closeClients();
                return;
            }
        }
        if (Procs.isSame(rt.pid, rt.pidStart)) rt.handle.destroyForcibly();
        waitExit(rt, grace);
        if (!Procs.waitGone(rt.pid, grace)) log.warn("vm {}: qemu {} did not exit", rt.id, rt.pid);
        rt.closeClients();
    }

    private String consoleTail(String id) {
        Path f = dir.vm(id).console();
        return tailOf(f, 12, "\nlast console lines:\n");
    }

    private String qemuLogTail(String id) {
        return tailOf(dir.vm(id).qemuLog(), 5, "\nqemu said:\n");
    }

    private static String tailOf(Path f, int n, String header) {
        try {
            if (!Files.exists(f)) return "";
            List<String> all = Files.readAllLines(f, java.nio.charset.StandardCharsets.ISO_8859_1).stream()
                    .filter(l -> !l.isBlank()).toList();
            if (all.isEmpty()) return "";
            return header + String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private Object lock(String id) {
        return locks.computeIfAbsent(id, k -> new Object());
    }

    private static void deleteQuietly(Path p) {
        try {
            dev.vmctl.host.FileTree.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException("delete " + p + ": " + e.getMessage(), e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmctlException(VmctlException.Kind.INTERNAL, "interrupted", null);
        }
    }

    static String newId() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String now() {
        return Instant.now().toString();
    }

    /** Leaves VMs running (they outlive the server) and closes the control connections. */
    @Override
    public void close() {
        for (VmRuntime rt : runtimes.values()) rt.closeClients();
        runtimes.clear();
    }
}
