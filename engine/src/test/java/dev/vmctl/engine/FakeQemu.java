package dev.vmctl.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmctl.vmm.QemuCommand;
import dev.vmctl.vmm.QemuVm;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's stand-in for QEMU ({@link QemuLauncher} for unit tests): the "QEMU process" is a real
 * {@code sleep} (so PIDs, exits and kills are real), and the QMP monitor and guest agent are scripted
 * peers on the VM's real UNIX sockets. {@code agentAfter} delays the agent's first answer (a slow boot);
 * {@code exitAtOnce} makes the process end immediately (a QEMU that fails to start).
 */
final class FakeQemu implements QemuLauncher {
    private static final ObjectMapper JSON = new ObjectMapper();

    volatile Duration agentAfter = Duration.ZERO;
    volatile boolean exitAtOnce;
    final List<String> qmpCommands = new CopyOnWriteArrayList<>();
    final List<String> agentCommands = new CopyOnWriteArrayList<>();
    final AtomicInteger launches = new AtomicInteger();
    final List<QemuVm> started = new CopyOnWriteArrayList<>();
    private final java.util.Map<Long, String> owners = new java.util.concurrent.ConcurrentHashMap<>();

    /** The stand-in is a plain sleep: ownership is what this launcher started. */
    @Override
    public String ownerOf(long pid, Path vmsDir) {
        return owners.get(pid);
    }

    @Override
    public QemuVm launch(QemuCommand.Spec spec) {
        launches.incrementAndGet();
        QemuVm vm = QemuVm.launchArgv(exitAtOnce ? List.of("false") : List.of("sleep", "300"), spec.files());
        started.add(vm);
        owners.put(vm.pid(), spec.id());
        if (exitAtOnce) return vm;
        long readyAt = System.nanoTime() + agentAfter.toNanos();
        serve(spec.files().qmpSocket(), true, (req, out) -> {
            String cmd = req.path("execute").asText();
            qmpCommands.add(cmd);
            reply(out, req, JSON.createObjectNode());
            if (cmd.equals("quit")) {
                kill(vm);
                return false;
            }
            return true;
        }, vm);
        serve(spec.files().agentSocket(), false, (req, out) -> {
            String cmd = req.path("execute").asText();
            agentCommands.add(cmd);
            long wait = readyAt - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000 + 1);
            switch (cmd) {
                case "guest-sync-delimited" -> reply(out, req, req.path("arguments").path("id"));
                case "guest-exec" -> reply(out, req, JSON.createObjectNode().put("pid", 42));
                case "guest-exec-status" -> reply(out, req, JSON.createObjectNode().put("exited", true).put("exitcode", 0)
                        .put("out-data", "").put("err-data", ""));
                case "guest-shutdown" -> {
                    kill(vm);
                    return false;
                }
                default -> reply(out, req, JSON.createObjectNode());
            }
            return true;
        }, vm);
        return vm;
    }

    private static void kill(QemuVm vm) {
        ProcessHandle.of(vm.pid()).ifPresent(ProcessHandle::destroy);
    }

    interface Handler {
        /** Answers one request; false closes the connection. */
        boolean handle(JsonNode request, SocketChannel out) throws Exception;
    }

    private static void serve(Path socket, boolean greet, Handler h, QemuVm vm) {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            vm.exited().thenRun(() -> {
                try {
                    server.close();
                } catch (IOException ignored) {
                    // closed with the process
                }
            });
            Thread.ofVirtual().start(() -> {
                while (server.isOpen()) {
                    try {
                        SocketChannel ch = server.accept();
                        Thread.ofVirtual().start(() -> talk(ch, greet, h, vm));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException("fake qemu socket " + socket + ": " + e.getMessage(), e);
        }
    }

    private static void talk(SocketChannel ch, boolean greet, Handler h, QemuVm vm) {
        try (ch) {
            if (greet) write(ch, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}, \"capabilities\": []}}");
            StringBuilder line = new StringBuilder();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (vm.alive() && ch.read(buf) > 0) {
                buf.flip();
                String s = StandardCharsets.UTF_8.decode(buf).toString();
                buf.clear();
                for (char c : s.toCharArray()) {
                    if (c == '\u00ff' || c == '\ufffd') continue;
                    if (c != '\n') {
                        line.append(c);
                        continue;
                    }
                    String l = line.toString().strip();
                    line.setLength(0);
                    if (l.isEmpty()) continue;
                    if (!h.handle(JSON.readTree(l), ch)) return;
                }
                if (line.length() > 0 && line.toString().strip().endsWith("}")) {
                    // QMP clients may not end a command with a newline: take a complete object as it is
                    try {
                        JsonNode req = JSON.readTree(line.toString());
                        line.setLength(0);
                        if (!h.handle(req, ch)) return;
                    } catch (IOException partial) {
                        // wait for the rest
                    }
                }
            }
        } catch (Exception e) {
            // the client went away
        }
    }

    private static void reply(SocketChannel out, JsonNode req, JsonNode value) throws IOException {
        ObjectNode r = JSON.createObjectNode();
        r.set("return", value);
        if (req.has("id")) r.set("id", req.get("id"));
        write(out, JSON.writeValueAsString(r));
    }

    private static void write(SocketChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((s + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (ch) {
            while (b.hasRemaining()) ch.write(b);
        }
    }
}
