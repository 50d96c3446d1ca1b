package dev.vmctl.engine;

import dev.vmctl.artifact.ArtifactCache;
import dev.vmctl.artifact.ArtifactFetcher;
import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.ArtifactView;
import dev.vmctl.model.VmArtifactView;
import dev.vmctl.model.VmctlException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Artifacts: the host cache ({@code artifact.fetch} operations on lane {@code artifact:KEY}, one per source, so the
 * same source is fetched once at a time), the artifacts a VM is given at create (fetched before the VM exists: bad
 * input creates nothing) and their delivery on every boot from the image, after the guest agent answers and
 * before the VM is RUNNING, followed by the VM's {@code run} command. A delivery that fails fails the boot (ERROR
 * with the reason).
 */
public final class ArtifactService {
    static final Duration FETCH_TIMEOUT = Duration.ofMinutes(30);
    static final Duration DELIVER_TIMEOUT = Duration.ofMinutes(10);

    private final VmCore core;
    private final ArtifactFetcher fetcher;
    private final VmArtifactStore rows;

    ArtifactService(VmCore core, ArtifactFetcher fetcher) {
        this.core = core;
        this.fetcher = fetcher;
        this.rows = new VmArtifactStore(core.store);
    }

    /** An artifact of a VM-to-be, fetched: what its row will say. */
    record Resolved(ArtifactSpec spec, ArtifactCache.Cached cached) {}

    static String lane(ArtifactSpec spec) {
        return "artifact:" + ArtifactFetcher.laneKey(spec);
    }

    /** Fetches a source into the cache as an {@code artifact.fetch} operation (dest optional). */
    public Accepted<ArtifactView> fetch(ArtifactSpec spec) {
        if (spec == null) throw VmctlException.invalid("body", "no artifact", ArtifactSpec.FIELDS);
        spec.check("artifact", false);
        return fetchChecked(spec);
    }

    private Accepted<ArtifactView> fetchChecked(ArtifactSpec spec) {
        Accepted<ArtifactCache.Cached> a = core.ops.run(Operations.Spec.of("artifact.fetch", lane(spec)), FETCH_TIMEOUT, o -> {
            o.progress("fetching " + spec.describe());
            return fetcher.fetch(spec);
        });
        return new Accepted<>(a.op(), a.value().view());
    }

