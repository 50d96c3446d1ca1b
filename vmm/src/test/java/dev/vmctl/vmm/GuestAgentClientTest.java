package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ExecResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuestAgentClientTest {
    private static final Duration T = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    /** A well-behaved agent for the sync and ping part; other commands go to {@code more}. */
    private static FakePeer.Handler agent(FakePeer.Handler more) {
        return (req, p) -> {
            switch (req.path("execute").asText()) {
                case "guest-sync-delimited" -> p.sendRaw(("\u00ff{\"return\": " + req.path("arguments").path("id") + "}\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                case "guest-ping" -> p.reply(req, "{}");
                default -> more.handle(req, p);
            }
        };
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void syncSkipsStaleRepliesGarbageAndFfBytesBeforeItsReply() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, (req, p) -> {
            switch (req.path("execute").asText()) {
                case "guest-sync-delimited" -> {
                    long id = req.path("arguments").path("id").asLong();
                    p.sendLine("{\"return\": 12345}");                       // a stale sync reply
                    p.sendLine("{\"return\": {}, \"id\": 999}");             // a stale reply to something else
                    p.sendLine("garbage that is not JSON");
                    p.sendRaw("{\"return\": {\"pid\"".getBytes(StandardCharsets.UTF_8)); // half a reply...
                    p.sendRaw(new byte[] {(byte) 0xFF});                     // ...cut off by a delimiter
                    p.sendLine("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}");
                    p.sendRaw(("\u00ff{\"return\": " + id + "}\n").getBytes(StandardCharsets.ISO_8859_1));
                }
                case "guest-ping" -> p.reply(req, "{}");
                default -> p.replyError(req, "CommandNotFound", "unexpected");
            }
        }); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            assertThat(qga.ping(T)).isTrue();
            assertThat(peer.commands()).containsExactly("guest-sync-delimited", "guest-ping");
            assertThat(peer.ffBefore.getFirst()).as("0xFF sent before guest-sync-delimited").isTrue();
            assertThat(peer.received.get(1).has("id")).isTrue();
            // a second ping resynchronises again
            assertThat(qga.ping(T)).isTrue();
            assertThat(peer.commands()).containsExactly("guest-sync-delimited", "guest-ping", "guest-sync-delimited", "guest-ping");
        }
    }

    @Test
    void pingIsFalseWhileTheAgentIsSilentWithoutFloodingAndTrueOnceItAnswers() throws Exception {
        AtomicBoolean awake = new AtomicBoolean();
        FakePeer.Handler real = agent((req, p) -> { });
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, (req, p) -> {
            if (awake.get()) real.handle(req, p);
        }); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) assertThat(qga.ping(Duration.ofMillis(50))).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(GuestAgentClient.SYNC_RESEND_AFTER);
            assertThat(peer.commands()).as("one sync outstanding, not one per ping").containsExactly("guest-sync-delimited");

            // the agent starts and works through what was queued, in order, then answers new requests
            awake.set(true);
            for (JsonNode queued : List.copyOf(peer.received)) real.handle(queued, peer);
            assertThat(qga.ping(T)).isTrue();
            assertThat(qga.isOpen()).isTrue();
        }
    }

    @Test
    void execSendsArgvAndStdinAndDecodesTheResult() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) -> {
            switch (req.path("execute").asText()) {
                case "guest-exec" -> p.reply(req, "{\"pid\": 42}");
                case "guest-exec-status" -> {
                    if (polls.incrementAndGet() < 3) p.reply(req, "{\"exited\": false}");
                    else p.reply(req, "{\"exited\": true, \"exitcode\": 3, \"out-data\": \"" + b64("hello\nwörld\n")
                            + "\", \"err-data\": \"" + b64("oops") + "\", \"out-truncated\": false}");
                }
                default -> p.replyError(req, "CommandNotFound", "unexpected");
            }
        })); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            ExecResult r = qga.exec(List.of("/bin/sh", "-c", "echo hello; exit 3"), "input\n".getBytes(StandardCharsets.UTF_8), T);

            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.stdout()).isEqualTo("hello\nwörld\n");
            assertThat(r.stderr()).isEqualTo("oops");
            assertThat(r.timedOut()).isFalse();
            JsonNode args = peer.requests("guest-exec").getFirst().path("arguments");
            assertThat(args.path("path").asText()).isEqualTo("/bin/sh");
            assertThat(args.path("arg").toString()).isEqualTo("[\"-c\",\"echo hello; exit 3\"]");
            assertThat(args.path("capture-output").asBoolean()).isTrue();
            assertThat(new String(Base64.getDecoder().decode(args.path("input-data").asText()), StandardCharsets.UTF_8)).isEqualTo("input\n");
            assertThat(peer.requests("guest-exec-status")).hasSize(3)
                    .allSatisfy(s -> assertThat(s.path("arguments").path("pid").asLong()).isEqualTo(42));

            polls.set(100);
            qga.exec(List.of("/bin/true"), null, T);
            JsonNode second = peer.requests("guest-exec").get(1).path("arguments");
            assertThat(second.has("input-data")).isFalse();
            assertThat(second.path("arg").isArray()).isTrue();
            assertThat(second.path("arg")).isEmpty();
        }
    }

    @Test
    void execReportsDeathBySignalAs128PlusTheSignal() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) -> {
            if (req.path("execute").asText().equals("guest-exec")) p.reply(req, "{\"pid\": 7}");
            else p.reply(req, "{\"exited\": true, \"signal\": 9, \"out-data\": \"" + b64("hi\n") + "\"}");
        })); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            ExecResult r = qga.exec(List.of("sh", "-c", "echo hi; kill -9 $$"), null, T);
            assertThat(r.exitCode()).isEqualTo(137);
            assertThat(r.stdout()).isEqualTo("hi\n");
            assertThat(r.stderr()).isEmpty();
            assertThat(r.timedOut()).isFalse();
        }
    }

    @Test
    void execTimeoutKillsTheProcessAndReturnsWhatItHad() throws Exception {
        AtomicBoolean killed = new AtomicBoolean();
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) -> {
            JsonNode a = req.path("arguments");
            switch (req.path("execute").asText()) {
                case "guest-exec" -> {
                    String path = a.path("path").asText();
                    if (path.equals("kill") && a.path("arg").toString().equals("[\"-9\",\"42\"]")) killed.set(true);
                    p.reply(req, "{\"pid\": " + (path.equals("sleep") ? 42 : 100 + helperPid(req)) + "}");
                }
                case "guest-exec-status" -> {
                    if (a.path("pid").asLong() != 42) p.reply(req, "{\"exited\": true, \"exitcode\": 0}");
                    else if (killed.get()) p.reply(req, "{\"exited\": true, \"signal\": 9, \"out-data\": \"" + b64("partial") + "\"}");
                    else p.reply(req, "{\"exited\": false}");
                }
                default -> p.replyError(req, "CommandNotFound", "unexpected");
            }
        })); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            long t0 = System.nanoTime();
            ExecResult r = qga.exec(List.of("sleep", "600"), null, Duration.ofMillis(300));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(r.timedOut()).isTrue();
            assertThat(r.exitCode()).isEqualTo(-1);
            assertThat(r.stdout()).isEqualTo("partial");
            assertThat(killed.get()).as("guest-exec kill -9 42").isTrue();
            assertThat(took).isBetween(Duration.ofMillis(290), Duration.ofSeconds(3));
            assertThat(r.durationMs()).isGreaterThanOrEqualTo(290);
            // the poll interval backs off: far fewer polls than 300 ms / 5 ms
            long polls = peer.requests("guest-exec-status").stream().filter(s -> s.path("arguments").path("pid").asLong() == 42).count();
            assertThat(polls).isBetween(4L, 20L);
        }
    }

    private static int helperPid(JsonNode req) {
        return (int) (req.path("id").asLong() % 50);
    }

    @Test
    void errorReplyThrowsGuestAgentException() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) ->
                p.replyError(req, "GenericError", "failed to open file '/nope' (mode: 'r'): No such file or directory")));
             GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            assertThatThrownBy(() -> qga.readFile("/nope"))
                    .isInstanceOfSatisfying(GuestAgentException.class, e -> {
                        assertThat(e.getMessage()).isEqualTo("guest-agent guest-file-open: failed to open file '/nope' (mode: 'r'): No such file or directory");
                        assertThat(e.reason()).isEqualTo(GuestAgentException.Reason.ERROR_REPLY);
                        assertThat(e.errorClass()).isEqualTo("GenericError");
                    });
            assertThatThrownBy(() -> qga.exec(List.of("nonexistent-program"), null, T))
                    .isInstanceOfSatisfying(GuestAgentException.class, e -> assertThat(e.getMessage()).startsWith("guest-agent guest-exec: "));
            assertThat(peer.requests("guest-sync-delimited")).as("an error reply leaves the stream in sync").hasSize(1);
        }
    }

    @Test
    void afterATimeoutTheNextCallResyncsAndSkipsTheLateReply() throws Exception {
        AtomicReference<JsonNode> ignored = new AtomicReference<>();
        FakePeer.Handler base = agent((req, p) -> {
            if (req.path("execute").asText().equals("guest-info") && ignored.get() == null) ignored.set(req);
            else p.reply(req, "{\"version\": \"7.2.22\"}");
        });
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, (req, p) -> {
            // the late reply arrives just before the next sync reply, as it would from a slow agent
            if (req.path("execute").asText().equals("guest-sync-delimited") && ignored.get() != null) {
                p.reply(ignored.get(), "{\"version\": \"stale\"}");
            }
            base.handle(req, p);
        }); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            assertThatThrownBy(() -> qga.execute("guest-info", null, Duration.ofMillis(200)))
                    .isInstanceOfSatisfying(GuestAgentException.class, e -> {
                        assertThat(e.reason()).isEqualTo(GuestAgentException.Reason.TIMEOUT);
                        assertThat(e.getMessage()).startsWith("guest-agent guest-info: ");
                    });
            assertThat(qga.execute("guest-info", Map.of(), T).path("version").asText()).isEqualTo("7.2.22");
            assertThat(peer.commands()).containsExactly("guest-sync-delimited", "guest-info", "guest-sync-delimited", "guest-info");
        }
    }

    @Test
    void filesTravelInChunksOfAtMostOneMebibyte() throws Exception {
        Map<Long, ByteArrayOutputStream> written = new ConcurrentHashMap<>();
        Map<Long, Integer> readPos = new ConcurrentHashMap<>();
        Map<String, byte[]> files = new ConcurrentHashMap<>();
        Map<Long, String> paths = new ConcurrentHashMap<>();
        AtomicInteger handles = new AtomicInteger(1000);
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) -> {
            JsonNode a = req.path("arguments");
            long h = a.path("handle").asLong();
            switch (req.path("execute").asText()) {
                case "guest-file-open" -> {
                    long nh = handles.incrementAndGet();
                    paths.put(nh, a.path("path").asText());
                    if (a.path("mode").asText().equals("w")) written.put(nh, new ByteArrayOutputStream());
                    else readPos.put(nh, 0);
                    p.reply(req, Long.toString(nh));
                }
                case "guest-file-write" -> {
                    byte[] d = Base64.getDecoder().decode(a.path("buf-b64").asText());
                    written.get(h).writeBytes(d);
                    p.reply(req, "{\"count\": " + d.length + ", \"eof\": false}");
                }
                case "guest-file-read" -> {
                    byte[] f = files.get(paths.get(h));
                    int pos = readPos.get(h);
                    int n = Math.min(a.path("count").asInt(), f.length - pos);
                    readPos.put(h, pos + n);
                    String b = Base64.getEncoder().encodeToString(Arrays.copyOfRange(f, pos, pos + n));
                    p.reply(req, "{\"count\": " + n + ", \"buf-b64\": \"" + b + "\", \"eof\": " + (pos + n == f.length) + "}");
                }
                case "guest-file-close" -> {
                    if (written.containsKey(h)) files.put(paths.get(h), written.remove(h).toByteArray());
                    p.reply(req, "{}");
                }
                default -> p.replyError(req, "CommandNotFound", "unexpected");
            }
        })); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            byte[] data = new byte[(5 << 20) / 2 + 17];
            new Random(1).nextBytes(data);
            qga.writeFile("/tmp/blob", data);

            List<JsonNode> writes = peer.requests("guest-file-write");
            assertThat(writes).hasSize(3);
            assertThat(writes).allSatisfy(w -> assertThat(Base64.getDecoder().decode(w.path("arguments").path("buf-b64").asText()).length)
                    .isLessThanOrEqualTo(GuestAgentClient.FILE_CHUNK));
            assertThat(peer.requests("guest-file-open").getFirst().path("arguments").path("mode").asText()).isEqualTo("w");
            assertThat(peer.requests("guest-file-close")).hasSize(1);
            assertThat(files.get("/tmp/blob")).isEqualTo(data);

            assertThat(qga.readFile("/tmp/blob")).isEqualTo(data);
            assertThat(peer.requests("guest-file-read")).hasSize(3)
                    .allSatisfy(r -> assertThat(r.path("arguments").path("count").asInt()).isEqualTo(GuestAgentClient.FILE_CHUNK));
            assertThat(peer.requests("guest-file-close")).hasSize(2);

            qga.writeFile("/tmp/empty", new byte[0]);
            assertThat(files.get("/tmp/empty")).isEmpty();
        }
    }

    @Test
    void shutdownDoesNotWaitForAReplyThatNeverComes() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) -> {
            if (req.path("execute").asText().equals("guest-set-time")) p.reply(req, "{}");
            // guest-shutdown: the agent dies without answering
        })); GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            long t0 = System.nanoTime();
            qga.shutdown("reboot");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
            assertThat(peer.requests("guest-shutdown").getFirst().path("arguments").path("mode").asText()).isEqualTo("reboot");
            assertThatThrownBy(() -> qga.shutdown("sleep")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("powerdown");

            qga.setTime(1_700_000_000_123_456_789L);
            assertThat(peer.requests("guest-set-time").getFirst().path("arguments").path("time").asLong()).isEqualTo(1_700_000_000_123_456_789L);
            assertThat(peer.commands()).as("resync after shutdown").containsExactly(
                    "guest-sync-delimited", "guest-shutdown", "guest-sync-delimited", "guest-set-time");
        }
    }

    @Test
    void shutdownErrorReplyIsReported() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) ->
                p.replyError(req, "GenericError", "Guest agent command failed, error was 'Failed to execute child process “/sbin/shutdown”'")));
             GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            assertThatThrownBy(() -> qga.shutdown("powerdown"))
                    .isInstanceOfSatisfying(GuestAgentException.class, e -> assertThat(e.getMessage()).startsWith("guest-agent guest-shutdown: "));
        }
    }

    @Test
    @SuppressWarnings("try") // closes twice on purpose: close() is idempotent
    void peerClosingFailsCallsFast() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("qga.sock"), null, agent((req, p) -> p.closeConnection()));
             GuestAgentClient qga = GuestAgentClient.connect(peer.path, T)) {
            assertThat(qga.ping(T)).isTrue();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> qga.exec(List.of("true"), null, Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(GuestAgentException.class, e -> {
                        assertThat(e.reason()).isEqualTo(GuestAgentException.Reason.CLOSED);
                        assertThat(e.getMessage()).isEqualTo("guest-agent guest-exec: connection closed (QEMU exited?)");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            assertThat(qga.isOpen()).isFalse();
            assertThat(qga.ping(Duration.ofSeconds(30))).isFalse();
            qga.close();
            qga.close();
        }
    }

    @Test
    void connectGivesUpAfterTheTimeout() {
        assertThatThrownBy(() -> GuestAgentClient.connect(dir.resolve("none.sock"), Duration.ofMillis(100)))
                .isInstanceOfSatisfying(GuestAgentException.class, e -> {
                    assertThat(e.reason()).isEqualTo(GuestAgentException.Reason.CONNECT);
                    assertThat(e.getMessage()).startsWith("guest-agent connect: ");
                });
    }
}
