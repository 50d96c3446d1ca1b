package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmctl.model.ExecResult;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client for qemu-guest-agent on the host side of its virtio-serial chardev socket
 * ({@code -chardev socket,id=qga0,path=PATH,server=on,wait=off -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0}).
 *
 * <p>The socket accepts as soon as QEMU runs, long before the agent in the guest does, and QEMU does
 * not read from it while the guest has the port closed: requests written early queue up and are all
 * answered, in order, once the agent starts. So every session starts with {@code guest-sync-delimited}
 * (a 0xFF byte to reset the agent's parser, then a random id; everything before the reply carrying that
 * id is skipped), requests carry an {@code "id"} that stale replies are filtered by, and after a timeout
 * or protocol error the next call resynchronises first. While an earlier sync is still unanswered,
 * {@link #ping} waits for it instead of queueing another (for up to {@link #SYNC_RESEND_AFTER}), so a
 * readiness loop does not fill the socket.
 *
 * <p>One request at a time per connection (a lock); {@link #exec} and the file calls take the lock per
 * request, so several of them may interleave. Use {@link #ping(Duration)} in a loop to wait for the agent.
 */
public final class GuestAgentClient implements AutoCloseable {
    /** Data per {@code guest-file-write}/{@code guest-file-read} request. */
    public static final int FILE_CHUNK = 1 << 20;
    /** An unanswered sync is sent again after this long (the agent may have dropped it while restarting). */
    public static final Duration SYNC_RESEND_AFTER = Duration.ofSeconds(1);
    /** Shortest and longest wait for the agent to answer one request of {@link #exec}. */
    static final Duration REQUEST_MIN = Duration.ofSeconds(2);
    static final Duration REQUEST_MAX = Duration.ofSeconds(30);
    /** Wait for one file chunk request, and for the short requests (open, close, set-time). */
    static final Duration FILE_REQUEST_TIMEOUT = Duration.ofSeconds(60);
    static final Duration SHORT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@link #shutdown} waits for an (error) reply: on success the agent usually dies unanswered. */
    static final Duration SHUTDOWN_REPLY_WAIT = Duration.ofSeconds(1);
    private static final Set<String> SHUTDOWN_MODES = Set.of("powerdown", "reboot", "halt");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode EOF = JSON.createObjectNode();
    private static final long POLL_START_MS = 5;
    private static final long POLL_MAX_MS = 50;

    private final Path socket;
    private final SocketChannel channel;
    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean closedLocally = new AtomicBoolean();
    private volatile boolean open = true;
    private volatile boolean writeTimedOut;
    // guarded by lock
    private boolean synced;
    private long outstandingSyncId;
    private long outstandingSyncSentNanos;

    private GuestAgentClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        Thread.ofVirtual().name("qga-reader " + socket.getFileName()).start(this::readLoop);
    }

    /**
     * Connects to the chardev socket, retrying until it accepts or {@code timeout} passes. Does not talk
     * to the agent (it may not be running yet): use {@link #ping(Duration)} to wait for it.
     */
    public static GuestAgentClient connect(Path socket, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        IOException last;
        while (true) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(address);
                return new GuestAgentClient(socket, ch);
            } catch (IOException e) {
                last = e;
                closeQuietly(ch);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new GuestAgentException(GuestAgentException.Reason.CONNECT, "connect", null,
                        socket + ": not accepting within " + timeout.toMillis() + " ms: " + last.getMessage(), last);
            }
            sleepMillis(10, "connect");
        }
    }

    /**
     * Resynchronises ({@code guest-sync-delimited}) and sends {@code guest-ping}.
     *
     * @return true when the agent answered both within {@code timeout}; false otherwise (agent not
     * running yet, or the connection closed: see {@link #isOpen()})
     */
    public boolean ping(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            lock("guest-ping", deadline);
        } catch (GuestAgentException e) {
            return false;
        }
        try {
            synced = false;
            call("guest-ping", null, deadline);
            return true;
        } catch (GuestAgentException e) {
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs one agent command and returns its {@code "return"} value (resynchronising first if needed).
     * For commands without a dedicated method ({@code guest-info}, {@code guest-network-get-interfaces}, ...).
     */
    public JsonNode execute(String command, Map<String, ?> args, Duration timeout) {
        ObjectNode a = args == null || args.isEmpty() ? null : JSON.valueToTree(args);
        return request(command, a, System.nanoTime() + timeout.toNanos());
    }

    /**
     * Runs {@code argv} in the guest ({@code guest-exec} with captured output, then {@code guest-exec-status}
     * polled every 5 ms backing off to 50 ms). No shell is involved: {@code argv[0]} is looked up in the
     * agent's PATH.
     *
     * @param stdin   bytes for the process's stdin, or null for none
     * @param timeout how long the guest process may run; each agent request waits at least
     *                {@link #REQUEST_MIN} for its reply regardless
     * @return exit code (128+N when killed by signal N), stdout and stderr as UTF-8; on timeout exit code
     * -1 and {@code timedOut} true (the process is sent SIGKILL, its direct children too when pkill exists)
     * @throws GuestAgentException when the agent rejects the command (e.g. program not found) or does not answer
     */
    public ExecResult exec(List<String> argv, byte[] stdin, Duration timeout) {
        if (argv == null || argv.isEmpty()) throw new IllegalArgumentException("guest-agent guest-exec: empty argv");
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long pid = startProcess(argv, stdin, true, requestDeadline(deadline));
        long sleepMs = POLL_START_MS;
        while (true) {
            JsonNode st = request("guest-exec-status", pidArgs(pid), requestDeadline(deadline));
            if (st.path("exited").asBoolean(false)) return result(st, false, start);
            long left = deadline - System.nanoTime();
            if (left <= 0) return killAfterTimeout(pid, start);
            sleepMillis(Math.max(1, Math.min(sleepMs, TimeUnit.NANOSECONDS.toMillis(left) + 1)), "guest-exec-status");
            sleepMs = Math.min(sleepMs * 2, POLL_MAX_MS);
        }
    }

    /** Writes {@code data} to {@code guestPath} (created or truncated) in chunks of {@link #FILE_CHUNK}. */
    public void writeFile(String guestPath, byte[] data) {
        writeFile(guestPath, openNanos -> data);
    }

    /**
     * {@link #writeFile(String, byte[])} with the content made once the file is open: {@code content} gets how long
     * the open took (its round trip, in nanoseconds), so that content carrying a time stamp can allow for the transit
     * of the write and close that follow.
     */
    public void writeFile(String guestPath, java.util.function.LongFunction<byte[]> content) {
        long t0 = System.nanoTime();
        long handle = openFile(guestPath, "w");
        byte[] data = content.apply(System.nanoTime() - t0);
        boolean ok = false;
        try {
            for (int off = 0; off < data.length; ) {
                int len = Math.min(FILE_CHUNK, data.length - off);
                ObjectNode a = JSON.createObjectNode();
                a.put("handle", handle);
                a.put("buf-b64", Base64.getEncoder().encodeToString(Arrays.copyOfRange(data, off, off + len)));
                JsonNode r = request("guest-file-write", a, deadline(FILE_REQUEST_TIMEOUT));
                int count = r.path("count").asInt(-1);
                if (count <= 0 || count > len) {
                    throw new GuestAgentException(GuestAgentException.Reason.PROTOCOL, "guest-file-write", null,
                            guestPath + ": wrote " + count + " of " + len + " bytes at offset " + off, null);
                }
                off += count;
            }
            ok = true;
        } finally {
            closeFile(handle, ok);
        }
    }

    /** Reads the whole file at {@code guestPath} in chunks of {@link #FILE_CHUNK}. */
    public byte[] readFile(String guestPath) {
        return readFile(guestPath, Long.MAX_VALUE);
    }

    /**
     * Reads the file at {@code guestPath}, refusing (and stopping at once) beyond {@code maxBytes}: a device such as
     * /dev/zero or an ever-growing log never fills the server's heap.
     */
    public byte[] readFile(String guestPath, long maxBytes) {
        long handle = openFile(guestPath, "r");
        boolean ok = false;
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                ObjectNode a = JSON.createObjectNode();
                a.put("handle", handle);
                a.put("count", FILE_CHUNK);
                JsonNode r = request("guest-file-read", a, deadline(FILE_REQUEST_TIMEOUT));
                byte[] chunk = decode("guest-file-read", r.path("buf-b64").asText(""));
                out.writeBytes(chunk);
                if (r.path("eof").asBoolean(false) || r.path("count").asInt(chunk.length) == 0) break;
                if (out.size() > maxBytes) {
                    throw dev.vmctl.model.VmctlException.invalid("path", guestPath + " is larger than " + (maxBytes >> 20) + " MiB",
                            "files up to " + (maxBytes >> 20) + " MiB (the limit of a file read, as of a write)");
                }
            }
            ok = true;
            return out.toByteArray();
        } finally {
            closeFile(handle, ok);
        }
    }

    /**
     * Asks the guest to shut down ({@code "powerdown"}, {@code "reboot"} or {@code "halt"}). The agent runs
     * the guest's {@code /sbin/shutdown} and usually dies before answering, so this waits only
     * {@link #SHUTDOWN_REPLY_WAIT} for an error reply and otherwise returns; whether the guest really goes
     * down is for the caller to watch (QMP {@code SHUTDOWN} event / process exit).
     */
    public void shutdown(String mode) {
        if (!SHUTDOWN_MODES.contains(mode)) {
            throw new IllegalArgumentException("guest-agent guest-shutdown: invalid mode '" + mode + "' (allowed: halt, powerdown, reboot)");
        }
        long deadline = deadline(SHORT_REQUEST_TIMEOUT);
        lock("guest-shutdown", deadline);
        try {
            ensureSynced("guest-shutdown", deadline);
            ObjectNode a = JSON.createObjectNode();
            a.put("mode", mode);
            long id = send("guest-shutdown", a, deadline);
            try {
                awaitReply("guest-shutdown", id, deadline(SHUTDOWN_REPLY_WAIT));
            } catch (GuestAgentException e) {
                if (e.reason() != GuestAgentException.Reason.TIMEOUT) throw e;
                // no reply is the normal outcome
            }
        } finally {
            synced = false; // the agent is going away; whoever talks next must resync
            lock.unlock();
        }
    }

    /** Sets the guest's clock ({@code guest-set-time}; the guest needs hwclock for it). */
    public void setTime(long epochNanos) {
        ObjectNode a = JSON.createObjectNode();
        a.put("time", epochNanos);
        request("guest-set-time", a, deadline(SHORT_REQUEST_TIMEOUT));
    }

    /** True until the socket closes (QEMU exited, or {@link #close()}). */
    public boolean isOpen() {
        return open;
    }

    public Path socket() {
        return socket;
    }

    /** Closes the connection (idempotent); a request in progress fails with reason CLOSED. */
    @Override
    public void close() {
        if (!closedLocally.compareAndSet(false, true)) return;
        open = false;
        closeQuietly(channel);
    }

    // ---- exec helpers ----

    private long startProcess(List<String> argv, byte[] stdin, boolean capture, long deadline) {
        ObjectNode a = JSON.createObjectNode();
        a.put("path", argv.getFirst());
        ArrayNode arg = a.putArray("arg");
        argv.subList(1, argv.size()).forEach(arg::add);
        a.put("capture-output", capture);
        if (stdin != null) a.put("input-data", Base64.getEncoder().encodeToString(stdin));
        JsonNode r = request("guest-exec", a, deadline);
        JsonNode pid = r.get("pid");
        if (pid == null || !pid.canConvertToLong()) {
            throw new GuestAgentException(GuestAgentException.Reason.PROTOCOL, "guest-exec", null, "reply has no pid: " + r, null);
        }
        return pid.asLong();
    }

    private ExecResult killAfterTimeout(long pid, long start) {
        String p = Long.toString(pid);
        runQuietly(List.of("pkill", "-9", "-P", p)); // direct children first, while they still have this parent
        if (!runQuietly(List.of("kill", "-9", p))) runQuietly(List.of("/bin/kill", "-9", p));
        // reap it in the agent and collect what it wrote so far
        JsonNode last = null;
        long reapDeadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        try {
            while (System.nanoTime() - reapDeadline < 0) {
                JsonNode st = request("guest-exec-status", pidArgs(pid), deadline(REQUEST_MIN));
                last = st;
                if (st.path("exited").asBoolean(false)) break;
                sleepMillis(10, "guest-exec-status");
            }
        } catch (GuestAgentException ignored) {
            // best effort
        }
        return result(last, true, start);
    }

    /** Runs a helper command without output and waits briefly for it; true when it ran and exited 0. */
    private boolean runQuietly(List<String> argv) {
        try {
            long pid = startProcess(argv, null, false, deadline(REQUEST_MIN));
            long until = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            while (System.nanoTime() - until < 0) {
                JsonNode st = request("guest-exec-status", pidArgs(pid), deadline(REQUEST_MIN));
                if (st.path("exited").asBoolean(false)) return st.path("exitcode").asInt(-1) == 0;
                sleepMillis(5, "guest-exec-status");
            }
        } catch (GuestAgentException ignored) {
            // not there, or the agent is in trouble: the caller goes on regardless
        }
        return false;
    }

    private static ExecResult result(JsonNode st, boolean timedOut, long start) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (st == null) return new ExecResult(-1, "", "", timedOut, ms);
        String out = new String(decode("guest-exec-status", st.path("out-data").asText("")), StandardCharsets.UTF_8);
        String err = new String(decode("guest-exec-status", st.path("err-data").asText("")), StandardCharsets.UTF_8);
        int code;
        if (timedOut) code = -1;
        else if (st.hasNonNull("exitcode")) code = st.get("exitcode").asInt();
        else if (st.hasNonNull("signal")) code = 128 + st.get("signal").asInt();
        else code = -1;
        return new ExecResult(code, out, err, timedOut, ms);
    }

    private static ObjectNode pidArgs(long pid) {
        ObjectNode a = JSON.createObjectNode();
        a.put("pid", pid);
        return a;
    }

    // ---- file helpers ----

    private long openFile(String guestPath, String mode) {
        ObjectNode a = JSON.createObjectNode();
        a.put("path", guestPath);
        a.put("mode", mode);
        JsonNode h = request("guest-file-open", a, deadline(SHORT_REQUEST_TIMEOUT));
        if (!h.canConvertToLong()) {
            throw new GuestAgentException(GuestAgentException.Reason.PROTOCOL, "guest-file-open", null, "reply is not a handle: " + h, null);
        }
        return h.asLong();
    }

    private void closeFile(long handle, boolean rethrow) {
        ObjectNode a = JSON.createObjectNode();
        a.put("handle", handle);
        try {
            request("guest-file-close", a, deadline(SHORT_REQUEST_TIMEOUT));
        } catch (GuestAgentException e) {
            if (rethrow) throw e; // a failed close can mean lost data (fclose flushes)
        }
    }

    private static byte[] decode(String command, String b64) {
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new GuestAgentException(GuestAgentException.Reason.PROTOCOL, command, null, "bad base64 in reply", e);
        }
    }

    // ---- protocol ----

    private JsonNode request(String command, ObjectNode args, long deadline) {
        lock(command, deadline);
        try {
            return call(command, args, deadline);
        } finally {
            lock.unlock();
        }
    }

    /** Caller holds the lock. */
    private JsonNode call(String command, ObjectNode args, long deadline) {
        ensureSynced(command, deadline);
        long id = send(command, args, deadline);
        return awaitReply(command, id, deadline);
    }

    private long send(String command, ObjectNode args, long deadline) {
        long id = ids.incrementAndGet();
        ObjectNode req = JSON.createObjectNode();
        req.put("execute", command);
        if (args != null) req.set("arguments", args);
        req.put("id", id);
        write(command, (req + "\n").getBytes(StandardCharsets.UTF_8), deadline);
        return id;
    }

    /** Waits for the reply carrying {@code id} (or no id: agents before QEMU 2.12 do not echo it). */
    private JsonNode awaitReply(String command, long id, long deadline) {
        while (true) {
            JsonNode m = next(command, deadline);
            JsonNode mid = m.get("id");
            if (mid != null && !(mid.canConvertToLong() && mid.asLong() == id)) continue; // stale reply
            JsonNode error = m.get("error");
            if (error != null) {
                throw new GuestAgentException(GuestAgentException.Reason.ERROR_REPLY, command,
                        error.path("class").asText(null), error.path("desc").asText(error.toString()), null);
            }
            if (m.has("return")) return m.get("return");
        }
    }

    /**
     * Caller holds the lock. Sends 0xFF + guest-sync-delimited with a random id (unless an earlier sync is
     * still unanswered and younger than {@link #SYNC_RESEND_AFTER}) and skips everything up to its reply.
     */
    private void ensureSynced(String command, long deadline) {
        if (synced) return;
        if (outstandingSyncId == 0 || System.nanoTime() - outstandingSyncSentNanos > SYNC_RESEND_AFTER.toNanos()) {
            drainInbox(command);
            long sid = ThreadLocalRandom.current().nextLong(1, 1L << 31);
            ObjectNode req = JSON.createObjectNode();
            req.put("execute", "guest-sync-delimited");
            req.putObject("arguments").put("id", sid);
            byte[] json = (req + "\n").getBytes(StandardCharsets.UTF_8);
            byte[] bytes = new byte[json.length + 1];
            bytes[0] = (byte) 0xFF; // makes the agent drop any partial request it holds
            System.arraycopy(json, 0, bytes, 1, json.length);
            write(command, bytes, deadline);
            outstandingSyncId = sid;
            outstandingSyncSentNanos = System.nanoTime();
        }
        while (true) {
            JsonNode m;
            try {
                m = next(command, deadline);
            } catch (GuestAgentException e) {
                if (e.reason() != GuestAgentException.Reason.TIMEOUT) throw e;
                throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null,
                        "no reply to guest-sync-delimited in time (agent not running?)", null);
            }
            JsonNode r = m.get("return");
            if (r != null && r.isIntegralNumber() && r.asLong() == outstandingSyncId) {
                synced = true;
                outstandingSyncId = 0;
                return;
            }
            // stale reply, parse error caused by the 0xFF, or garbage: skip
        }
    }

    private JsonNode next(String command, long deadline) {
        JsonNode m;
        try {
            m = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synced = false;
            throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null, "interrupted", e);
        }
        if (m == null) {
            synced = false;
            throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null, "no reply in time", null);
        }
        if (m == EOF) {
            inbox.offer(EOF);
            throw closed(command);
        }
        return m;
    }

    private void drainInbox(String command) {
        JsonNode m;
        while ((m = inbox.poll()) != null) {
            if (m == EOF) {
                inbox.offer(EOF);
                throw closed(command);
            }
        }
    }

    /**
     * Writes with a watchdog: QEMU stops reading the socket while the guest has the port closed, so a big
     * write can block forever; past the deadline the connection is closed (it cannot be resumed mid-request).
     */
    private void write(String command, byte[] bytes, long deadline) {
        if (!open) throw closed(command);
        AtomicBoolean writing = new AtomicBoolean(true);
        long waitNanos = Math.max(deadline - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(100));
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            } catch (InterruptedException e) {
                return;
            }
            if (writing.get()) {
                writeTimedOut = true;
                close();
            }
        });
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) channel.write(buf);
        } catch (IOException e) {
            synced = false;
            if (writeTimedOut) {
                throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null,
                        "write blocked past the deadline (agent not reading); connection closed", e);
            }
            throw new GuestAgentException(GuestAgentException.Reason.CLOSED, command, null, "connection closed: " + e.getMessage(), e);
        } finally {
            writing.set(false);
            watchdog.interrupt();
        }
    }

    private void lock(String command, long deadline) {
        try {
            if (!lock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null,
                        "busy: another request holds the connection", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null, "interrupted", e);
        }
    }

    private GuestAgentException closed(String command) {
        return new GuestAgentException(GuestAgentException.Reason.CLOSED, command, null,
                closedLocally.get() ? (writeTimedOut ? "connection closed after a blocked write" : "client closed")
                        : "connection closed (QEMU exited?)", null);
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        byte[] line = new byte[8 * 1024];
        int len = 0;
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) break;
                byte[] a = buf.array();
                for (int i = 0; i < n; i++) {
                    byte b = a[i];
                    if (b == (byte) 0xFF) {
                        len = 0; // delimiter before a sync reply: whatever came before is garbage
                    } else if (b == '\n') {
                        deliver(line, len);
                        len = 0;
                    } else {
                        if (len == line.length) line = Arrays.copyOf(line, line.length * 2);
                        line[len++] = b;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // closed locally or by the peer
        } finally {
            open = false;
            closeQuietly(channel);
            inbox.offer(EOF);
        }
    }

    private void deliver(byte[] line, int len) {
        int start = 0;
        while (start < len && Character.isWhitespace(line[start])) start++;
        if (start == len) return;
        try {
            JsonNode m = JSON.readTree(line, start, len - start);
            if (m != null && m.isObject()) inbox.offer(m);
        } catch (IOException e) {
            // garbage (e.g. a half reply from before a restart): skipped
        }
    }

    private static long requestDeadline(long overall) {
        long left = overall - System.nanoTime();
        long wait = Math.clamp(left, REQUEST_MIN.toNanos(), REQUEST_MAX.toNanos());
        return System.nanoTime() + wait;
    }

    private static long deadline(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    private static void sleepMillis(long ms, String command) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestAgentException(GuestAgentException.Reason.TIMEOUT, command, null, "interrupted", e);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