    /**
     * Removes an entry of the cache ({@code artifact.delete} on the artifact's lane): 400 for a malformed digest, 404
     * when the cache has none, 409 while VMs hold it (their next boot would need it again).
     */
    public Accepted<ArtifactView> remove(String sha256) {
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw VmctlException.invalid("sha256", sha256 == null ? "missing" : "'" + sha256 + "'", "64 lower-case hex digits (vmctl artifact ls)");
        }
        ArtifactCache.Cached c = fetcher.cache().get(sha256)
                .orElseThrow(() -> VmctlException.notFound("artifact", sha256));
        return core.ops.run(Operations.Spec.of("artifact.delete", "artifact:" + sha256), Duration.ofMinutes(5), o -> {
            List<String> holders = new ArrayList<>();
            for (VmRow r : core.store.all()) {
                if (rows.rows(r.id()).stream().anyMatch(x -> sha256.equals(x.sha256()))) holders.add(r.name());
            }
            if (!holders.isEmpty()) {
                throw VmctlException.conflict("remove artifact " + sha256 + ": vm(s) " + String.join(", ", holders.stream().sorted().toList())
                        + " hold it", "remove those VMs first (vmctl vm rm)");
            }
            o.progress("removing " + c.name() + " (" + sha256 + ")");
            fetcher.cache().remove(sha256);
            return c.view();
        });
    }

    public List<ArtifactView> list() {
        return fetcher.cache().list().stream().map(ArtifactCache.Cached::view).toList();
    }

    /** What a VM holds (404 for an unknown VM). */
    public List<VmArtifactView> ofVm(String key) {
        return rows.rows(core.row(key).id()).stream().map(VmArtifactStore.Row::view).toList();
    }

    /**
     * Checks and fetches a new VM's artifacts (and checks its run command), before the VM exists: the first that
     * fails is thrown naming {@code artifacts[i]}, the artifact and the cause.
     */
    List<Resolved> resolve(String vmName, List<ArtifactSpec> specs, List<String> run) {
        List<ArtifactSpec> list = specs == null ? List.of() : specs;
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) throw VmctlException.invalid("artifacts[" + i + "]", "null", "an artifact {" + ArtifactSpec.FIELDS + "}");
            list.get(i).check("artifacts[" + i + "]", true);
        }
        checkRun(run);
        List<Resolved> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            ArtifactSpec s = list.get(i);
            try {
                Accepted<ArtifactCache.Cached> a = core.ops.run(Operations.Spec.of("artifact.fetch", lane(s)), FETCH_TIMEOUT, o -> {
                    o.progress("fetching " + s.describe() + " for vm " + vmName);
                    return fetcher.fetch(s);
                });
                out.add(new Resolved(s, a.value()));
            } catch (VmctlException e) {
                throw new VmctlException(e.kind(), "create vm " + vmName + ": artifacts[" + i + "]: " + e.getMessage(), e.detail(), e);
            }
        }
        return out;
    }

    static void checkRun(List<String> run) {
        if (run == null) return;
        if (run.isEmpty()) throw VmctlException.invalid("run", "an empty command", "a program and its arguments, e.g. [\"httpd\", \"-p\", \"8080\"]");
        for (int i = 0; i < run.size(); i++) {
            String a = run.get(i);
            if (a == null || (i == 0 && a.isBlank()) || a.contains("\0")) {
                throw VmctlException.invalid("run[" + i + "]", a == null ? "null" : "'" + a + "' is not allowed",
                        "non-empty strings without NUL (the program first)");
            }
        }
    }

    /** Records a new VM's artifacts and run command, inside its create transaction. */
    void record(java.sql.Connection db, String vmId, List<Resolved> resolved, List<String> run) throws java.sql.SQLException {
        List<VmArtifactStore.Row> r = new ArrayList<>();
        for (int i = 0; i < resolved.size(); i++) {
            Resolved x = resolved.get(i);
            ArtifactCache.Cached c = x.cached();
            r.add(new VmArtifactStore.Row(vmId, i, x.spec(), c.sha256(), c.type().wire(), c.name(), c.size(), c.commit(), null, null));
        }
        rows.insert(db, r);
        rows.insertRun(db, vmId, run);
    }

    /**
     * Inside a boot (cold, reboot, re-attach), once the agent answers: puts the VM's artifacts in place and starts its
     * run command. A content the cache no longer has is fetched again.
     */
    void deliverOnBoot(Operations.Op op, String vmId, VmRuntime rt) {
        List<VmArtifactStore.Row> mine = rows.rows(vmId);
        List<String> run = rows.run(vmId);
        if (mine.isEmpty() && run == null) return;
        if (!mine.isEmpty()) {
            if (op != null) op.progress("delivering " + mine.size() + " artifact(s)");
            List<VmArtifactStore.Row> now = new ArrayList<>();
            List<GuestDelivery.Item> items = new ArrayList<>();
            for (VmArtifactStore.Row r : mine) {
                ArtifactCache.Cached c = fetcher.cache().get(r.sha256()).orElseGet(() -> fetcher.fetch(r.spec()));
                VmArtifactStore.Row cur = new VmArtifactStore.Row(r.vmId(), r.index(), r.spec(), c.sha256(), c.type().wire(), c.name(),
                        c.size(), c.commit(), r.via(), r.deliveredAt());
                now.add(cur);
                items.add(new GuestDelivery.Item(c.path(), c.type() == ArtifactCache.Type.DIRECTORY, cur.path(), r.spec().mode(),
                        r.spec().owner(), "artifact " + r.spec().describe()));
            }
            if (op != null) op.checkCancelled();
            List<String> via = GuestDelivery.deliver(rt.agent(), rt.files().shareDir(), items, DELIVER_TIMEOUT);
            String at = Instant.now().toString();
            for (int i = 0; i < now.size(); i++) rows.delivered(now.get(i), via.get(i), at);
        }
        if (run != null) {
            if (op != null) op.progress("starting " + String.join(" ", run));
            GuestDelivery.run(rt.agent(), run);
        }
    }

    void close() {
        fetcher.close();
    }
}
