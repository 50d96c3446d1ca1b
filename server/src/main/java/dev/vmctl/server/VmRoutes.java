package dev.vmctl.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.engine.NetService;
import dev.vmctl.engine.NicService;
import dev.vmctl.engine.VmService;
import dev.vmctl.engine.op.Accepted;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /api/v1/vms…}: lifecycle, NICs and links, exec, files, console. Only HTTP ↔ service calls here. */
final class VmRoutes {
    private final VmService vms;
    private final NicService nics;

    private final dev.vmctl.engine.ArtifactService artifacts;
    private final Followers consoleFollowers = new Followers("console followers");

    VmRoutes(VmService vms, NicService nics, dev.vmctl.engine.ArtifactService artifacts) {
        this.vms = vms;
        this.nics = nics;
        this.artifacts = artifacts;
    }

    record CreateVmBody(String name, String image, Integer cpus, String memory, Integer memoryMiB, String accel, Boolean start,
                        List<NetService.NicRequest> nics, List<dev.vmctl.model.ArtifactSpec> artifacts, List<String> run,
                        Boolean cold, String disk, Double cpuLimit) {}

    record NicBody(String network, String ip, String rate) {}

    record ExecBody(List<String> argv, Integer timeoutSec, String stdin) {}

    /** The answer of {@code PUT /api/v1/vms/{id}/files}: where the file went in the guest, and how many bytes. */
    record FileWritten(String path, int bytes) {}

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/vms", ctx -> Api.json(ctx, 200, vms.list()));
        r.add(HandlerType.POST, "/api/v1/vms", this::create);
        r.add(HandlerType.GET, "/api/v1/vms/{id}", ctx -> Api.json(ctx, 200, vms.get(ctx.pathParam("id"))));
        r.add(HandlerType.DELETE, "/api/v1/vms/{id}", ctx -> {
            boolean force = Http.bool(ctx, "force");
            Http.answer(ctx, 200, vms.destroy(ctx.pathParam("id"), force));
        });
        r.add(HandlerType.POST, "/api/v1/vms/{id}/start", ctx -> settle(ctx, id -> vms.start(id)));
        r.add(HandlerType.POST, "/api/v1/vms/{id}/stop", ctx -> settle(ctx, id -> vms.stop(id)));
        r.add(HandlerType.POST, "/api/v1/vms/{id}/reboot", ctx -> settle(ctx, id -> vms.reboot(id)));
        r.add(HandlerType.POST, "/api/v1/vms/{id}/exec", this::exec);
        r.add(HandlerType.GET, "/api/v1/vms/{id}/console", this::console);
        r.add(HandlerType.PUT, "/api/v1/vms/{id}/files", this::putFile);
        r.add(HandlerType.GET, "/api/v1/vms/{id}/artifacts", ctx -> Api.json(ctx, 200, artifacts.ofVm(ctx.pathParam("id"))));
        r.add(HandlerType.GET, "/api/v1/vms/{id}/files", ctx ->
                ctx.contentType("application/octet-stream").result(vms.readFile(ctx.pathParam("id"), ctx.queryParam("path"))));
        r.add(HandlerType.POST, "/api/v1/vms/{id}/nics", ctx -> {
            NicBody b = Api.body(ctx, NicBody.class);
            Http.answer(ctx, 201, nics.add(ctx.pathParam("id"), b.network(), b.ip(), b.rate()));
        });
        r.add(HandlerType.PATCH, "/api/v1/vms/{id}/nics/{nic}", this::patchNic);
        r.add(HandlerType.DELETE, "/api/v1/vms/{id}/nics/{nic}", ctx ->
                Http.answer(ctx, 200, nics.remove(ctx.pathParam("id"), ctx.pathParam("nic"))));
    }

    /**
     * A file into the guest: small bodies through the agent, larger ones streamed to the VM's share folder on the
     * host (never held in memory) and copied in over 9p.
     */
    private void putFile(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        String path = ctx.queryParam("path");
        long length = ctx.req().getContentLengthLong();
        if (length >= 0 && length <= VmService.AGENT_FILE_BYTES) {
            byte[] data = ctx.bodyAsBytes();
            vms.writeFile(id, path, data);
            Api.json(ctx, 200, new FileWritten(path, data.length));
            return;
        }
        Path staged = vms.uploadStaging(id, path);
        try {
            try (var in = ctx.req().getInputStream()) {
                Files.copy(in, staged, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            long size = Files.size(staged);
            if (size <= VmService.AGENT_FILE_BYTES) {
                vms.writeFile(id, path, Files.readAllBytes(staged));
            } else {
                vms.putFile(id, path, staged);
            }
            Api.json(ctx, 200, new FileWritten(path, Math.toIntExact(Math.min(size, Integer.MAX_VALUE))));
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    private void create(Context ctx) {
        boolean wait = Http.bool(ctx, "wait");
        Duration timeout = Http.timeout(ctx);
        CreateVmBody b = Api.body(ctx, CreateVmBody.class);
        if (b.memory() != null && b.memoryMiB() != null) {
            throw VmctlException.invalid("memory", "give either memory or memoryMiB, not both", "memory (\"128M\") or memoryMiB (128)");
        }
        String memory = b.memory() != null ? b.memory() : b.memoryMiB() != null ? b.memoryMiB().toString() : null;
        Accepted<VmView> a = vms.create(new VmService.CreateRequest(b.name(), b.image(), b.cpus(), memory, b.accel(),
                Boolean.TRUE.equals(b.start()), b.nics(), b.artifacts(), b.run(), Boolean.TRUE.equals(b.cold()), b.disk(), b.cpuLimit()));
        VmView v = a.value();
        if (wait) v = vms.awaitOperation(a.op(), v.id(), timeout);
        ctx.header("Location", "/api/v1/vms/" + v.id());
        Http.answer(ctx, 201, new Accepted<>(a.op(), v));
    }

    interface VmAction {
        Accepted<VmView> run(String id);
    }

    /** 202 with the VM as accepted, or with ?wait=true 200 once its operation has finished. */
    private void settle(Context ctx, VmAction action) {
        boolean wait = Http.bool(ctx, "wait");
        Duration timeout = Http.timeout(ctx);
        Accepted<VmView> a = action.run(ctx.pathParam("id"));
        if (wait) {
            Http.answer(ctx, 200, new Accepted<>(a.op(), vms.awaitOperation(a.op(), a.value().id(), timeout)));
        } else {
            Http.answer(ctx, 202, a);
        }
    }

    private void patchNic(Context ctx) {
        JsonNode b;
        try {
            b = Api.STRICT.readTree(ctx.body().isBlank() ? "{}" : ctx.body());
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.INVALID, "invalid JSON body", e.getMessage());
        }
        if (b == null || !b.isObject()) throw VmctlException.invalid("body", "not a JSON object", "{\"link\": \"down\"} and the like");
        for (var it = b.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("link", "network", "ip", "impair").contains(f)) {
                throw VmctlException.invalid(f, "unknown field", "impair, ip, link, network");
            }
        }
        Map<String, String> impair = null;
        boolean impairGiven = b.has("impair");
        if (impairGiven && !b.get("impair").isNull()) {
            if (!b.get("impair").isObject()) throw VmctlException.invalid("impair", "not an object", "{\"delay\": \"50ms\", …} or null");
            impair = new LinkedHashMap<>();
            for (var it = b.get("impair").fields(); it.hasNext(); ) {
                var e = it.next();
                impair.put(e.getKey(), text(e.getValue(), "impair." + e.getKey(), "a string such as \"50ms\", \"1%\", \"10mbit\""));
            }
        }
        String link = text(b.get("link"), "link", "\"up\" or \"down\"");
        String network = text(b.get("network"), "network", "the name of a network");
        String ip = text(b.get("ip"), "ip", "an IPv4 address in the network's subnet");
        Http.answer(ctx, 200, nics.patch(ctx.pathParam("id"), ctx.pathParam("nic"),
                new NicService.NicPatch(link, network, ip, impairGiven, impair)));
    }

    /** A field of a JSON body that must be a string (or absent/null): no number or boolean is taken for one. */
    private static String text(JsonNode v, String field, String allowed) {
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw VmctlException.invalid(field, "wrong JSON type: " + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                + " " + v, allowed);
        return v.asText();
    }

    private void exec(Context ctx) {
        ExecBody b = Api.body(ctx, ExecBody.class);
        int t = b.timeoutSec() == null ? 30 : b.timeoutSec();
        if (t < 1 || t > 3600) throw VmctlException.invalid("timeoutSec", t + " is out of range", "1..3600");
        ExecResult r = vms.exec(ctx.pathParam("id"), b.argv(),
                b.stdin() == null ? null : b.stdin().getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(t));
        Api.json(ctx, 200, r);
    }

    private void console(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        int tail = Http.intParam(ctx, "tail", 100, 0, 100_000);
        boolean follow = Http.bool(ctx, "follow");
        String text = vms.consoleTail(id, tail);
        ctx.contentType("text/plain; charset=utf-8");
        if (!follow) {
            ctx.result(text);
            return;
        }
        Path file = vms.consoleFile(id);
        consoleFollowers.enter();
        try {
            follow(ctx, id, text, file);
        } finally {
            consoleFollowers.leave();
        }
    }

    /** Writes what the console file gets until the VM has stopped a while, or the client goes (a write fails). */
    private void follow(Context ctx, String id, String text, Path file) throws IOException {
        OutputStream out = ctx.res().getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        long pos = Files.exists(file) ? Files.size(file) : 0;
        int idleAfterStop = 0;
        byte[] buf = new byte[8192];
        while (true) {
            boolean wrote = false;
            if (Files.exists(file)) {
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                    if (raf.length() < pos) pos = 0; // truncated
                    raf.seek(pos);
                    int n;
                    while ((n = raf.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        pos += n;
                        wrote = true;
                    }
                }
            }
            if (wrote) out.flush(); // throws when the client has gone
            if (!vms.isLive(id)) {
                if (++idleAfterStop > 2) return;
            }
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
