package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A client for QEMU's machine protocol (QMP) on a UNIX socket ({@code -qmp unix:PATH,server=on,wait=off}).
 *
 * <p>One virtual reader thread reads newline-delimited JSON: replies are matched to callers by their
 * {@code "id"} (events and replies interleave, e.g. {@code RESUME} arrives before the reply to
 * {@code cont}), events go to {@link #onEvent} listeners. {@link #execute} is safe to call from many
 * threads at once. Event and close listeners run on the reader thread: keep them short and do not call
 * {@link #execute} from them (it throws {@link IllegalStateException}; hand the work to another thread).
 */
public final class QmpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_RETRY = Duration.ofMillis(10);

    private final Path socket;
    private final SocketChannel channel;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicLong ids = new AtomicLong();
    private final ConcurrentHashMap<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<Consumer<JsonNode>> eventListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> closeListeners = new CopyOnWriteArrayList<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final AtomicBoolean closedLocally = new AtomicBoolean();
    private volatile boolean open = true;
    private volatile boolean peerClosed;
    private final Thread reader;

    private QmpClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        this.reader = Thread.ofVirtual().name("qmp-reader " + socket.getFileName()).unstarted(this::readLoop);
    }

    /**
     * Connects to QEMU's QMP socket, retrying until the socket accepts or {@code timeout} passes (QEMU
     * creates it a few ms after start), reads the greeting and sends {@code qmp_capabilities}.
     *
     * @throws QmpException with reason CONNECT when any of that fails within {@code timeout}
     */
    public static QmpClient connect(Path socket, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel ch = connectWithRetry(socket, deadline, timeout);
        QmpClient c = new QmpClient(socket, ch);
        c.reader.start();
        try {
            try {
                c.greeting.get(remainingNanos(deadline), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new QmpException(QmpException.Reason.CONNECT, "greeting",
                        null, socket + ": no greeting within " + timeout.toMillis() + " ms (another client connected?)", null);
            } catch (ExecutionException e) {
                throw new QmpException(QmpException.Reason.CONNECT, "greeting",
                        null, socket + ": connection closed before the greeting", null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException(QmpException.Reason.CONNECT, "greeting", null, "interrupted", e);
            }
            try {
                c.execute("qmp_capabilities", null, Duration.ofNanos(Math.max(1, remainingNanos(deadline))));
            } catch (QmpException e) {
                throw new QmpException(QmpException.Reason.CONNECT, "qmp_capabilities", e.errorClass(),
                        socket + ": " + e.getMessage(), e);
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static SocketChannel connectWithRetry(Path socket, long deadline, Duration timeout) {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        IOException last;
        while (true) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(address);
                return ch;
            } catch (IOException e) {
                last = e;
                closeQuietly(ch);
            }
            if (remainingNanos(deadline) <= 0) {
                throw new QmpException(QmpException.Reason.CONNECT, "connect", null,
                        socket + ": not accepting within " + timeout.toMillis() + " ms: " + last.getMessage(), last);
            }
            try {
                Thread.sleep(Math.min(CONNECT_RETRY.toMillis(), Math.max(1, remainingNanos(deadline) / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException(QmpException.Reason.CONNECT, "connect", null, "interrupted", e);
            }
        }
    }

    /** The greeting QEMU sent ({@code {"QMP": {"version": ..., "capabilities": [...]}}}). */
    public JsonNode greeting() {
        return greeting.getNow(null);
    }

    /**
     * Runs one QMP command and returns its {@code "return"} value.
     *
     * @param args the command's arguments (null or empty: none); values are converted with Jackson
     * @throws QmpException on an error reply (reason ERROR_REPLY, message "qmp COMMAND: CLASS: desc"), when
     *                      no reply came within {@code timeout} (TIMEOUT), or when the connection closes
     *                      before the reply or is already closed (CLOSED; fails fast, not at the timeout)
     */
    public JsonNode execute(String command, Map<String, ?> args, Duration timeout) {
        if (Thread.currentThread() == reader) {
            throw new IllegalStateException("qmp " + command + ": called from an event listener on the reader thread");
        }
        if (!open) throw closedException(command);
        long id = ids.incrementAndGet();
        ObjectNode request = JSON.createObjectNode();
        request.put("execute", command);
        if (args != null && !args.isEmpty()) request.set("arguments", JSON.valueToTree(args));
        request.put("id", id);
        byte[] bytes;
        try {
            bytes = (JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("qmp " + command + ": arguments are not JSON: " + e.getMessage(), e);
        }
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            // closeAll() sets open=false before failing the pending map; checking after put() closes the race
            if (!open) throw closedException(command);
            write(bytes, command);
            JsonNode r;
            try {
                r = reply.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new QmpException(QmpException.Reason.TIMEOUT, command, null,
                        "no reply within " + timeout.toMillis() + " ms", null);
            } catch (ExecutionException e) {
                throw closedException(command);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException(QmpException.Reason.TIMEOUT, command, null, "interrupted", e);
            }
            JsonNode error = r.get("error");
            if (error != null) {
                throw new QmpException(QmpException.Reason.ERROR_REPLY, command,
                        error.path("class").asText("GenericError"), error.path("desc").asText(error.toString()), null);
            }
            return r.path("return");
        } finally {
            pending.remove(id);
        }
    }

    /** Adds a listener for asynchronous events (the whole event object: "event", "data", "timestamp"). */
    public void onEvent(Consumer<JsonNode> listener) {
        eventListeners.add(listener);
    }

    /**
     * Adds a listener that runs once when the peer closes the connection (QEMU exited or closed the
     * monitor), or at once if that has already happened. It does not run for {@link #close()}.
     */
    public void onClose(Runnable listener) {
        closeListeners.add(listener);
        if (peerClosed && closeListeners.remove(listener)) listener.run();
    }

    /** True until the connection closes (either side). */
    public boolean isOpen() {
        return open;
    }

    public Path socket() {
        return socket;
    }

    /** Closes the connection (idempotent). Pending calls fail with reason CLOSED. */
    @Override
    public void close() {
        if (!closedLocally.compareAndSet(false, true)) return;
        open = false;
        closeQuietly(channel);
        failPending();
    }

    private void write(byte[] bytes, String command) {
        writeLock.lock();
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) channel.write(buf);
        } catch (IOException e) {
            throw new QmpException(QmpException.Reason.CLOSED, command, null, "connection closed: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
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
                    if (b == '\n') {
                        handleLine(line, len);
                        len = 0;
                    } else {
                        if (len == line.length) line = Arrays.copyOf(line, line.length * 2);
                        line[len++] = b;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // closed by close() (AsynchronousCloseException) or by the peer; either way we are done
        } finally {
            disconnected();
        }
    }

    private void handleLine(byte[] line, int len) {
        JsonNode msg;
        try {
            msg = JSON.readTree(line, 0, len);
        } catch (IOException e) {
            return; // QEMU only writes JSON; ignore anything else
        }
        if (msg == null || !msg.isObject()) return;
        if (msg.has("QMP")) {
            greeting.complete(msg);
        } else if (msg.has("event")) {
            for (Consumer<JsonNode> l : eventListeners) {
                try {
                    l.accept(msg);
                } catch (RuntimeException ignored) {
                    // a failing listener must not stop the reader
                }
            }
        } else if (msg.has("return") || msg.has("error")) {
            JsonNode id = msg.get("id");
            if (id != null && id.canConvertToLong()) {
                CompletableFuture<JsonNode> f = pending.remove(id.asLong());
                if (f != null) f.complete(msg);
            }
            // replies without an id (e.g. to malformed input) or to timed-out calls are dropped
        }
    }

    private void disconnected() {
        open = false;
        closeQuietly(channel);
        failPending();
        greeting.completeExceptionally(new IOException("closed"));
        if (closedLocally.get()) return;
        peerClosed = true;
        for (Runnable l : closeListeners) {
            if (closeListeners.remove(l)) {
                try {
                    l.run();
                } catch (RuntimeException ignored) {
                    // keep notifying the others
                }
            }
        }
    }

    private void failPending() {
        for (Long id : pending.keySet()) {
            CompletableFuture<JsonNode> f = pending.remove(id);
            if (f != null) f.completeExceptionally(new IOException("closed"));
        }
    }

    private QmpException closedException(String command) {
        return new QmpException(QmpException.Reason.CLOSED, command, null,
                closedLocally.get() ? "client closed" : "connection closed (QEMU exited?)", null);
    }

    private static long remainingNanos(long deadline) {
        return deadline - System.nanoTime();
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
