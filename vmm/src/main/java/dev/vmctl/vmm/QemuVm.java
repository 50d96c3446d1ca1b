package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Procs;
import dev.vmctl.model.VmctlException;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * One QEMU microVM process: launched from a {@link QemuCommand.Spec} (argv carrying vmctl's tag
 * {@code -name vmctl-ID} and the VM's folder) or re-attached by PID after a server restart; its QMP and
 * guest-agent connections; readiness waits that fail fast when QEMU dies and carry the console and QEMU
 * log tails; typed QMP helpers. The only place that builds a QEMU process: the engine, the accelerator
 * probe, tests and benches all use it.
 *
 * <p>{@link #close()} ends the process (tests, probes, benches); a server that leaves VMs running calls
 * {@link #detach()} instead, which only closes the connections.
 */
public final class QemuVm implements AutoCloseable {
    private static final Duration READY_POLL = Duration.ofMillis(20);
    /** QMP's socket appears ~20-50 ms after start: a restore waits for it, so it is looked for more often. */
    private static final Duration QMP_POLL = Duration.ofMillis(5);

    private final VmFiles files;
    private final long pid;
    private final long pidStart;
    private final Process process; // null when re-attached (not our child)
    private final ProcessHandle handle;
    private final CompletableFuture<Void> exited = new CompletableFuture<>();
    private final List<Map.Entry<Predicate<JsonNode>, CompletableFuture<JsonNode>>> waiters = new CopyOnWriteArrayList<>();
    private final List<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();
    private volatile QmpClient qmp;
    private volatile GuestAgentClient agent;
    private volatile boolean guestShutdown;
    private volatile String shutdownReason;

    private QemuVm(VmFiles files, long pid, long pidStart, Process process, ProcessHandle handle) {
        this.files = files;
        this.pid = pid;
        this.pidStart = pidStart;
        this.process = process;
        this.handle = handle;
        handle.onExit().thenRun(() -> exited.complete(null));
    }

    /**
     * Starts QEMU for {@code spec}: {@code prefix} (e.g. {@code ip netns exec NS setsid}) then the spec's argv;
     * stdout and stderr append to the VM's {@code qemu.log}, stdin is /dev/null.
     */
    public static QemuVm launch(List<String> prefix, QemuCommand.Spec spec) {
        return launch(prefix, spec, List.of());
    }

    /** As {@link #launch(List, QemuCommand.Spec)} with {@code extraArgs} after the spec's argv (a test's extra disk). */
    public static QemuVm launch(List<String> prefix, QemuCommand.Spec spec, List<String> extraArgs) {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(QemuCommand.argv(spec));
        argv.addAll(extraArgs);
        return launchArgv(argv, spec.files());
    }

    /** Starts exactly {@code argv} as the VM's process (the engine's tests start a stand-in this way). */
    public static QemuVm launchArgv(List<String> argv, VmFiles files) {
        try {
            Files.createDirectories(files.dir());
        } catch (IOException e) {
            throw VmctlException.internal("create " + files.dir() + ": " + e.getMessage(), e);
        }
        ProcessBuilder pb = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(files.qemuLog().toFile()))
                .redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "start qemu: cannot run " + argv.getFirst() + ": " + e.getMessage(),
                    "install the Debian package qemu-system-x86");
        }
        long start = Procs.startTime(p.pid()).orElse(0);
        return new QemuVm(files, p.pid(), start, p, p.toHandle());
    }

    /** A QEMU that vmctl started before a restart (PID and start time from the database); null when it is gone. */
    public static QemuVm attach(long pid, long pidStart, VmFiles files) {
        if (!Procs.isSame(pid, pidStart)) return null;
        ProcessHandle h = ProcessHandle.of(pid).orElse(null);
        return h == null ? null : new QemuVm(files, pid, pidStart, null, h);
    }

    public VmFiles files() { return files; }
    public long pid() { return pid; }
    public long pidStart() { return pidStart; }
    public CompletableFuture<Void> exited() { return exited; }
    public boolean alive() { return !exited.isDone() && handle.isAlive(); }
    public boolean guestShutdown() { return guestShutdown; }

    /** The QMP connection (after {@link #connectQmp}); null before. */
    public QmpClient qmp() { return qmp; }

    /** The guest-agent connection (after {@link #awaitAgent}); null before and after {@link #dropAgent}. */
    public GuestAgentClient agent() { return agent; }

    /** The exit code once our child has exited; null while it runs or when it is not our child. */
    public Integer exitCode() {
        return process != null && !process.isAlive() ? process.exitValue() : null;
    }

    public String exitDescription() {
        if (process != null && !process.isAlive()) {
            int code = process.exitValue();
            return code > 128 ? "killed by signal " + (code - 128) : "exit code " + code;
        }
        return shutdownReason != null ? "shutdown reason " + shutdownReason : "exit status unknown (not our child)";
    }

    // ---------------------------------------------------------------- readiness

    /** Connects to QMP (the socket appears ~20 ms after start); fails fast when QEMU exits. */
    public QemuVm connectQmp(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        String last = "no socket yet";
        while (true) {
            if (!alive()) throw died("qemu exited during start-up");
            try {
                QmpClient q = QmpClient.connect(files.qmpSocket(), Duration.ofSeconds(1));
                q.onEvent(this::onEvent);
                qmp = q;
                return this;
            } catch (RuntimeException e) {
                last = String.valueOf(e.getMessage());
            }
            if (Instant.now().isAfter(deadline)) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, "qmp socket did not answer within " + timeout.toSeconds()
                        + " s: " + last + qemuLogTail(5), null);
            }
            pause(QMP_POLL);
        }
    }

    /**
     * Waits until the guest agent answers a ping; fails fast when QEMU exits or {@code cancelled} says so,
     * and at the deadline, each time with the console and QEMU log tails in the message.
     */
    public GuestAgentClient awaitAgent(Duration timeout, BooleanSupplier cancelled) {
        Instant deadline = Instant.now().plus(timeout);
        String last = "no answer yet";
        while (true) {
            if (cancelled.getAsBoolean()) throw new VmctlException(VmctlException.Kind.CONFLICT, "boot cancelled", null);
            if (!alive()) throw died("qemu exited during boot (" + exitDescription() + ")");
            if (Instant.now().isAfter(deadline)) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, "guest agent did not answer within " + timeout.toSeconds()
                        + " s (" + last + ")"
                        + qemuLogTail(5) + consoleTail(12), null);
            }
            try {
                if (agent == null) agent = GuestAgentClient.connect(files.agentSocket(), Duration.ofSeconds(1));
                if (agent.ping(Duration.ofMillis(700))) return agent;
                // no answer on this connection: a new one (a connection opened across a guest reset can stay
                // deaf after the guest's agent re-opened its port)
                last = "no answer to guest-ping";
                dropAgent();
                pause(READY_POLL);
            } catch (RuntimeException e) {
                last = String.valueOf(e.getMessage());
                pause(READY_POLL);
            }
        }
    }

    /** Reconnects the agent once (after a server restart): no ping. */
    public GuestAgentClient connectAgent(Duration timeout) {
        agent = GuestAgentClient.connect(files.agentSocket(), timeout);
        return agent;
    }

    /** Closes the agent connection (a reboot starts a new guest; the next {@link #awaitAgent} reconnects). */
    public void dropAgent() {
        GuestAgentClient g = agent;
        agent = null;
        if (g != null) g.close();
    }

    /** Waits until {@code marker} appears on the serial console (or QEMU exits, or the timeout passes). */
    public boolean awaitConsole(String marker, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (console().contains(marker)) return true;
            if (!alive()) return console().contains(marker);
            pause(READY_POLL);
        }
        return false;
    }

    /** The console log's size now: a position to wait from with {@link #awaitConsoleLine}. */
    public long consoleSize() {
        try {
            return Files.exists(files.console()) ? Files.size(files.console()) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Waits for a console line written after byte {@code from} that matches {@code line} (polled every 2 ms: a warm
     * start waits for one), and returns it; fails fast when QEMU exits and at the deadline, with the console tail.
     */
    public java.util.regex.Matcher awaitConsoleLine(long from, java.util.regex.Pattern line, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        long offset = from;
        StringBuilder text = new StringBuilder();
        while (true) {
            try (var f = new java.io.RandomAccessFile(files.console().toFile(), "r")) {
                if (f.length() > offset) {
                    byte[] b = new byte[(int) Math.min(f.length() - offset, 1 << 20)];
                    f.seek(offset);
                    f.readFully(b);
                    offset += b.length;
                    text.append(new String(b, StandardCharsets.ISO_8859_1));
                    int end = text.lastIndexOf("\n"); // complete lines only
                    if (end >= 0) {
                        for (String l : text.substring(0, end).split("\n")) {
                            java.util.regex.Matcher m = line.matcher(l.strip());
                            if (m.matches()) return m;
                        }
                        text.delete(0, end + 1);
                    }
                }
            } catch (IOException e) {
                // not there yet
            }
            if (!alive()) throw died("qemu exited while vmctl waited for the console line " + line.pattern());
            if (Instant.now().isAfter(deadline)) {
                throw new VmctlException(VmctlException.Kind.INTERNAL, "no console line " + line.pattern() + " within "
                        + timeout.toMillis() + " ms" + consoleTail(12), null);
            }
            pause(Duration.ofMillis(2));
        }
    }

    private VmctlException died(String what) {
        return new VmctlException(VmctlException.Kind.INTERNAL, what + qemuLogTail(5) + consoleTail(12), null);
    }

    // ---------------------------------------------------------------- QMP events and typed commands

    private void onEvent(JsonNode ev) {
        if ("SHUTDOWN".equals(ev.path("event").asText())) {
            guestShutdown = ev.path("data").path("guest").asBoolean(false);
            shutdownReason = ev.path("data").path("reason").asText(null);
        }
        for (var w : waiters) {
            if (w.getKey().test(ev)) {
                w.getValue().complete(ev);
                waiters.remove(w);
            }
        }
        for (Consumer<JsonNode> l : listeners) l.accept(ev);
    }

    /** Every QMP event. */
    public void onEvent(Consumer<JsonNode> listener) {
        listeners.add(listener);
    }

    /** The next QMP event matching {@code p} (register before causing it). */
    public CompletableFuture<JsonNode> awaitEvent(Predicate<JsonNode> p) {
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        waiters.add(Map.entry(p, f));
        return f;
    }

    private QmpClient q() {
        QmpClient c = qmp;
        if (c == null || !c.isOpen()) throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "no qemu control connection", null);
        return c;
    }

    public JsonNode execute(String command, Map<String, ?> args, Duration timeout) {
        return q().execute(command, args, timeout);
    }

    /** Link state as the guest sees it (carrier). */
    public void setLink(String deviceId, boolean up) {
        q().execute("set_link", Map.of("name", deviceId, "up", up), Duration.ofSeconds(5));
    }

    public void netdevAdd(Map<String, Object> netdev) {
        q().execute("netdev_add", netdev, Duration.ofSeconds(5));
    }

    public void netdevDel(String id) {
        q().execute("netdev_del", Map.of("id", id), Duration.ofSeconds(5));
    }

    public void deviceAdd(Map<String, Object> device) {
        q().execute("device_add", device, Duration.ofSeconds(5));
    }

    /** Asks the guest to release a device; {@code DEVICE_DELETED} follows when it has. */
    public void deviceDel(String id) {
        q().execute("device_del", Map.of("id", id), Duration.ofSeconds(5));
    }

    /** Pauses the vCPUs. */
    public void stopCpus() {
        q().execute("stop", Map.of(), Duration.ofSeconds(10));
    }

    public void cont() {
        q().execute("cont", Map.of(), Duration.ofSeconds(10));
    }

    public void systemReset() {
        q().execute("system_reset", Map.of(), Duration.ofSeconds(5));
    }

    public JsonNode queryStatus() {
        return q().execute("query-status", Map.of(), Duration.ofSeconds(5));
    }

    /** A boolean QOM property, false when it cannot be read. */
    public boolean qomBool(String path, String property) {
        try {
            return q().execute("qom-get", Map.of("path", path, "property", property), Duration.ofSeconds(5)).asBoolean(false);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** A netdev of type tap for NIC {@code n} (hot-plug). */
    public static Map<String, Object> tapNetdev(QemuCommand.Nic n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "tap");
        m.put("id", n.netdevId());
        m.put("ifname", n.tap());
        m.put("script", "no");
        m.put("downscript", "no");
        return m;
    }

    // ---------------------------------------------------------------- ending

    public boolean waitExit(Duration d) {
        try {
            exited.get(d.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (Exception e) {
            return !handle.isAlive();
        }
    }

    /** Ends the process: QMP quit, then SIGKILL of this PID only (checked by start time). Idempotent. */
    public void kill(Duration grace) {
        if (!alive()) {
            closeClients();
            return;
        }
        QmpClient c = qmp;
        if (c != null && c.isOpen()) {
            try {
                c.execute("quit", Map.of(), Duration.ofSeconds(1));
            } catch (RuntimeException ignored) {
                // the connection closes as QEMU exits
            }
            if (waitExit(grace)) {
                closeClients();
                return;
            }
        }
        if (Procs.isSame(pid, pidStart)) handle.destroyForcibly();
        waitExit(grace);
        Procs.waitGone(pid, grace);
        closeClients();
    }

    public void closeClients() {
        QmpClient q = qmp;
        GuestAgentClient g = agent;
        if (q != null) try { q.close(); } catch (RuntimeException ignored) { /* already closed */ }
        if (g != null) try { g.close(); } catch (RuntimeException ignored) { /* already closed */ }
    }

    /** Leaves the process running and closes the connections (a server shutting down). */
    public void detach() {
        closeClients();
    }

    @Override
    public void close() {
        kill(Duration.ofSeconds(2));
    }

    // ---------------------------------------------------------------- logs

    public String console() {
        try {
            return Files.exists(files.console()) ? Files.readString(files.console(), StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    public String consoleTail(int n) {
        return tailOf(files.console(), n, "\nlast console lines:\n");
    }

    public String qemuLogTail(int n) {
        return tailOf(files.qemuLog(), n, "\nqemu said:\n");
    }

    /** The last {@code n} non-blank lines of a file behind {@code header}, or "" when there are none. */
    public static String tailOf(Path f, int n, String header) {
        try {
            if (!Files.exists(f)) return "";
            List<String> all = Files.readAllLines(f, StandardCharsets.ISO_8859_1).stream().filter(l -> !l.isBlank()).toList();
            if (all.isEmpty()) return "";
            return header + String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmctlException(VmctlException.Kind.INTERNAL, "interrupted", null);
        }
    }
}
