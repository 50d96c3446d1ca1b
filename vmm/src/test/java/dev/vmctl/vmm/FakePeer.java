package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted peer on a real UNIX socket, standing in for QEMU's QMP monitor or the guest agent: it
 * accepts connections one after another, sends an optional greeting, splits what it receives into JSON
 * lines (counting and dropping 0xFF bytes like the agent's parser does) and hands each to a handler.
 */
final class FakePeer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    interface Handler {
        void handle(JsonNode request, FakePeer peer) throws IOException;
    }

    final Path path;
    final List<JsonNode> received = new CopyOnWriteArrayList<>();
    /** Per received request: whether a 0xFF byte came (since the previous request) before it. */
    final List<Boolean> ffBefore = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    private final ServerSocketChannel server;
    private final String greeting;
    private final Handler handler;
    private volatile SocketChannel conn;
    private final Object writeLock = new Object();

    private FakePeer(Path path, String greeting, Handler handler) throws IOException {
        this.path = path;
        this.greeting = greeting;
        this.handler = handler;
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread.ofVirtual().name("fake-peer").start(this::serve);
    }

    static FakePeer start(Path path, String greeting, Handler handler) throws IOException {
        return new FakePeer(path, greeting, handler);
    }

    /** A QMP monitor: greeting, {@code qmp_capabilities} answered, everything else to {@code handler}. */
    static FakePeer qmp(Path path, Handler handler) throws IOException {
        return start(path, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}",
                (req, peer) -> {
                    if (req.path("execute").asText().equals("qmp_capabilities")) peer.reply(req, "{}");
                    else handler.handle(req, peer);
                });
    }

    List<String> commands() {
        return received.stream().map(r -> r.path("execute").asText()).toList();
    }

    List<JsonNode> requests(String command) {
        return received.stream().filter(r -> r.path("execute").asText().equals(command)).toList();
    }

    /** Sends {"return": RETURN_JSON, "id": the request's id} (no id when the request had none). */
    void reply(JsonNode request, String returnJson) throws IOException {
        JsonNode id = request.get("id");
        sendLine("{\"return\": " + returnJson + (id == null ? "" : ", \"id\": " + id) + "}");
    }

    void replyError(JsonNode request, String cls, String desc) throws IOException {
        JsonNode id = request.get("id");
        sendLine("{\"error\": {\"class\": \"" + cls + "\", \"desc\": " + JSON.writeValueAsString(desc) + "}"
                + (id == null ? "" : ", \"id\": " + id) + "}");
    }

    void sendLine(String line) throws IOException {
        sendRaw((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    void sendRaw(byte[] bytes) throws IOException {
        synchronized (writeLock) {
            SocketChannel c = conn;
            if (c == null) throw new IOException("no connection");
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) c.write(b);
        }
    }

    /** Closes the current connection (like QEMU exiting). */
    void closeConnection() {
        SocketChannel c = conn;
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    private void serve() {
        while (server.isOpen()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            conn = c;
            connections.incrementAndGet();
            try {
                if (greeting != null) sendLine(greeting);
                readLoop(c);
            } catch (IOException e) {
                // connection gone
            } finally {
                closeConnection();
            }
        }
    }

    private void readLoop(SocketChannel c) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        boolean ff = false;
        while (true) {
            buf.clear();
            int n = c.read(buf);
            if (n < 0) return;
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b == (byte) 0xFF) {
                    ff = true;
                    line.reset();
                } else if (b == '\n') {
                    String s = line.toString(StandardCharsets.UTF_8).strip();
                    line.reset();
                    if (s.isEmpty()) continue;
                    JsonNode req = JSON.readTree(s);
                    received.add(req);
                    ffBefore.add(ff);
                    ff = false;
                    handler.handle(req, this);
                } else {
                    line.write(b);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        closeConnection();
        Files.deleteIfExists(path);
    }
}
