package dev.vmctl.server;

import dev.vmctl.engine.SnapshotService;
import dev.vmctl.engine.VmService;
import dev.vmctl.engine.op.Accepted;
import dev.vmctl.model.SnapshotView;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.snapshot.SnapshotManifest;
import io.javalin.http.HandlerType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/** {@code /api/v1/snapshots…} and {@code POST /api/v1/vms/{id}/restore}. */
final class SnapshotRoutes {
    private final SnapshotService snaps;
    private final VmService vms;
    private final Path tmpDir;

    SnapshotRoutes(SnapshotService snaps, VmService vms, Path tmpDir) {
        this.snaps = snaps;
        this.vms = vms;
        this.tmpDir = tmpDir;
    }

    record SnapshotBody(String vm, String name) {}

    record CloneBody(Integer count, String name, String network, Boolean start) {}

    record RestoreBody(String snapshot) {}

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/snapshots", ctx -> Api.json(ctx, 200, snaps.store().list().stream().map(this::view).toList()));
        r.add(HandlerType.POST, "/api/v1/snapshots", ctx -> {
            SnapshotBody b = Api.body(ctx, SnapshotBody.class);
            if (b.vm() == null) throw VmctlException.invalid("vm", "missing", "the name or id of a running VM");
            var a = snaps.snapshot(b.vm(), b.name());
            SnapshotView v = view(a.value().manifest()).withTimes(a.value().pausedMillis(), a.value().totalMillis());
            Http.answer(ctx, 201, new Accepted<>(a.op(), v));
        });
        r.add(HandlerType.GET, "/api/v1/snapshots/{name}", ctx -> Api.json(ctx, 200, view(snaps.store().get(ctx.pathParam("name")))));
        r.add(HandlerType.DELETE, "/api/v1/snapshots/{name}", ctx -> {
            SnapshotView before = view(snaps.store().get(ctx.pathParam("name")));
            var a = snaps.delete(ctx.pathParam("name"));
            Http.answer(ctx, 200, new Accepted<>(a.op(), before));
        });
        r.add(HandlerType.POST, "/api/v1/snapshots/{name}/clone", ctx -> {
            boolean wait = Http.bool(ctx, "wait");
            Duration timeout = Http.timeout(ctx);
            CloneBody b = Api.body(ctx, CloneBody.class);
            var a = snaps.cloneSnapshot(ctx.pathParam("name"), new SnapshotService.CloneRequest(b.count(), b.name(), b.network(), b.start()));
            List<VmView> clones = a.value().vms();
            if (wait) {
                vms.ops().await(a.op().id(), timeout);
                clones = clones.stream().map(c -> {
                    try {
                        return vms.get(c.id());
                    } catch (VmctlException gone) {
                        return c;
                    }
                }).toList();
            }
            Http.answer(ctx, 201, new Accepted<>(a.op(), clones));
        });
        r.add(HandlerType.GET, "/api/v1/snapshots/{name}/export", ctx -> {
            var m = snaps.store().get(ctx.pathParam("name"));
            Path tmp = Files.createTempFile(tmpDir, ".export-", ".tar.zst");
            try {
                Files.deleteIfExists(tmp);
                snaps.store().exportTo(m.name(), tmp);
                ctx.contentType("application/zstd");
                ctx.header("Content-Disposition", "attachment; filename=\"" + m.name() + ".tar.zst\"");
                try (var in = Files.newInputStream(tmp); var out = ctx.res().getOutputStream()) {
                    in.transferTo(out);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        });
        r.add(HandlerType.POST, "/api/v1/snapshots/import", ctx -> {
            String name = ctx.queryParam("name");
            if (name != null) dev.vmctl.model.Names.check("name", name);
            long declared = ctx.req().getContentLengthLong();
            long free = Files.getFileStore(tmpDir).getUsableSpace() - (1L << 30);
            if (declared > free) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "snapshot archive of " + declared + " bytes does not fit: the data dir has "
                        + Math.max(0, free) + " bytes free (less a reserve of 1 GiB)", "a smaller archive, or free space in " + tmpDir);
            }
            Path tmp = Files.createTempFile(tmpDir, ".import-", ".tar.zst");
            try {
                try (var in = ctx.req().getInputStream()) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                if (Files.size(tmp) == 0) throw VmctlException.invalid("body", "empty", "a snapshot archive made by vmctl snapshot export");
                var a = snaps.importFrom(tmp, name);
                Http.answer(ctx, 201, new Accepted<>(a.op(), view(a.value())));
            } finally {
                Files.deleteIfExists(tmp);
            }
        });
        r.add(HandlerType.POST, "/api/v1/vms/{id}/restore", ctx -> {
            boolean wait = Http.bool(ctx, "wait");
            Duration timeout = Http.timeout(ctx);
            RestoreBody b = Api.body(ctx, RestoreBody.class);
            Accepted<VmView> a = snaps.restore(ctx.pathParam("id"), b.snapshot());
            if (wait) {
                Http.answer(ctx, 200, new Accepted<>(a.op(), vms.awaitOperation(a.op(), a.value().id(), timeout)));
            } else {
                Http.answer(ctx, 202, a);
            }
        });
    }

    SnapshotView view(SnapshotManifest m) {
        return view(m, snaps.clonesBySnapshot().getOrDefault(m.name(), List.of()));
    }

    static SnapshotView view(SnapshotManifest m, List<String> clones) {
        return SnapshotService.view(m, clones);
    }
}
