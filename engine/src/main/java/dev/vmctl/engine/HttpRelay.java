package dev.vmctl.engine;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One HTTP/1.1 exchange over a connected socket, for request-driven nodes: the request is written as it came (method,
 * target, end-to-end headers, the body with its length, {@code Connection: close}); the response head is parsed and its
 * body handed back as a stream decoded from its framing (chunked, Content-Length, or until the upstream closes), so the
 * caller streams it on. Hop-by-hop headers (RFC 9110 §7.6.1) are dropped both ways.
 */
final class HttpRelay {
    /** Headers that belong to one connection, not to the message. */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
            "upgrade", "proxy-authenticate", "proxy-authorization", "content-length", "host");
    private static final int MAX_HEAD = 64 * 1024;

    private HttpRelay() {}

    /** What is sent upstream; {@code target} is the path with its query, e.g. {@code /x?y=1}. */
    record Request(String method, String target, List<Map.Entry<String, String>> headers, byte[] body) {}

    /** The response head: status, reason, headers in order (hop-by-hop ones removed), and whether it has a body. */
    record Head(int status, String reason, List<Map.Entry<String, String>> headers, long contentLength, boolean chunked) {
        String header(String name) {
            for (var h : headers) if (h.getKey().equalsIgnoreCase(name)) return h.getValue();
            return null;
        }
    }

    /** A response in progress: its head and the decoded body (the caller closes the socket when done). */
    record Response(Head head, InputStream body) {}

    /** Writes {@code r} to the socket (Host {@code host}) and reads the response head. */
    static Response exchange(Socket s, String host, Request r) throws IOException {
        OutputStream out = s.getOutputStream();
        StringBuilder b = new StringBuilder();
        b.append(r.method()).append(' ').append(r.target()).append(" HTTP/1.1\r\n");
        b.append("Host: ").append(host).append("\r\n");
        for (var h : r.headers()) {
            if (HOP_BY_HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) continue;
            checkHeader(h.getKey(), h.getValue());
            b.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        byte[] body = r.body() == null ? new byte[0] : r.body();
        if (body.length > 0 || !(r.method().equals("GET") || r.method().equals("HEAD") || r.method().equals("DELETE") || r.method().equals("OPTIONS"))) {
            b.append("Content-Length: ").append(body.length).append("\r\n");
        }
        b.append("Connection: close\r\n\r\n");
        out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        InputStream in = s.getInputStream();
        Head head = readHead(in);
        while (head.status() >= 100 && head.status() < 200 && head.status() != 101) head = readHead(in); // 100 Continue, 103
        return new Response(head, body(head, r.method(), in));
    }

    /** A header name or value that would split the request (CR, LF) is refused. */
    private static void checkHeader(String name, String value) {
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c > 126) || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("header '" + name + "' is not a valid HTTP header");
        }
    }

    static Head readHead(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(512);
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) throw new EOFException(buf.size() == 0 ? "the service closed the connection without answering" : "the response head was cut short");
            buf.write(c);
            if (buf.size() > MAX_HEAD) throw new IOException("the response head is larger than " + MAX_HEAD + " bytes");
            state = switch (state) {
                case 0, 2 -> c == '\r' ? state + 1 : c == '\n' && state == 0 ? 0 : 0;
                case 1, 3 -> c == '\n' ? state + 1 : 0;
                default -> 0;
            };
        }
        String[] lines = buf.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String status = lines[0];
        if (!status.startsWith("HTTP/1.")) throw new IOException("not an HTTP/1.x answer: " + abbreviate(status));
        String[] parts = status.split(" ", 3);
        int code;
        try {
            code = Integer.parseInt(parts.length > 1 ? parts[1] : "");
        } catch (NumberFormatException e) {
            throw new IOException("bad status line: " + abbreviate(status));
        }
        if (code < 100 || code > 599) throw new IOException("bad status code " + code);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        long length = -1;
        boolean chunked = false;
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i];
            if (l.isEmpty()) continue;
            int colon = l.indexOf(':');
            if (colon <= 0) throw new IOException("bad header line: " + abbreviate(l));
            String k = l.substring(0, colon).strip();
            String v = l.substring(colon + 1).strip();
            String lk = k.toLowerCase(Locale.ROOT);
            if (lk.equals("content-length")) {
                try {
                    length = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length: " + abbreviate(v));
                }
            } else if (lk.equals("transfer-encoding")) {
                chunked = v.toLowerCase(Locale.ROOT).contains("chunked");
            }
            if (!HOP_BY_HOP.contains(lk)) headers.add(Map.entry(k, v));
        }
        return new Head(code, parts.length > 2 ? parts[2] : "", headers, length, chunked);
    }

    /** The body of a response to {@code method} as its framing says. */
    static InputStream body(Head h, String method, InputStream in) {
        if (method.equals("HEAD") || h.status() == 204 || h.status() == 304 || h.status() < 200) return InputStream.nullInputStream();
        if (h.chunked()) return new Chunked(in);
        if (h.contentLength() >= 0) return new Bounded(in, h.contentLength());
        return in; // until the service closes (Connection: close was asked for)
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }

    /** Exactly {@code left} bytes of the stream; fewer is an error (the service broke off). */
    private static final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long n) {
            super(in);
            this.left = n;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new EOFException("the service closed the connection " + left + " bytes before the end of its body");
            left -= n;
            return n;
        }
    }

    /** Decodes chunked transfer coding (RFC 9112 §7.1); trailers are read and dropped. */
    private static final class Chunked extends FilterInputStream {
        private long left = 0;
        private boolean done;

        Chunked(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) return -1;
            if (left == 0) {
                String size = line();
                int semi = size.indexOf(';');
                try {
                    left = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).strip(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size: " + abbreviate(size));
                }
                if (left == 0) {
                    while (!line().isEmpty()) { /* trailers */ }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new EOFException("the service closed the connection inside a chunk");
            left -= n;
            if (left == 0) line(); // the CRLF after the chunk
            return n;
        }

        private String line() throws IOException {
            StringBuilder s = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) throw new EOFException("the service closed the connection inside chunk framing");
                if (c != '\r') s.append((char) c);
                if (s.length() > 4096) throw new IOException("chunk framing line too long");
            }
            return s.toString();
        }
    }
}
