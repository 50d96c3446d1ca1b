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
    PrintWriter err() { return err; }

    String serverUrl() {
        String url = env.get("VMCTL_URL");
        return url == null || url.isBlank() ? DEFAULT_URL : url.strip();
    }

    /** A variable of the environment the CLI runs in (null when unset). */
    String env(String key) {
        return env.get(key);
    }

    boolean debug() {
        return "1".equals(env.get("VMCTL_DEBUG"));
    }

    synchronized ApiClient api() {
        if (api == null) api = new ApiClient(serverUrl());
        return api;
    }

    @Override
    public synchronized void close() {
        if (api != null) api.close();
        api = null;
    }
}
