package dev.vmctl.engine;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One HTTP/1.1 exchange against a real server (the JDK's) on 127.0.0.1: framing both ways, headers, errors. */
class HttpRelayTest {
    HttpServer server;
    int port;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/echo", ex -> {
            byte[] in = ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("X-Method", ex.getRequestMethod());
            ex.getResponseHeaders().add("X-Query", String.valueOf(ex.getRequestURI().getRawQuery()));
            ex.getResponseHeaders().add("X-Seen-Connection", String.valueOf(ex.getRequestHeaders().getFirst("X-Hop")));
            ex.getResponseHeaders().add("X-Custom-Back", String.valueOf(ex.getRequestHeaders().getFirst("X-Custom")));
            ex.sendResponseHeaders(201, in.length == 0 ? -1 : in.length);
            if (in.length > 0) ex.getResponseBody().write(in);
            ex.close();
        });
        server.createContext("/chunked", ex -> {
            ex.sendResponseHeaders(200, 0); // 0: chunked
            try (OutputStream o = ex.getResponseBody()) {
                for (int i = 0; i < 50; i++) {
                    o.write(("part " + i + "\n").getBytes(StandardCharsets.UTF_8));
                    o.flush();
                }
            }
        });
        server.start();
        port = server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    HttpRelay.Response exchange(Socket s, String method, String target, byte[] body, List<Map.Entry<String, String>> headers) throws IOException {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
        s.setSoTimeout(5000);
        return HttpRelay.exchange(s, "127.0.0.1:" + port, new HttpRelay.Request(method, target, headers, body));
    }

    @Test
    void aBodyWithItsLengthBothWaysAndEndToEndHeadersOnly() throws IOException {
        try (Socket s = new Socket()) {
            byte[] body = "x".repeat(100_000).getBytes(StandardCharsets.UTF_8);
            var r = exchange(s, "POST", "/echo?a=1&b=%20", body, List.of(Map.entry("X-Custom", "v1"), Map.entry("Connection", "X-Hop"),
                    Map.entry("Host", "evil.example"), Map.entry("Content-Length", "5")));
            assertThat(r.head().status()).isEqualTo(201);
            assertThat(r.head().header("X-Method")).isEqualTo("POST");
            assertThat(r.head().header("X-Query")).isEqualTo("a=1&b=%20");
            assertThat(r.head().header("X-Custom-Back")).isEqualTo("v1");
            assertThat(r.head().contentLength()).isEqualTo(100_000);
            assertThat(r.head().headers()).noneMatch(h -> h.getKey().equalsIgnoreCase("content-length")); // framing is the relay's
            assertThat(r.body().readAllBytes()).isEqualTo(body);
        }
    }

    @Test
    void aChunkedAnswerIsDecoded() throws IOException {
        try (Socket s = new Socket()) {
            var r = exchange(s, "GET", "/chunked", null, List.of());
            assertThat(r.head().status()).isEqualTo(200);
            assertThat(r.head().chunked()).isTrue();
            String text = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text).startsWith("part 0\n").endsWith("part 49\n");
            assertThat(text.lines()).hasSize(50);
        }
    }

    @Test
    void noBodyForHeadAnd204() throws IOException {
        try (Socket s = new Socket()) {
            var r = exchange(s, "HEAD", "/echo", null, List.of());
            assertThat(r.body().read()).isEqualTo(-1);
        }
    }

    @Test
    void aHeaderThatWouldSplitTheRequestIsRefused() throws IOException {
        try (Socket s = new Socket()) {
            assertThatThrownBy(() -> exchange(s, "GET", "/echo", null, List.of(Map.entry("X-A", "1\r\nX-Injected: 2"))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("X-A");
        }
    }

    @Test
    void aServiceThatHangsUpOrAnswersGarbageIsAnError() throws Exception {
        try (ServerSocket bad = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = Thread.ofVirtual().start(() -> {
                try (Socket c = bad.accept()) {
                    c.getInputStream().read(new byte[100]);
                    c.getOutputStream().write("SSH-2.0-nope\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // the test ends it
                }
            });
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), bad.getLocalPort()));
                assertThatThrownBy(() -> HttpRelay.exchange(s, "x", new HttpRelay.Request("GET", "/", List.of(), null)))
                        .isInstanceOf(IOException.class).hasMessageContaining("not an HTTP/1.x answer");
            }
            t.join();
        }
        // a body cut short of its Content-Length
        var head = HttpRelay.readHead(new ByteArrayInputStream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        var body = HttpRelay.body(head, "GET", new ByteArrayInputStream("short".getBytes(StandardCharsets.US_ASCII)));
        assertThatThrownBy(body::readAllBytes).isInstanceOf(IOException.class).hasMessageContaining("before the end of its body");
        assertThatThrownBy(() -> HttpRelay.readHead(new ByteArrayInputStream(new byte[0]))).hasMessageContaining("without answering");
    }
}
