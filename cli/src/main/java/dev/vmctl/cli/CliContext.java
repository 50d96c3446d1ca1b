package dev.vmctl.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;

/**
 * What every verb needs: the output streams, stdin, the environment and the API client (created on
 * first use, so {@code --help} never opens a connection).
 */
final class CliContext implements AutoCloseable {
    static final String DEFAULT_URL = "http://127.0.0.1:7070";
    static final Duration POLL_INTERVAL = Duration.ofMillis(150);

    private final InputStream in;
    private final PrintWriter out;
    private final PrintWriter err;
    private final Map<String, String> env;
    private ApiClient api;

    CliContext(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.env = Map.copyOf(env);
    }

    InputStream in() { return in; }
    PrintWriter out() { return out; }

    /** The process's own stdout for bytes (set by main); null in-process, where bytes go to {@link #out()} as UTF-8. */
    static volatile java.io.OutputStream stdoutBytes;

    /** Where a verb writes bytes as they are (an invoke's body): stdout itself, after what {@link #out()} holds. */
    java.io.OutputStream rawOut() {
        out.flush();
        java.io.OutputStream raw = stdoutBytes;
        if (raw != null) return raw;
        return new java.io.OutputStream() {
            private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

            @Override
            public void write(int b) { buf.write(b); }

            @Override
            public void write(byte[] b, int off, int len) { buf.write(b, off, len); }

            @Override
            public void flush() {
                out.write(buf.toString(java.nio.charset.StandardCharsets.UTF_8));
                buf.reset();
                out.flush();
            }
        };
    }
    PrintWriter err() { return err; }

    String serverUrl() {
        String url = env.get("VMCTL_URL");
        return url == null || url.isBlank() ? DEFAULT_URL : url.strip();
    }

    /** The environment the CLI runs in. */
    Map<String, String> env() {
        return env;
    }

    /** A variable of the environment the CLI runs in (null when unset). */
    String env(String key) {
        return env.get(key);
    }

    boolean debug() {
        return "1".equals(env.get("VMCTL_DEBUG"));
    }

    synchronized ApiClient api() {
        if (api == null) api = new ApiClient(serverUrl(), TokenSource.find(env));
        return api;
    }

    @Override
    public synchronized void close() {
        if (api != null) api.close();
        api = null;
    }
}
