package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Follows {@code GET /api/v1/events} while a long request runs and prints the events it is told to, one
 * line each (best effort: without the stream the command just runs without progress). After
 * {@link #close()} nothing more is printed, so progress never interleaves with the final answer.
 */
final class ProgressFollower implements AutoCloseable {
    private static final ProgressFollower NONE = new ProgressFollower(null, null);

    private final PrintWriter out;
    private final InputStream in;
    private Thread thread;
    /** Guarded by {@link #out}. */
    private boolean stopped;

    private ProgressFollower(PrintWriter out, InputStream in) {
        this.out = out;
        this.in = in;
    }

    /**
     * Opens the event stream and starts printing.
     *
     * @param line what to print for an event (its parsed {@code data}), or null to skip it
     */
    static ProgressFollower start(ApiClient api, PrintWriter out, Function<JsonNode, String> line) {
        InputStream in;
        try {
            in = api.stream("/api/v1/events", "text/event-stream", null);
        } catch (RuntimeException e) {
            return NONE;
        }
        ProgressFollower f = new ProgressFollower(out, in);
        f.thread = Thread.ofVirtual().name("vmctl-progress").start(() -> f.follow(line));
        return f;
    }

    /** A follower that prints nothing (when there is nothing to follow). */
    static ProgressFollower none() {
        return NONE;
    }

    private void follow(Function<JsonNode, String> line) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            StringBuilder data = new StringBuilder();
            String l;
            while ((l = r.readLine()) != null) {
                if (l.isEmpty()) {
                    dispatch(data, line);
                } else if (l.startsWith("data:")) {
                    // one event may span several data lines; a single leading space is not data
                    if (!data.isEmpty()) data.append('\n');
                    data.append(l.startsWith("data: ") ? l.substring(6) : l.substring(5));
                }
                synchronized (out) {
                    if (stopped) return;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // the stream ends with the command (or the server); progress is best effort
        }
    }

    private void dispatch(StringBuilder data, Function<JsonNode, String> line) {
        if (data.isEmpty()) return;
        String text = data.toString();
        data.setLength(0);
        String shown;
        try {
            shown = line.apply(Json.parse(text));
        } catch (IOException notJson) {
            return;
        }
        if (shown == null) return;
        synchronized (out) {
            if (stopped) return;
            out.println(shown);
            out.flush();
        }
    }

    /** Stops printing at once and lets go of the stream. */
    @Override
    public void close() {
        if (this == NONE) return;
        synchronized (out) {
            stopped = true;
        }
        if (thread != null) thread.interrupt();
        try {
            in.close();
        } catch (IOException | RuntimeException ignored) {
            // closing is best effort too
        }
    }
}
