package dev.vmctl.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The vmctl REST API as the CLI sees it: JSON in, JSON out, and a 4xx/5xx answer turned into a
 * {@link CliException} carrying the server's {@code error} and {@code detail}. Knows nothing of
 * commands or output formats.
 */
final class ApiClient implements AutoCloseable {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final String baseUrl;
    private final HttpClient http;
    private final TokenSource token;

    ApiClient(String baseUrl) {
        this(baseUrl, new TokenSource(null, null, java.util.List.of()));
    }

    /** A client that sends {@code token}'s token (if any) as {@code Authorization: Bearer} with every request. */
    ApiClient(String baseUrl, TokenSource token) {
        this.token = token;
        this.baseUrl = stripTrailingSlash(baseUrl);
        try {
            URI uri = new URI(this.baseUrl);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new URISyntaxException(this.baseUrl, "expected http://HOST:PORT");
            }
        } catch (URISyntaxException e) {
            throw CliException.failed("VMCTL_URL is not a server address: " + baseUrl,
                    "expected e.g. http://127.0.0.1:7070");
        }
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
    }

    String baseUrl() { return baseUrl; }

    /** The Operation-Location of the last successful answer (the operation a mutating call started), or null. */
    String lastOperation() { return lastOperation; }

    private volatile String lastOperation;

    JsonNode get(String path) {
        return send(request(path, DEFAULT_TIMEOUT).GET().build());
    }

    JsonNode get(String path, Duration timeout) {
        return send(request(path, timeout).GET().build());
    }

    /** POSTs {@code body} as JSON; a null body sends an empty request. */
    JsonNode post(String path, Object body, Duration timeout) {
        return sendJson("POST", path, body, timeout);
    }

    /**
     * PATCHes {@code body} as JSON. Null values inside it are written as {@code null} (a PATCH with
     * {@code "impair": null} clears, which is not the same as leaving the key out).
     */
    JsonNode patch(String path, Object body, Duration timeout) {
        return sendJson("PATCH", path, body, timeout);
    }

    /** PUTs {@code body} as JSON. */
    JsonNode put(String path, Object body, Duration timeout) {
        return sendJson("PUT", path, body, timeout);
    }

    /**
     * Sends a request as given (method, headers, body) and hands back the answer unparsed, whatever its status: the
     * caller streams the body ({@code vmctl invoke} through /run/…).
     */
    HttpResponse<InputStream> raw(String method, String path, java.util.List<String[]> headers, byte[] body, Duration timeout) {
        HttpRequest.Builder b = authorized(HttpRequest.newBuilder(uri(path)).timeout(timeout)
                .method(method, body == null || body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body)));
        for (String[] h : headers) b.header(h[0], h[1]);
        return exchange(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** PUTs raw bytes (file upload into a VM). */
    JsonNode putBytes(String path, byte[] data, Duration timeout) {
        return send(request(path, timeout).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
    }

    /** PUTs a file as the raw request body, streamed from disk ({@code vm cp} into a VM). */
    JsonNode putFile(String path, Path file, Duration timeout) {
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(file);
        } catch (FileNotFoundException e) {
            throw CliException.failed("cannot read " + file + ": no such file", null, e);
        }
        return send(request(path, timeout).header("Content-Type", "application/octet-stream").PUT(body).build());
    }

    /** POSTs raw bytes as {@code contentType}, exactly as given (a topology file). */
    JsonNode postBytes(String path, byte[] data, String contentType, Duration timeout) {
        return send(request(path, timeout).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build());
    }

    /** GETs raw bytes (file download from a VM). */
    byte[] getBytes(String path, Duration timeout) {
        HttpRequest req = request(path, timeout).build();
        HttpResponse<byte[]> resp = exchange(req, HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() >= 400) throw errorOf(req, resp.statusCode(), new String(resp.body(), StandardCharsets.UTF_8));
        return resp.body();
    }

    /**
     * POSTs a file as the raw request body, streamed from disk (snapshot import).
     *
     * @throws CliException when the file cannot be read (exit 1)
     */
    JsonNode postFile(String path, Path file, String contentType, Duration timeout) {
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(file);
        } catch (FileNotFoundException e) {
            throw CliException.failed("cannot read " + file + ": no such file", null, e);
        }
        return send(request(path, timeout).header("Content-Type", contentType).POST(body).build());
    }

    /**
     * GETs a possibly large body straight into {@code target} (created or truncated), never holding it in
     * memory (snapshot export). The timeout bounds the wait for the answer to begin, not the transfer.
     *
     * @return the number of bytes written
     * @throws CliException on a 4xx/5xx answer (nothing is written then), or when the transfer or the
     *                      write fails part way (what was written stays for the caller to remove)
     */
    long download(String path, String accept, Path target, Duration timeout) {
        InputStream in = stream(path, accept, timeout);
        long n = 0;
        try (in; OutputStream out = Files.newOutputStream(target)) {
            byte[] buf = new byte[1 << 16];
            int r;
            while (true) {
                try {
                    r = in.read(buf);
                } catch (IOException e) {
                    throw CliException.failed("GET " + path + ": the transfer broke off after " + n + " bytes",
                            e.getMessage(), e);
                }
                if (r < 0) break;
                out.write(buf, 0, r);
                n += r;
            }
        } catch (IOException e) {
            throw CliException.failed("cannot write " + target + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()), null, e);
        }
        return n;
    }

    JsonNode delete(String path) {
        return delete(path, DEFAULT_TIMEOUT);
    }

    JsonNode delete(String path, Duration timeout) {
        return send(request(path, timeout).DELETE().build());
    }

    /**
     * Opens a streaming GET (console --follow, events). The caller reads and closes the stream; there is
     * no request timeout because the stream lasts as long as the server keeps it open.
     */
    InputStream stream(String path, String accept, Duration timeout) {
        HttpRequest.Builder b = authorized(HttpRequest.newBuilder(uri(path))).header("Accept", accept).GET();
        if (timeout != null) b.timeout(timeout);
        HttpRequest req = b.build();
        HttpResponse<InputStream> resp = exchange(req, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() >= 400) {
            String text;
            try (InputStream in = resp.body()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
            throw errorOf(req, resp.statusCode(), text);
        }
        return resp.body();
    }

    /** Encodes one path segment (a VM or image name as the user typed it). */
    static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public void close() {
        http.close();
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        HttpRequest.Builder b = authorized(HttpRequest.newBuilder(uri(path))).header("Accept", "application/json");
        if (timeout != null) b.timeout(timeout);
        return b;
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder b) {
        if (token.token() != null) b.header("Authorization", "Bearer " + token.token());
        return b;
    }

    /** Where this client's token came from. */
    TokenSource tokenSource() { return token; }

    private JsonNode sendJson(String method, String path, Object body, Duration timeout) {
        HttpRequest.Builder b = request(path, timeout);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            try {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body)));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("cannot write request body", e);
            }
        }
        return send(b.build());
    }

    private URI uri(String path) {
        return URI.create(baseUrl + path);
    }

    private JsonNode send(HttpRequest req) {
        HttpResponse<String> resp = exchange(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        String body = resp.body();
        if (resp.statusCode() >= 400) throw errorOf(req, resp.statusCode(), body);
        if (!"GET".equals(req.method())) lastOperation = resp.headers().firstValue("Operation-Location").orElse(null);
        if (body == null || body.isBlank()) return MissingNode.getInstance();
        try {
            return Json.parse(body);
        } catch (JsonProcessingException e) {
            throw CliException.failed("unexpected answer from the server to " + describe(req) + ": not JSON",
                    Json.abbreviate(body), e);
        }
    }

    private <T> HttpResponse<T> exchange(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw CliException.unreachable(baseUrl, e);
        } catch (HttpTimeoutException e) {
            throw CliException.failed(describe(req) + ": no answer from the server within "
                    + req.timeout().map(Durations::format).orElse("the time limit"), null, e);
        } catch (IOException e) {
            throw CliException.failed(describe(req) + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()),
                    null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.failed(describe(req) + ": interrupted", null, e);
        }
    }

    private CliException errorOf(HttpRequest req, int status, String body) {
        if (body != null && !body.isBlank()) {
            try {
                JsonNode json = Json.parse(body);
                if (json.hasNonNull("error")) {
                    JsonNode detail = json.get("detail");
                    if (status == 401) return CliException.server(status, json.get("error").asText(), token.hint());
                    return CliException.server(status, json.get("error").asText(),
                            detail == null || detail.isNull() || detail.asText().isBlank() ? null : detail.asText());
                }
            } catch (JsonProcessingException notJson) {
                // fall through: report the status and the raw text
            }
        }
        return CliException.server(status, "HTTP " + status + " from " + describe(req),
                body == null || body.isBlank() ? null : Json.abbreviate(body));
    }

    private static String describe(HttpRequest req) {
        return req.method() + " " + req.uri().getRawPath();
    }

    private static String stripTrailingSlash(String s) {
        String t = s.strip();
        while (t.endsWith("/")) t = t.substring(0, t.length() - 1);
        return t;
    }
}
