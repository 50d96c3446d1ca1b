package dev.vmctl.engine;

import dev.vmctl.engine.op.Accepted;
import dev.vmctl.engine.op.Operations;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.NicView;
import dev.vmctl.model.Operation;
import dev.vmctl.model.VmOperation;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmState;
import dev.vmctl.model.VmView;
import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.GuestAgentClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The VM lifecycle that the REST API, the CLI (through the API) and the GUI share — create, start, stop,
 * reboot, destroy — plus exec, files and console. No web types here. Every mutating call is an operation
 * on the VM's lane (one at a time per VM, in arrival order); each checks its allowed states
 * ({@link VmOperation}) when its turn comes, and every state change goes through {@link VmCore#transition}.
 */
public final class VmService implements AutoCloseable {
    public static final int MAX_FILE_BYTES = 64 << 20;

    private final VmCore core;

    VmService(VmCore core) {
        this.core = core;
    }

    public Operations ops() {
        return core.ops;
    }

    // ---------------------------------------------------------------- queries

    public List<VmView> list() {
        return core.store.all().stream().map(core::view).toList();
    }

    public VmView get(String key) {
        return core.view(core.row(key));
    }

    /** The VM's id for a name or id (404 when there is none). */
    public String idOf(String key) {
        return core.row(key).id();
    }

    public boolean isLive(String key) {
        return core.store.byIdOrName(key).map(r -> r.state() == VmState.RUNNING || r.state() == VmState.PREPARING).orElse(false);
    }

    // ---------------------------------------------------------------- create / start

    /**
     * @param artifacts delivered after every boot from the image, before RUNNING ({@link ArtifactService})
     * @param run       a command started detached once they are in place (output on the console), or null
     * @param cold      boot the image's kernel even when a boot snapshot of the VM's shape exists (no warm start)
     */
    public record CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start,
                                List<NetService.NicRequest> nics, List<dev.vmctl.model.ArtifactSpec> artifacts, List<String> run,
                                boolean cold, String disk, Double cpuLimit) {
        public CreateRequest {
            artifacts = artifacts == null ? List.of() : artifacts;
        }

        /** @param cpuLimit cores its QEMU may use (0.01..64, a fraction allowed; cgroups), or null: no limit */
        public CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start,
                             List<NetService.NicRequest> nics, List<dev.vmctl.model.ArtifactSpec> artifacts, List<String> run,
                             boolean cold, String disk) {
            this(name, image, cpus, memory, accel, start, nics, artifacts, run, cold, disk, null);
        }

        /** @param disk the size of the VM's disk ("4G"; images with a root disk only), or null: the image's rootfs size */
        public CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start,
                             List<NetService.NicRequest> nics, List<dev.vmctl.model.ArtifactSpec> artifacts, List<String> run,
                             boolean cold) {
            this(name, image, cpus, memory, accel, start, nics, artifacts, run, cold, null);
        }

        public CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start,
                             List<NetService.NicRequest> nics, List<dev.vmctl.model.ArtifactSpec> artifacts, List<String> run) {
            this(name, image, cpus, memory, accel, start, nics, artifacts, run, false);
        }

        public CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start,
                             List<NetService.NicRequest> nics) {
            this(name, image, cpus, memory, accel, start, nics, List.of(), null, false);
        }

        public CreateRequest(String name, String image, Integer cpus, String memory, String accel, boolean start) {
            this(name, image, cpus, memory, accel, start, List.of());
        }
    }

    /**
     * Creates a VM (REQUESTED) and with {@code start} boots it in the same operation ({@code vm.create}),
     * which then ends when the VM is RUNNING. Input errors are thrown before any operation exists. The boot is warm
     * (restored from the image's boot snapshot of the VM's shape, {@link BootSnapshots}) when there is one and the
     * request does not say {@code cold}; otherwise cold, and the first cold boot of a shape records its boot snapshot.
     */
    public Accepted<VmView> create(CreateRequest req) {
        VmSpec spec = VmSpec.validate(req.name(), req.image(), req.cpus(), req.memory(), req.accel(), core.images.names());
        String now = VmCore.now();
        VmRow row = new VmRow(VmCore.newId(), spec.name(), VmState.REQUESTED, spec.image(), spec.cpus(), spec.memoryMiB(),
                spec.accel().cli(), null, now, now, null, null, null);
        if (core.store.byIdOrName(spec.name()).isPresent()) {
            throw VmctlException.conflict("create vm " + spec.name() + ": the name is already in use",
                    "choose another name or remove the existing VM");
        }
        dev.vmctl.model.ImageInfo img = core.images.get(spec.image());
        Long diskMiB = VmDisks.validateSize(req.disk(), img);
        Double cpuLimit = ResourceLimits.validateCpuLimit("cpuLimit", req.cpuLimit());
        if (cpuLimit != null) core.limits.requireCgroups("create vm " + spec.name() + " with cpuLimit");
        List<NetRows.NicRow> nics = core.net.planNics(row.id(), req.nics());
        // fetched before the VM exists: a wrong checksum, unknown coordinates … create nothing
        List<ArtifactService.Resolved> artifacts = core.artifacts.resolve(spec.name(), req.artifacts(), req.run());
        String id = row.id();
        // a VM created by an operation (a topology deploy) is held by it until it ends: others get a 409 naming it
        Operations.Op parent = Operations.current();
        if (parent != null) core.ops.hold(VmCore.lane(id), parent);
        Operations.Spec os = new Operations.Spec("vm.create", VmCore.lane(id), List.of(VmCore.lane(id)), req.start());
        java.util.function.Supplier<Operations.Op> submit = () -> core.ops.submitAndAccept(os, o -> {
            core.store.tx("create vm " + row.name(), db -> {
                core.store.insert(row);
                for (NetRows.NicRow nic : nics) core.store.upsertNic(nic);
                core.artifacts.record(db, row.id(), artifacts, req.run());
                if (cpuLimit != null) core.store.setCpuLimit(row.id(), cpuLimit);
                return null;
            });
            // the VM's own disk (a qcow2 overlay on the image's rootfs) in its folder: it goes with the VM
            if (img.hasRootDisk()) VmDisks.create(core.dir.vm(id), img, diskMiB);
            core.events.publishData(dev.vmctl.model.EventType.VM_STATE, id, row.name(), null, VmState.REQUESTED, "created", core.view(id));
            if (!req.start()) {
                o.accept();
                return null;
            }
            core.transition(id, VmState.PREPARING, null, "booting");
            o.accept();
            core.boot(o, id, new VmCore.Cold(!req.cold()));
            return null;
        });
        // a VM that starts is admitted first (memory: a 409 before anything exists); one created without start is checked when it starts
        Operations.Op op = req.start() ? core.admitted("create vm " + spec.name(), id, spec.memoryMiB(), java.util.Set.of(), submit) : submit.get();
        return new Accepted<>(op.view(), viewOrGone(id, row));
    }

    /**
     * Starts a VM. Its first start (REQUESTED: created without {@code start}, as topology deploys do) is warm when its
     * shape has a boot snapshot, like a create with {@code start}; a start after a stop or an error boots the image's
     * kernel (fresh RAM; it may record the shape's boot snapshot).
     */
    public Accepted<VmView> start(String key) {
        VmRow r = core.row(key);
        String id = r.id();
        // on an idle lane the state is checked at once: a 409 for the state comes before one for memory
        if (core.ops.running(VmCore.lane(id)) == null) VmOperation.START.check(r.name(), r.state());
        Operations.Op op = core.admitted("start vm " + r.name(), id, r.memoryMiB(), java.util.Set.of(), () -> core.ops.submitAndAccept(bootSpec("vm.start", id), o -> {
            VmRow cur = core.row(id);
            VmOperation.START.check(cur.name(), cur.state());
            boolean first = cur.state() == VmState.REQUESTED;
            core.transition(id, VmState.PREPARING, null, "booting");
            o.accept();
            core.boot(o, id, new VmCore.Cold(first));
            return null;
        }));
        return new Accepted<>(op.view(), viewOrGone(id, r));
    }

    static Operations.Spec bootSpec(String kind, String id) {
        return new Operations.Spec(kind, VmCore.lane(id), List.of(VmCore.lane(id)), true);
    }

    // ---------------------------------------------------------------- stop / reboot / destroy

    /**
     * Stops a VM. A boot in progress (start, reboot, restore, clone) is cancelled first, so a stop during
     * boot ends STOPPED at once instead of after the boot; other work on the VM runs to its end first.
     */
    public Accepted<VmView> stop(String key) {
        VmRow r = core.row(key);
        String id = r.id();
        Operations.Op running = core.ops.running(VmCore.lane(id));
        // only the stop that gets to cancel a boot tolerates the STOPPED state that boot leaves behind
        boolean preempts = running != null && VmCore.BOOT_KINDS.contains(running.kind()) && running.cancellable() && running.claimCancel();
        // precondition at once when nothing runs (a 409 for a STOPPED VM, as before)
        Operations.Op op = core.ops.submitAndAccept(Operations.Spec.of("vm.stop", VmCore.lane(id)), o -> {
            VmRow cur = core.row(id);
            if (preempts && cur.state() == VmState.STOPPED) {
                o.accept();
                return null; // the boot this stop cancelled already left it STOPPED
            }
            VmOperation.STOP.check(cur.name(), cur.state());
            o.accept();
            core.stopNow(id);
            return null;
        });
        if (preempts) core.ops.cancel(running, "stopped by operation " + op.id());
        return new Accepted<>(op.view(), viewOrGone(id, r));
    }

    /**
     * Kills the VM's QEMU with SIGKILL, as a host crash of the process would (the scenario fault vm.kill):
     * the VM ends in ERROR ("qemu process … exited unexpectedly"); start it again to recover. Answers once
     * the state is recorded.
     */
    public Accepted<VmView> kill(String key) {
        VmRow r = core.row(key);
        String id = r.id();
        Accepted<Object> a = core.ops.run(Operations.Spec.of("vm.kill", VmCore.lane(id)), Duration.ofSeconds(30), o -> {
            VmRow cur = core.row(id);
            VmOperation.KILL.check(cur.name(), cur.state());
            VmRuntime rt = core.runtimes.get(id);
            if (rt == null) throw VmctlException.conflict("kill: vm " + cur.name() + " has no QEMU process of this server", null);
            ProcessHandle.of(rt.pid()).ifPresent(ProcessHandle::destroyForcibly);
            try {
                rt.vm.exited().get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                throw VmctlException.internal("kill: vm " + cur.name() + ": QEMU " + rt.pid() + " did not exit", e);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (core.row(id).state() == VmState.RUNNING || core.row(id).state() == VmState.PREPARING) {
                if (System.nanoTime() > deadline) throw VmctlException.internal("kill: vm " + cur.name() + ": exit not recorded", null);
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            }
            return null;
        });
        return new Accepted<>(a.op(), viewOrGone(id, r));
    }

    public Accepted<VmView> reboot(String key) {
        VmRow r = core.row(key);
        String id = r.id();
        Operations.Op op = core.ops.submitAndAccept(bootSpec("vm.reboot", id), o -> {
            VmRow cur = core.row(id);
            VmOperation.REBOOT.check(cur.name(), cur.state());
            VmRuntime rt = core.runtimes.get(id);
            if (rt == null || rt.qmp() == null || !rt.qmp().isOpen()) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "reboot " + cur.name() + ": no qemu control connection", null);
            }
            core.flushGuestDisk(rt, cur); // a VM with a disk keeps what it wrote over the hard reset
            core.transition(id, VmState.PREPARING, null, "rebooting");
            o.accept();
            if (rt.linkChanged) {
                // after a set_link a guest reset leaves the agent deaf (see VmRuntime.linkChanged): a fresh QEMU
                rt.expectedExit = true;
                core.kill(rt, Duration.ofSeconds(3));
                core.runtimes.remove(id, rt);
                core.boot(o, id, new VmCore.Cold(false));
                return null;
            }
            try {
                rt.vm.dropAgent();
                rt.vm.systemReset();
            } catch (RuntimeException e) {
                core.failBoot(id, rt, e);
                throw e;
            }
            core.boot(o, id, new VmCore.Reboot());
            return null;
        });
        return new Accepted<>(op.view(), viewOrGone(id, r));
    }

    /**
     * Destroys a VM: its QEMU, taps, folder and row. With {@code force} whatever is queued for the VM is
     * cancelled first (and a boot in progress); a VM held by another operation (a topology deploy) is a 409
     * naming that operation. Returns once the VM is gone.
     */
    public Accepted<VmView> destroy(String key, boolean force) {
        VmRow r = core.row(key);
        String id = r.id();
        String lane = VmCore.lane(id);
        Operations.Op op = core.ops.submit(Operations.Spec.of("vm.destroy", lane), o -> {
            VmRow cur = core.row(id);
            (force ? VmOperation.DESTROY_FORCE : VmOperation.DESTROY).check(cur.name(), cur.state());
            o.accept();
            VmRuntime rt = core.runtimes.get(id);
            if (rt != null) {
                rt.expectedExit = true;
                core.kill(rt, Duration.ofSeconds(2));
            } else if (cur.pid() != null && cur.pidStart() != null && dev.vmctl.host.Procs.isSame(cur.pid(), cur.pidStart())) {
                dev.vmctl.host.Procs.terminate(cur.pid(), Duration.ofSeconds(2));
            }
            VmView goneView;
            synchronized (core.rowLock(id)) {
                List<NicView> nics = core.net.nicViews(id);
                core.net.releaseTaps(id);
                if (core.limits != null) core.limits.release(id); // its cgroup (and its node's, when it was the last)
                VmRow gone = core.transition(id, VmState.DESTROYED, null, "destroyed");
                goneView = gone.view(nics);
                VmCore.deleteQuietly(core.dir.vm(id).dir());
                core.dir.ramFiles().remove(id);
                core.store.delete(id);
            }
            core.forget(id);
            core.maybeRemoveFabric();
            return goneView;
        });
        if (force) core.ops.cancelLane(lane, "vm " + r.name() + " is being removed (operation " + op.id() + ")", op);
        VmView gone = (VmView) op.join(Duration.ofMinutes(10));
        return new Accepted<>(op.view(), gone);
    }

    // ---------------------------------------------------------------- exec / files / console (guest I/O, not operations)

    public ExecResult exec(String key, List<String> argv, byte[] stdin, Duration timeout) {
        if (argv == null || argv.isEmpty() || argv.getFirst() == null || argv.getFirst().isBlank()) {
            throw VmctlException.invalid("argv", "missing command", "a non-empty list: program followed by its arguments");
        }
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofHours(1)) > 0) {
            throw VmctlException.invalid("timeoutSec", timeout.toSeconds() + " is out of range", "1..3600");
        }
        GuestAgentClient agent = agentFor(key, "exec");
        try {
            return agent.exec(argv, stdin, timeout);
        } catch (RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Failed to execute child process")) {
                // the guest could not start the program: the caller's argv, not the guest or the server, is at fault
                throw VmctlException.invalid("argv[0]", "'" + argv.getFirst() + "' cannot be run in the guest ("
                        + m.substring(m.indexOf("Failed to execute child process")).replace("'", "").strip() + ")",
                        "a program that exists in the guest and is executable, by absolute path or on its PATH");
            }
            throw guestGone(key, "exec", e);
        }
    }

    /** Writes a file in the guest (through the agent; for bulk artefacts a later release adds a faster path). */
    public void writeFile(String key, String path, byte[] data) {
        checkGuestPath(path);
        if (data.length > MAX_FILE_BYTES) {
            throw VmctlException.invalid("body", data.length + " bytes is too large", "at most " + MAX_FILE_BYTES + " bytes");
        }
        GuestAgentClient agent = agentFor(key, "write file");
        try {
            agent.writeFile(path, data);
        } catch (RuntimeException e) {
            throw guestGone(key, "write " + path + " in", e);
        }
    }

    /** Files up to this size go through the agent ({@link #writeFile}); larger ones through {@link #putFile}. */
    public static final long AGENT_FILE_BYTES = GuestDelivery.AGENT_MAX_BYTES;

    /**
     * Where the server stages an upload of {@code path} into a running VM (a new file in the VM's 9p share folder, so
     * the guest copies it from there and the host copies nothing more). Checks the path and the VM's state first.
     */
    public Path uploadStaging(String key, String path) {
        checkGuestPath(path);
        VmRow r = core.row(key);
        agentFor(key, "write file");
        Path dir = core.dir.vm(r.id()).shareDir();
        try {
            Files.createDirectories(dir);
            // readable by the VM's QEMU, which may run as its own user (QemuConfinement) and serves the share to the guest
            return Files.createTempFile(dir, "upload-", ".part",
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--")));
        } catch (IOException e) {
            throw VmctlException.internal("stage upload for vm " + r.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Puts a host file at {@code path} in the guest by the bulk path (the VM's 9p share; the agent where the guest has
     * no 9p): copied under a temporary name, then renamed, mode 0644. {@code vm cp} of a large file.
     *
     * @return how it went in: "9p" or "agent"
     */
    public String putFile(String key, String path, Path hostFile) {
        checkGuestPath(path);
        VmRow r = core.row(key);
        GuestAgentClient agent = agentFor(key, "write file");
        try {
            return GuestDelivery.deliver(agent, core.dir.vm(r.id()).shareDir(),
                    List.of(new GuestDelivery.Item(hostFile, false, path, null, null, "file")), ArtifactService.DELIVER_TIMEOUT).getFirst();
        } catch (VmctlException e) {
            if (!isRunning(key)) throw guestGone(key, "write " + path + " in", e);
            throw new VmctlException(VmctlException.Kind.INVALID, "write " + path + " in vm " + r.name() + ": " + e.getMessage(), null, e);
        } catch (RuntimeException e) {
            throw guestGone(key, "write " + path + " in", e);
        }
    }

    public byte[] readFile(String key, String path) {
        checkGuestPath(path);
        GuestAgentClient agent = agentFor(key, "read file");
        // devices and FIFOs never end (/dev/zero), big files are refused before a byte is read
        ExecResult st = exec(key, List.of("stat", "-L", "-c", "%F|%s", path), null, Duration.ofSeconds(10));
        if (st.exitCode() == 0) {
            String[] f = st.stdout().strip().split("\\|", 2);
            if (f.length == 2 && !f[0].equals("regular file") && !f[0].equals("regular empty file")) {
                throw VmctlException.invalid("path", path + " is a " + f[0] + ", not a regular file", "a regular file of at most "
                        + (MAX_FILE_BYTES >> 20) + " MiB");
            }
            if (f.length == 2 && f[1].matches("\\d+") && Long.parseLong(f[1]) > MAX_FILE_BYTES) {
                throw VmctlException.invalid("path", path + " is larger than " + (MAX_FILE_BYTES >> 20) + " MiB (" + f[1] + " bytes)",
                        "files up to " + (MAX_FILE_BYTES >> 20) + " MiB (the same limit as writes)");
            }
        }
        try {
            return agent.readFile(path, MAX_FILE_BYTES);
        } catch (VmctlException e) {
            if (e.kind() == VmctlException.Kind.INVALID) throw e; // too large: stopped reading
            if (!isRunning(key)) throw guestGone(key, "read " + path + " in", e);
            throw new VmctlException(VmctlException.Kind.NOT_FOUND, "read " + path + " in vm " + key + ": " + e.getMessage(), null, e);
        } catch (RuntimeException e) {
            if (!isRunning(key)) throw guestGone(key, "read " + path + " in", e);
            throw new VmctlException(VmctlException.Kind.NOT_FOUND, "read " + path + " in vm " + key + ": " + e.getMessage(), null, e);
        }
    }

    private boolean isRunning(String key) {
        return core.store.byIdOrName(key).map(r -> r.state() == VmState.RUNNING).orElse(false);
    }

    /** A guest call that failed because the VM left RUNNING meanwhile is a 409 naming its state, not a 5xx. */
    private VmctlException guestGone(String key, String what, RuntimeException e) {
        VmRow r = core.store.byIdOrName(key).orElse(null);
        if (r == null) return VmctlException.notFound("vm", key);
        if (r.state() != VmState.RUNNING) {
            return new VmctlException(VmctlException.Kind.WRONG_STATE, what + " vm " + r.name() + ": the vm is " + r.state(),
                    "current state: " + r.state() + "; allowed in: [RUNNING]");
        }
        VmctlException busy = busyGuest(r, what);
        if (busy != null) return busy;
        return new VmctlException(VmctlException.Kind.UNAVAILABLE, what + " vm " + r.name() + ": " + e.getMessage(), null, e);
    }

    private static void checkGuestPath(String path) {
        if (path == null || !path.startsWith("/") || path.contains("\0")) {
            throw VmctlException.invalid("path", "'" + path + "' is not an absolute guest path", "an absolute path such as /etc/app.conf");
        }
    }

    /** Operations during which the guest goes away: a guest call meanwhile is a 409 naming the operation. */
    private static final java.util.Set<String> GUEST_GOING = java.util.Set.of("vm.stop", "vm.reboot", "vm.destroy", "vm.restore");

    private VmctlException busyGuest(VmRow r, String what) {
        Operations.Op running = core.ops.running(VmCore.lane(r.id()));
        if (running == null || !GUEST_GOING.contains(running.kind())) return null;
        return VmctlException.conflict(what + " vm " + r.name() + ": operation " + running.id() + " (" + running.kind() + ") is under way",
                "wait for it: vmctl op wait " + running.id());
    }

    private GuestAgentClient agentFor(String key, String what) {
        VmRow r = core.row(key);
        if (r.state() != VmState.RUNNING) {
            try {
                VmOperation.EXEC.check(r.name(), r.state());
            } catch (VmctlException e) {
                // the same refusal, named after what was asked (read file, write file, exec)
                String msg = String.valueOf(e.getMessage());
                throw new VmctlException(e.kind(), msg.startsWith("exec") ? what + msg.substring(4) : what + ": " + msg,
                        e.detail() == null ? null : e.detail().replace("exec is allowed", what + " is allowed"));
            }
        }
        VmctlException busy = busyGuest(r, what);
        if (busy != null) throw busy;
        VmRuntime rt = core.runtimes.get(r.id());
        GuestAgentClient agent = rt == null ? null : rt.agent();
        if (agent == null) {
            throw new VmctlException(VmctlException.Kind.UNAVAILABLE, what + " " + r.name() + ": the guest agent is not connected", null);
        }
        return agent;
    }

    public Path consoleFile(String key) {
        return core.dir.vm(core.row(key).id()).console();
    }

    /** The last {@code lines} lines of the serial console. */
    public String consoleTail(String key, int lines) {
        Path f = consoleFile(key);
        if (!Files.exists(f)) return "";
        try {
            // serial output is mostly UTF-8 but may hold any byte: decode leniently
            List<String> all = new String(Files.readAllBytes(f), StandardCharsets.UTF_8).lines().toList();
            List<String> tail = all.subList(Math.max(0, all.size() - lines), all.size());
            return String.join("\n", tail) + (tail.isEmpty() ? "" : "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for an operation to finish and returns the VM as it is then (DESTROYED when it is gone). */
    public VmView awaitOperation(Operation op, String vmId, Duration timeout) {
        core.ops.await(op.id(), timeout);
        VmView v = core.view(vmId);
        if (v != null) return v;
        return new VmView(vmId, null, VmState.DESTROYED, null, 0, 0, null, null, null, null, null, List.of(), null);
    }

    private VmView viewOrGone(String id, VmRow before) {
        VmView v = core.view(id);
        return v != null ? v : before.withState(VmState.DESTROYED, null, VmCore.now()).view();
    }

    /** Called by the network API after a network or router is removed. */
    public void networkRemoved() {
        core.maybeRemoveFabric();
    }

    /** Leaves VMs running (they outlive the server) and closes the control connections. */
    @Override
    public void close() {
        for (VmRuntime rt : core.runtimes.values()) rt.vm.detach();
        core.runtimes.clear();
    }
}
