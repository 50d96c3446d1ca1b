package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.InvocationView;
import dev.vmctl.model.TemplateView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "template", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Request-driven nodes: a template is a snapshot of a running node whose service answers on a port;"
                + " every request to /run/NAME/… gets a fresh copy of the node in its own isolated segment, then it is removed.",
                "  vmctl template create echo --from lab/web --port 8080 --ready http:/ --max-concurrent 5 --timeout 30s",
                "  curl -X POST http://127.0.0.1:7070/run/echo/cgi-bin/echo -d hello",
                "  vmctl invoke echo --method POST --path /cgi-bin/echo --data hello",
                "  vmctl template pool echo --warm 2"},
        subcommands = {TemplateCommand.Create.class, TemplateCommand.Ls.class, TemplateCommand.Show.class, TemplateCommand.Rm.class,
                TemplateCommand.Pool.class})
final class TemplateCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    static String path(String name) {
        return "/api/v1/templates/" + ApiClient.seg(name);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Make a template from a running node: waits until its service answers on the port, takes a node"
                    + " snapshot the template owns (removing the topology later leaves the template alone).",
                    "  vmctl template create echo --from lab/web --port 8080 --ready http:/healthz"})
    static final class Create implements Callable<Integer> {
        private final CliContext ctx;

        @Parameters(index = "0", paramLabel = "NAME", description = "lower-case letters, digits and '-'")
        String name;

        @Option(names = "--from", required = true, paramLabel = "TOPO/NODE", description = "the running node to copy per request")
        String from;

        @Option(names = "--port", required = true, paramLabel = "PORT", description = "the service's TCP port")
        Integer port;

        @Option(names = "--ready", paramLabel = "CHECK", description = "tcp (default: the port accepts a connection) or http:/PATH (a GET answers below 400)")
        String ready;

        @Option(names = "--max-concurrent", paramLabel = "N", description = "requests served at once (default 10); more get 429 with Retry-After")
        Integer maxConcurrent;

        @Option(names = "--timeout", paramLabel = "DURATION", description = "a request's whole time, e.g. 30s (default); past it: 504 and the node is removed")
        String timeout;

        @Option(names = "--vm", paramLabel = "VM", description = "the node's VM that serves (default: the first that answers on the port)")
        String vm;

        @Mixin
        OutputOption output;

        Create(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("from", from);
            body.put("port", port);
            if (ready != null) body.put("ready", ready);
            if (maxConcurrent != null) body.put("maxConcurrent", maxConcurrent);
            if (timeout != null) body.put("timeout", timeout);
            if (vm != null) body.put("vm", vm);
            JsonNode json = ctx.api().post("/api/v1/templates", body, Duration.ofMinutes(10));
            if (output.json()) {
                OutputOption.printJson(ctx.out(), json);
            } else {
                TemplateView t = Json.as(json, TemplateView.class);
                ctx.out().println("created template " + t.name() + " from " + t.from() + " (node snapshot " + t.snapshot() + "): "
                        + t.vm() + ":" + t.port() + ", ready " + t.ready() + ", up to " + t.maxConcurrent() + " at once, timeout " + t.timeoutMs() + " ms");
                ctx.out().println("  serve a request: curl " + ctx.api().baseUrl() + "/run/" + t.name() + "/");
                ctx.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, description = "List the templates.")
    static final class Ls implements Callable<Integer> {
        private final CliContext ctx;

        @Mixin
        OutputOption output;

        Ls(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            JsonNode json = ctx.api().get("/api/v1/templates");
            if (output.json()) {
                OutputOption.printJson(ctx.out(), json);
                return 0;
            }
            Table t = new Table("NAME", "FROM", "SERVICE", "READY", "MAX", "TIMEOUT", "POOL", "ACTIVE", "REQUESTS");
            for (TemplateView v : Json.listOf(json, TemplateView.class)) {
                t.row(v.name(), v.from(), v.vm() + ":" + v.port(), v.ready(), String.valueOf(v.maxConcurrent()), v.timeoutMs() / 1000.0 + "s",
                        v.poolReady() + "/" + v.poolWarm(), String.valueOf(v.active()), String.valueOf(v.invocations()));
            }
            t.print(ctx.out());
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a template and its last requests with their timings.")
    static final class Show implements Callable<Integer> {
        private final CliContext ctx;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Mixin
        OutputOption output;

        Show(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            JsonNode json = ctx.api().get(path(name));
            if (output.json()) {
                OutputOption.printJson(ctx.out(), json);
                return 0;
            }
            TemplateView v = Json.as(json, TemplateView.class);
            var o = ctx.out();
            o.println("template " + v.name() + " from " + v.from() + ", node snapshot " + v.snapshot());
            o.println("  service     " + v.vm() + ":" + v.port() + " (ready: " + v.ready() + ")");
            o.println("  limits      " + v.maxConcurrent() + " at once, timeout " + v.timeoutMs() + " ms");
            o.println("  subnet      " + v.subnet() + " (each copy in its own segment, the template's addresses kept)");
            for (TemplateView.Member m : v.members()) o.println("  vm          " + m.vm() + " " + String.join(",", m.ips()) + " (snapshot " + m.snapshot() + ")");
            o.println("  pool        " + v.poolReady() + " ready of " + v.poolWarm() + " warm");
            o.println("  requests    " + v.invocations() + " served, " + v.active() + " now");
            var runs = Json.listOf(ctx.api().get(path(name) + "/invocations?limit=10"), InvocationView.class);
            if (!runs.isEmpty()) {
                Table t = new Table("WHEN", "REQUEST", "STATUS", "POOLED", "TIMINGS (ms)");
                for (InvocationView r : runs) {
                    StringBuilder b = new StringBuilder();
                    for (var e : r.timings().entrySet()) b.append(e.getKey()).append(' ').append(String.format(Locale.ROOT, "%.1f", e.getValue())).append("  ");
                    t.row(Render.time(r.startedAt()), r.method() + " " + r.path(), r.status() == null ? "-" : String.valueOf(r.status()),
                            r.pooled() ? "yes" : "no", b.toString().strip() + (r.error() == null ? "" : "  (" + r.error() + ")"));
                }
                t.print(o);
            }
            o.flush();
            return 0;
        }
    }

    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true, description = "Remove a template, its pool and its node snapshot.")
    static final class Rm implements Callable<Integer> {
        private final CliContext ctx;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        Rm(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            ctx.api().delete(path(name), Duration.ofMinutes(5));
            ctx.out().println("removed template " + name);
            ctx.out().flush();
            return 0;
        }
    }

    @Command(name = "pool", mixinStandardHelpOptions = true,
            description = {"Keep N copies of the template's node restored, ready and paused, each in its own segment (resumed per request).",
                    "  vmctl template pool echo --warm 2"})
    static final class Pool implements Callable<Integer> {
        private final CliContext ctx;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--warm", required = true, paramLabel = "N", description = "0-64 ready copies (0: none)")
        Integer warm;

        @Mixin
        OutputOption output;

        Pool(CliContext ctx) { this.ctx = ctx; }

        @Override
        public Integer call() {
            JsonNode json = ctx.api().put(path(name) + "/pool", Map.of("warm", warm), ApiClient.DEFAULT_TIMEOUT);
            if (output.json()) {
                OutputOption.printJson(ctx.out(), json);
            } else {
                TemplateView v = Json.as(json, TemplateView.class);
                ctx.out().println("template " + v.name() + ": pool of " + v.poolWarm() + " (" + v.poolReady() + " ready now; the rest are prepared in the background)");
                ctx.out().flush();
            }
            return 0;
        }
    }
}
