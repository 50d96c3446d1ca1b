package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "invoke", mixinStandardHelpOptions = true,
        description = {"Send one request to a template: a fresh copy of its node serves it and is removed (as /run/NAME/PATH does)."
                + " The answer's body goes to stdout; exit 0 for a status below 400, 1 otherwise.",
                "  vmctl invoke echo --method POST --path /cgi-bin/echo --data @body.json -H 'Content-Type: application/json'",
                "  vmctl invoke echo -i --timing"})
final class InvokeCommand implements Callable<Integer> {
    /** Headers Java's HTTP client sets itself (it refuses them from the caller). */
    private static final Set<String> RESTRICTED = Set.of("host", "connection", "content-length", "expect", "upgrade");
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "the template")
    String name;

    @Option(names = {"-X", "--method"}, paramLabel = "METHOD", description = "GET (default), POST, PUT, DELETE, PATCH, HEAD, OPTIONS")
    String method = "GET";

    @Option(names = "--path", paramLabel = "PATH", description = "path (and query) the service gets, e.g. /x?y=1 (default /)")
    String path = "/";

    @Option(names = {"-d", "--data"}, paramLabel = "DATA", description = "the body: text, or @FILE for a file's bytes")
    String data;

    @Option(names = {"-H", "--header"}, paramLabel = "'K: V'", description = "a request header (repeatable)")
    List<String> headers = new ArrayList<>();

    @Option(names = {"-i", "--include"}, description = "print the status line and headers before the body")
    boolean include;

    @Option(names = "--timing", description = "print the Server-Timing split (queue, segment, restore, ready, upstream, total) to stderr")
    boolean timing;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "give up waiting for the answer after this long (default 120)")
    int timeoutSeconds = 120;

    InvokeCommand(CliContext ctx) { this.ctx = ctx; }

    @Override
    public Integer call() {
        String m = method.toUpperCase(Locale.ROOT);
        if (!Set.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS").contains(m)) {
            throw CliException.usage("--method: '" + method + "' is not one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS");
        }
        if (!path.startsWith("/")) throw CliException.usage("--path: '" + path + "' does not start with /");
        if (path.chars().anyMatch(c -> c <= ' ' || c >= 127)) throw CliException.usage("--path: spaces and control characters must be percent-encoded");
        byte[] body = null;
        if (data != null) {
            if (data.startsWith("@")) {
                Path f = Path.of(data.substring(1));
                try {
                    body = Files.readAllBytes(f);
                } catch (IOException e) {
                    throw CliException.failed("cannot read " + f + ": " + e.getMessage(), null, e);
                }
            } else {
                body = data.getBytes(StandardCharsets.UTF_8);
            }
        }
        List<String[]> hs = new ArrayList<>();
        for (String h : headers) {
            int colon = h.indexOf(':');
            if (colon <= 0) throw CliException.usage("-H: '" + h + "' is not 'Name: value'");
            String k = h.substring(0, colon).strip();
            String v = h.substring(colon + 1).strip();
            if (RESTRICTED.contains(k.toLowerCase(Locale.ROOT))) throw CliException.usage("-H: " + k + " is set by the client itself");
            if (k.chars().anyMatch(c -> c <= ' ' || c >= 127)) throw CliException.usage("-H: '" + k + "' is not a header name");
            hs.add(new String[]{k, v});
        }
        HttpResponse<InputStream> r = ctx.api().raw(m, "/run/" + ApiClient.seg(name) + path, hs, body, Duration.ofSeconds(timeoutSeconds));
        OutputStream out = ctx.rawOut();
        try (InputStream in = r.body()) {
            if (include) {
                StringBuilder b = new StringBuilder("HTTP/1.1 " + r.statusCode() + "\n");
                r.headers().map().forEach((k, vs) -> vs.forEach(v -> b.append(k).append(": ").append(v).append('\n')));
                b.append('\n');
                out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            }
            in.transferTo(out);
            out.flush();
        } catch (IOException e) {
            throw CliException.failed("the answer broke off: " + e.getMessage(), null, e);
        }
        if (timing) r.headers().firstValue("Server-Timing").ifPresent(t -> ctx.err().println("Server-Timing: " + t));
        if (r.statusCode() >= 400) {
            ctx.err().println("error: HTTP " + r.statusCode());
            ctx.err().flush();
            return 1;
        }
        return 0;
    }
}
