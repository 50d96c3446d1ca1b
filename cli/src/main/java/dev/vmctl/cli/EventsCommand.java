package dev.vmctl.cli;

import picocli.CommandLine.Command;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

@Command(name = "events", mixinStandardHelpOptions = true, description = "Follow the server's event stream; prints each event's JSON on one line.")
final class EventsCommand implements Callable<Integer> {
    private final CliContext ctx;

    EventsCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() throws IOException {
        try (InputStream in = ctx.api().stream("/api/v1/events", "text/event-stream", null);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    dispatch(data);
                } else if (line.startsWith("data:")) {
                    // SSE: one event may span several data lines; a single leading space is not data
                    if (!data.isEmpty()) data.append('\n');
                    data.append(line.startsWith("data: ") ? line.substring(6) : line.substring(5));
                }
                // event:, id:, retry: and ":" comments (keep-alives) are not printed
            }
            dispatch(data);
        }
        return 0;
    }

    private void dispatch(StringBuilder data) {
        if (data.isEmpty()) return;
        ctx.out().println(data);
        ctx.out().flush();
        data.setLength(0);
    }
}
