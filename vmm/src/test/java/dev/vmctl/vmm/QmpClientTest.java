package dev.vmctl.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QmpClientTest {
    private static final Duration T = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    @Test
    void handshakeReadsGreetingAndSendsCapabilitiesFirst() throws Exception {
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> p.reply(req, "{\"status\": \"prelaunch\"}"));
             QmpClient qmp = QmpClient.connect(peer.path, T)) {
            assertThat(qmp.greeting().path("QMP").path("version").path("qemu").path("major").asInt()).isEqualTo(7);
            assertThat(qmp.execute("query-status", null, T).path("status").asText()).isEqualTo("prelaunch");
            assertThat(peer.commands()).containsExactly("qmp_capabilities", "query-status");
            assertThat(peer.received.getFirst().has("id")).isTrue();
            assertThat(peer.received.getFirst().has("arguments")).isFalse();
            assertThat(qmp.isOpen()).isTrue();
        }
    }

    @Test
    void connectRetriesUntilTheSocketAppears() throws Exception {
        Path sock = dir.resolve("late.sock");
        AtomicReference<FakePeer> peer = new AtomicReference<>();
        Thread starter = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(300);
                peer.set(FakePeer.qmp(sock, (req, p) -> p.reply(req, "{}")));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (QmpClient qmp = QmpClient.connect(sock, T)) {
            assertThat(qmp.isOpen()).isTrue();
        } finally {
            starter.join();
            if (peer.get() != null) peer.get().close();
        }
    }

    @Test
    void connectGivesUpAfterTheTimeout() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> QmpClient.connect(dir.resolve("nobody.sock"), Duration.ofMillis(200)))
                .isInstanceOfSatisfying(QmpException.class, e -> {
                    assertThat(e.reason()).isEqualTo(QmpException.Reason.CONNECT);
                    assertThat(e.getMessage()).startsWith("qmp connect: ").contains("nobody.sock");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void connectFailsWhenNoGreetingComes() throws Exception {
        try (FakePeer peer = FakePeer.start(dir.resolve("mute.sock"), null, (req, p) -> { })) {
            assertThatThrownBy(() -> QmpClient.connect(peer.path, Duration.ofMillis(300)))
                    .isInstanceOfSatisfying(QmpException.class, e -> {
                        assertThat(e.reason()).isEqualTo(QmpException.Reason.CONNECT);
                        assertThat(e.getMessage()).startsWith("qmp greeting: ");
                    });
        }
    }

    @Test
    void repliesAreMatchedByIdWhileEventsInterleave() throws Exception {
        AtomicReference<JsonNode> slow = new AtomicReference<>();
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> {
            switch (req.path("execute").asText()) {
                case "slow" -> slow.set(req); // answered later, after "fast"
                case "fast" -> {
                    p.sendLine("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, \"event\": \"STOP\"}");
                    p.sendLine("{\"return\": {\"who\": \"stale\"}, \"id\": 99999}"); // nobody waits for this
                    p.sendLine("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}"); // no id
                    p.reply(req, "{\"who\": \"fast\"}");
                    p.sendLine("{\"timestamp\": {\"seconds\": 2, \"microseconds\": 0}, \"event\": \"RESUME\"}");
                    p.reply(slow.get(), "{\"who\": \"slow\"}");
                    p.sendLine("{\"timestamp\": {\"seconds\": 3, \"microseconds\": 0}, \"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}");
                }
                default -> p.reply(req, req.path("arguments").toString());
            }
        }); QmpClient qmp = QmpClient.connect(peer.path, T)) {
            List<String> events = new CopyOnWriteArrayList<>();
            CountDownLatch three = new CountDownLatch(3);
            qmp.onEvent(e -> { events.add(e.path("event").asText()); three.countDown(); });

            CompletableFuture<JsonNode> slowReply = CompletableFuture.supplyAsync(() -> qmp.execute("slow", null, T));
            while (slow.get() == null) Thread.sleep(5);
            JsonNode fast = qmp.execute("fast", Map.of("n", 1), T);

            assertThat(fast.path("who").asText()).isEqualTo("fast");
            assertThat(slowReply.get(5, TimeUnit.SECONDS).path("who").asText()).isEqualTo("slow");
            assertThat(three.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(events).containsExactly("STOP", "RESUME", "SHUTDOWN");
            assertThat(peer.requests("fast").getFirst().path("arguments").path("n").asInt()).isEqualTo(1);
        }
    }

    @Test
    void concurrentCallersEachGetTheirOwnReply() throws Exception {
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> p.reply(req, req.path("arguments").toString()));
             QmpClient qmp = QmpClient.connect(peer.path, T)) {
            List<CompletableFuture<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int n = i;
                CompletableFuture<Integer> f = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        f.complete(qmp.execute("echo", Map.of("n", n), T).path("n").asInt());
                    } catch (Throwable t) {
                        f.completeExceptionally(t);
                    }
                });
                calls.add(f);
            }
            for (int i = 0; i < calls.size(); i++) assertThat(calls.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(i);
        }
    }

    @Test
    void errorReplyThrowsQmpExceptionAndTheConnectionStaysUsable() throws Exception {
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> {
            if (req.path("execute").asText().equals("device_del")) p.replyError(req, "DeviceNotFound", "Device 'nic9' not found");
            else p.reply(req, "{}");
        }); QmpClient qmp = QmpClient.connect(peer.path, T)) {
            assertThatThrownBy(() -> qmp.execute("device_del", Map.of("id", "nic9"), T))
                    .isInstanceOfSatisfying(QmpException.class, e -> {
                        assertThat(e.getMessage()).isEqualTo("qmp device_del: DeviceNotFound: Device 'nic9' not found");
                        assertThat(e.reason()).isEqualTo(QmpException.Reason.ERROR_REPLY);
                        assertThat(e.errorClass()).isEqualTo("DeviceNotFound");
                        assertThat(e.command()).isEqualTo("device_del");
                    });
            assertThat(qmp.execute("cont", null, T).isObject()).isTrue();
        }
    }

    @Test
    void noReplyTimesOutAndALateReplyIsIgnored() throws Exception {
        AtomicReference<JsonNode> hung = new AtomicReference<>();
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> {
            if (req.path("execute").asText().equals("hang")) hung.set(req);
            else {
                if (hung.get() != null) p.reply(hung.getAndSet(null), "{\"late\": true}");
                p.reply(req, "{\"late\": false}");
            }
        }); QmpClient qmp = QmpClient.connect(peer.path, T)) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> qmp.execute("hang", null, Duration.ofMillis(200)))
                    .isInstanceOfSatisfying(QmpException.class, e -> {
                        assertThat(e.reason()).isEqualTo(QmpException.Reason.TIMEOUT);
                        assertThat(e.getMessage()).startsWith("qmp hang: no reply within 200 ms");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(190), Duration.ofSeconds(3));
            assertThat(qmp.execute("next", null, T).path("late").asBoolean()).isFalse();
            assertThat(qmp.isOpen()).isTrue();
        }
    }

    @Test
    @SuppressWarnings("try") // closes twice on purpose: close() is idempotent
    void peerClosingFailsPendingCallsFastAndFiresOnCloseOnce() throws Exception {
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> {
            if (req.path("execute").asText().equals("hang")) {
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ignored) {
                        // test ends anyway
                    }
                    p.closeConnection();
                });
            }
        }); QmpClient qmp = QmpClient.connect(peer.path, T)) {
            AtomicInteger fired = new AtomicInteger();
            CountDownLatch closed = new CountDownLatch(1);
            qmp.onClose(() -> { fired.incrementAndGet(); closed.countDown(); });

            long t0 = System.nanoTime();
            assertThatThrownBy(() -> qmp.execute("hang", null, Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(QmpException.class, e -> {
                        assertThat(e.reason()).isEqualTo(QmpException.Reason.CLOSED);
                        assertThat(e.getMessage()).isEqualTo("qmp hang: connection closed (QEMU exited?)");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(qmp.isOpen()).isFalse();

            // later calls fail at once; a listener added after the fact still hears about it; close is harmless
            long t1 = System.nanoTime();
            assertThatThrownBy(() -> qmp.execute("query-status", null, Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(QmpException.class, e -> assertThat(e.reason()).isEqualTo(QmpException.Reason.CLOSED));
            assertThat(Duration.ofNanos(System.nanoTime() - t1)).isLessThan(Duration.ofSeconds(1));
            AtomicInteger late = new AtomicInteger();
            qmp.onClose(late::incrementAndGet);
            assertThat(late.get()).isEqualTo(1);
            qmp.close();
            qmp.close();
            assertThat(fired.get()).isEqualTo(1);
        }
    }

    @Test
    void closeIsIdempotentAndDoesNotFireOnClose() throws Exception {
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> { })) {
            QmpClient qmp = QmpClient.connect(peer.path, T);
            AtomicInteger fired = new AtomicInteger();
            qmp.onClose(fired::incrementAndGet);
            CompletableFuture<Throwable> pending = CompletableFuture.supplyAsync(() -> {
                try {
                    qmp.execute("hang", null, Duration.ofSeconds(30));
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            while (peer.requests("hang").isEmpty()) Thread.sleep(5);
            qmp.close();
            qmp.close();
            assertThat(pending.get(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(QmpException.class, e -> {
                assertThat(e.reason()).isEqualTo(QmpException.Reason.CLOSED);
                assertThat(e.getMessage()).isEqualTo("qmp hang: client closed");
            });
            assertThat(qmp.isOpen()).isFalse();
            Thread.sleep(100);
            assertThat(fired.get()).isZero();
        }
    }

    @Test
    void executeFromAnEventListenerIsRefused() throws Exception {
        try (FakePeer peer = FakePeer.qmp(dir.resolve("qmp.sock"), (req, p) -> {
            p.sendLine("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, \"event\": \"STOP\"}");
            p.reply(req, "{}");
        }); QmpClient qmp = QmpClient.connect(peer.path, T)) {
            CompletableFuture<Throwable> seen = new CompletableFuture<>();
            qmp.onEvent(e -> {
                try {
                    qmp.execute("query-status", null, T);
                    seen.complete(null);
                } catch (Throwable t) {
                    seen.complete(t);
                }
            });
            qmp.execute("stop", null, T);
            assertThat(seen.get(5, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
        }
    }
}
