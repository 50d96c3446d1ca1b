package dev.vmctl.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import dev.vmctl.vmm.QmpClient;
import dev.vmctl.vmm.QmpException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Saves a running QEMU's device state (and RAM, unless it lives in a shared file) to a file over QMP
 * migration, and loads such a file into a new QEMU started with {@code -incoming defer}.
 *
 * <p>The migration stream goes over a UNIX socket between QEMU and this JVM ({@code unix:PATH} URIs), not
 * through {@code exec:}: no shell ever runs, nothing user-supplied reaches a command line, and this side
 * knows exactly when the last byte is on disk (QEMU's {@code exec:} helper is sent SIGTERM 10 ms after
 * QEMU closes its end, which can cut a still-writing {@code cat}/{@code zstd} short). Compression runs
 * {@code zstd -1} as an argv-only child process fed from the socket; decompression {@code zstd -dc}.
 *
 * <p>The socket lives beside the QMP socket ({@code migrate.sock} in the VM's directory), or in a private
 * temporary directory when that path is too long for a socket address.
 *
 * <p>With {@code ignoreShared} the capability {@code x-ignore-shared} is set on both sides: RAM in a
 * {@code share=on} memory-backend-file is not streamed; the caller copies the RAM file while the VM is
 * paused (see {@link Snapshotter}), and a restore maps that copy ({@code share=off}: copy-on-write).
 */
public final class QemuMigration {
    /** migrate-set-parameters max-bandwidth, bytes/s (QEMU's default, 32 MiB/s, makes saves slow). */
    public static final long MAX_BANDWIDTH = 10L << 30;
    static final String SOCKET_NAME = "migrate.sock";
    private static final int UNIX_PATH_MAX = 107;
    private static final Duration QMP_CALL = Duration.ofSeconds(10);
    private static final Set<String> MIGRATION_ACTIVE = Set.of("setup", "active", "pre-switchover", "device",
            "cancelling", "postcopy-active", "postcopy-paused", "postcopy-recover", "wait-unplug", "colo");

    private QemuMigration() {}

    /**
     * @param streamBytes  bytes QEMU sent (the uncompressed state)
     * @param fileBytes    size of the state file on disk
     * @param millis       from {@code stop} to the state being on disk (the VM's pause, without resuming)
     * @param wasRunning   the VM was running before the save (and is paused now unless {@code resumed})
     */
    public record SaveStats(long streamBytes, long fileBytes, long millis, boolean compressed, boolean ignoreShared,
                            boolean wasRunning, boolean resumed) {}

    /**
     * @param streamBytes   bytes fed to QEMU (the uncompressed state)
     * @param loadMillis    from {@code migrate-incoming} until QEMU left {@code inmigrate}
     * @param totalMillis   the whole call, including {@code cont}
     * @param finalStatus   QEMU's run state on return ({@code running} or {@code paused})
     */
    public record RestoreStats(long streamBytes, long loadMillis, long totalMillis, String finalStatus) {}

    /** {@link #save(QmpClient, Path, boolean, boolean, boolean, Path, Duration)} with the socket beside the QMP socket. */
    public static SaveStats save(QmpClient qmp, Path stateFile, boolean compress, boolean ignoreShared, boolean resume,
                                 Duration timeout) {
        return save(qmp, stateFile, compress, ignoreShared, resume, null, timeout);
    }

    /**
     * Pauses the VM ({@code stop}), streams its state into {@code stateFile} (new; zstd-compressed when
     * {@code compress}) and, when {@code resume} and it was running, resumes it ({@code cont}). With
     * {@code resume} false a running VM stays paused for the caller (e.g. to copy its RAM file) until
     * {@link #resume}. On any failure the partial file is removed and a VM this call paused is resumed.
     *
     * @param ignoreShared set {@code x-ignore-shared}: RAM in a shared memory-backend-file is not streamed
     * @param socket       the UNIX socket path QEMU connects to (null: {@code migrate.sock} beside the QMP socket)
     * @throws VmctlException INVALID (bad path), CONFLICT (file exists, migration already running),
     *                        WRONG_STATE (QEMU is itself waiting for an incoming state), INTERNAL (the migration failed)
     */
    public static SaveStats save(QmpClient qmp, Path stateFile, boolean compress, boolean ignoreShared, boolean resume,
                                 Path socket, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path file = stateFile.toAbsolutePath().normalize();
        if (Files.exists(file)) throw VmctlException.conflict("snapshot save: " + file + " already exists", null);
        if (!Files.isDirectory(file.getParent())) {
            throw VmctlException.invalid("state file", "directory " + file.getParent() + " does not exist", "a path in an existing directory");
        }
        String status = status(qmp);
        if (status.equals("inmigrate")) {
            throw new VmctlException(Kind.WRONG_STATE, "snapshot save: qemu is waiting for an incoming state (inmigrate)", null);
        }
        String mig = qmp(qmp, "query-migrate", null, deadline).path("status").asText("none");
        if (MIGRATION_ACTIVE.contains(mig)) {
            throw VmctlException.conflict("snapshot save: a migration is already in progress (" + mig + ")", null);
        }
        boolean wasRunning = status.equals("running");
        qmp(qmp, "migrate-set-parameters", Map.of("max-bandwidth", MAX_BANDWIDTH), deadline);
        setIgnoreShared(qmp, ignoreShared, deadline);

        MigrationSocket ms = MigrationSocket.of(qmp, socket);
        boolean stopped = false;
        Sink sink = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            Files.deleteIfExists(ms.path()); // a stale socket file from a killed run
            server.bind(UnixDomainSocketAddress.of(ms.path()));
            ownedLikeQemu(ms.path(), qmp.socket()); // a confined QEMU connects as its own user
            sink = compress ? new ZstdSink(file) : new FileSink(file);
            Sink s = sink;
            CompletableFuture<Long> received = new CompletableFuture<>();
            Thread.ofVirtual().name("migrate-receive " + file.getFileName()).start(() -> receive(server, s, received));
            long t0 = System.nanoTime();
            if (wasRunning) {
                qmp(qmp, "stop", null, deadline);
                stopped = true;
            }
            qmp(qmp, "migrate", Map.of("uri", "unix:" + ms.path()), deadline);
            awaitMigration(qmp, deadline);
            long streamBytes = await(received, deadline, "receiving the state");
            long fileBytes = sink.finish(deadline);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            boolean resumed = false;
            if (resume && wasRunning) {
                qmp(qmp, "cont", null, deadline);
                resumed = true;
            }
            return new SaveStats(streamBytes, fileBytes, millis, compress, ignoreShared, wasRunning, resumed);
        } catch (RuntimeException | IOException e) {
            if (sink != null) sink.abort();
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // reported as an orphan later
            }
            cancelQuietly(qmp);
            if (stopped) contQuietly(qmp);
            throw wrap("snapshot save", e);
        } finally {
            ms.cleanup();
        }
    }

    /** {@link #restore(QmpClient, Path, boolean, boolean, boolean, Path, Duration)} with the socket beside the QMP socket. */
    public static RestoreStats restore(QmpClient qmp, Path stateFile, boolean compressed, boolean ignoreShared, boolean resume,
                                       Duration timeout) {
        return restore(qmp, stateFile, compressed, ignoreShared, resume, null, timeout);
    }

    /**
     * Loads {@code stateFile} into a QEMU started with {@code -incoming defer} and the same device layout:
     * sets {@code x-ignore-shared} as given, {@code migrate-incoming unix:SOCKET}, feeds the file, polls
     * {@code query-status} until QEMU leaves {@code inmigrate}, then {@code cont} when {@code resume}.
     * QEMU exits when the state does not fit its devices; that surfaces as INTERNAL "qemu exited while
     * loading": look at its log.
     *
     * @throws VmctlException NOT_FOUND (no file), WRONG_STATE (QEMU not in {@code inmigrate}), INTERNAL
     */
    public static RestoreStats restore(QmpClient qmp, Path stateFile, boolean compressed, boolean ignoreShared, boolean resume,
                                       Path socket, Duration timeout) {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        Path file = stateFile.toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) throw VmctlException.notFound("state file", file.toString());
        String status = status(qmp);
        if (!status.equals("inmigrate")) {
            throw new VmctlException(Kind.WRONG_STATE, "snapshot restore: qemu is '" + status
                    + "', not waiting for a state (start it with -incoming defer)", null);
        }
        MigrationSocket ms = MigrationSocket.of(qmp, socket);
        Process zstd = null;
        SocketChannel ch = null;
        boolean feeding = false;
        try {
            setIgnoreShared(qmp, ignoreShared, deadline);
            Files.deleteIfExists(ms.path());
            qmp(qmp, "migrate-incoming", Map.of("uri", "unix:" + ms.path()), deadline);
            long tLoad = System.nanoTime();
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(ms.path())); // QEMU listens once migrate-incoming has answered
            InputStream in;
            if (compressed) {
                zstd = new ProcessBuilder(List.of("zstd", "-dcq", "--", file.toString()))
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                in = zstd.getInputStream();
            } else {
                in = Files.newInputStream(file);
            }
            CompletableFuture<Long> sent = new CompletableFuture<>();
            SocketChannel out = ch;
            Thread.ofVirtual().name("migrate-send " + file.getFileName()).start(() -> send(in, out, sent));
            feeding = true;
            String st;
            try {
                st = awaitLoaded(qmp, deadline);
            } catch (QmpException e) {
                if (e.reason() == QmpException.Reason.CLOSED) {
                    throw new VmctlException(Kind.INTERNAL, "snapshot restore: qemu exited while loading " + file.getFileName()
                            + " (state does not match this QEMU's devices, or is damaged): see the VM's qemu log", null, e);
                }
                throw e;
            }
            long loadMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - tLoad);
            long bytes;
            try {
                bytes = await(sent, deadline, "sending the state");
            } catch (RuntimeException e) {
                bytes = -1; // QEMU has what it needs (it left inmigrate); a broken pipe at the end does not matter
            }
            if (zstd != null) {
                if (!zstd.waitFor(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS) || zstd.exitValue() != 0) {
                    throw new VmctlException(Kind.INTERNAL, "snapshot restore: zstd -dc " + file.getFileName() + " failed", null);
                }
            }
            if (!st.equals("paused") && !st.equals("running")) {
                throw new VmctlException(Kind.INTERNAL, "snapshot restore: qemu is '" + st + "' after loading " + file.getFileName(), null);
            }
            if (resume && st.equals("paused")) {
                qmp(qmp, "cont", null, deadline);
                st = "running";
            }
            return new RestoreStats(bytes, loadMillis, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), st);
        } catch (RuntimeException | IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw wrap("snapshot restore", e);
        } finally {
            if (zstd != null && zstd.isAlive()) zstd.destroyForcibly();
            if (ch != null && !feeding) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
            ms.cleanup();
        }
    }

    /** {@code cont}: resumes a paused VM (after a save with {@code resume} false). */
    public static void resume(QmpClient qmp, Duration timeout) {
        try {
            qmp.execute("cont", null, timeout);
        } catch (QmpException e) {
            throw wrap("resume", e);
        }
    }

    /** QEMU's run state ({@code query-status}): running, paused, inmigrate, postmigrate, ... */
    public static String status(QmpClient qmp) {
        try {
            return qmp.execute("query-status", null, QMP_CALL).path("status").asText("unknown");
        } catch (QmpException e) {
            throw wrap("query-status", e);
        }
    }

    // ---- internals ----

    private static void setIgnoreShared(QmpClient qmp, boolean on, long deadline) {
        qmp(qmp, "migrate-set-capabilities",
                Map.of("capabilities", List.of(Map.of("capability", "x-ignore-shared", "state", on))), deadline);
    }

    private static JsonNode awaitMigration(QmpClient qmp, long deadline) {
        long sleep = 1;
        while (true) {
            JsonNode st = qmp(qmp, "query-migrate", null, deadline);
            String s = st.path("status").asText("none");
            switch (s) {
                case "completed":
                    return st;
                case "failed":
                case "cancelled":
                    throw new VmctlException(Kind.INTERNAL, "migration " + s + ": " + st.path("error-desc").asText("no reason given"), null);
                default:
                    break;
            }
            if (remainingMillis(deadline) <= 0) {
                throw new VmctlException(Kind.INTERNAL, "migration not completed in time (status " + s + ")", null);
            }
            sleep(sleep);
            sleep = Math.min(sleep * 2, 20);
        }
    }

    private static String awaitLoaded(QmpClient qmp, long deadline) {
        while (true) {
            String s = qmp.execute("query-status", null, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))
                    .path("status").asText("unknown");
            if (!s.equals("inmigrate")) return s;
            if (remainingMillis(deadline) <= 0) {
                throw new VmctlException(Kind.INTERNAL, "state not loaded in time (qemu still inmigrate)", null);
            }
            sleep(1);
        }
    }

    private static void receive(ServerSocketChannel server, Sink sink, CompletableFuture<Long> done) {
        try (SocketChannel ch = server.accept()) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            long total = 0;
            int n;
            while ((n = ch.read(buf)) >= 0) {
                if (n == 0) continue;
                buf.flip();
                total += buf.remaining();
                sink.write(buf);
                buf.clear();
            }
            done.complete(total);
        } catch (IOException | RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    private static void send(InputStream in, SocketChannel ch, CompletableFuture<Long> done) {
        try (in; ch; OutputStream out = Channels.newOutputStream(ch)) {
            long n = in.transferTo(out);
            done.complete(n);
        } catch (IOException | RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    private static long await(CompletableFuture<Long> f, long deadline, String what) {
        try {
            return f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new VmctlException(Kind.INTERNAL, what + ": not finished in time", null);
        } catch (ExecutionException e) {
            throw new VmctlException(Kind.INTERNAL, what + ": " + e.getCause().getMessage(), null, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmctlException(Kind.INTERNAL, what + ": interrupted", null, e);
        }
    }

    private static JsonNode qmp(QmpClient qmp, String command, Map<String, ?> args, long deadline) {
        long left = Math.max(deadline - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(500));
        return qmp.execute(command, args, Duration.ofNanos(left));
    }

    private static void cancelQuietly(QmpClient qmp) {
        try {
            String s = qmp.execute("query-migrate", null, QMP_CALL).path("status").asText("none");
            if (MIGRATION_ACTIVE.contains(s)) qmp.execute("migrate_cancel", null, QMP_CALL);
        } catch (RuntimeException ignored) {
            // QEMU gone or not answering: nothing to cancel
        }
    }

    private static void contQuietly(QmpClient qmp) {
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (MIGRATION_ACTIVE.contains(qmp.execute("query-migrate", null, QMP_CALL).path("status").asText("none"))
                    && System.nanoTime() < until) {
                sleep(10);
            }
            qmp.execute("cont", null, QMP_CALL);
        } catch (RuntimeException ignored) {
            // best effort: the caller sees the original error
        }
    }

    private static VmctlException wrap(String op, Exception e) {
        if (e instanceof VmctlException v) {
            return new VmctlException(v.kind(), v.getMessage().startsWith(op) ? v.getMessage() : op + ": " + v.getMessage(), v.detail(), v);
        }
        return new VmctlException(Kind.INTERNAL, op + ": " + e.getMessage(), null, e);
    }

    private static long remainingMillis(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmctlException(Kind.INTERNAL, "interrupted", null, e);
        }
    }

    /** Where the migration socket lives, and the temporary directory to remove afterwards (if any). */
    /**
     * Gives {@code p} the owner of the VM's QMP socket, which QEMU created: a QEMU that runs as an unprivileged user
     * (vmctl's confinement) can then connect to a socket this JVM bound, or bind in a folder this JVM made.
     */
    static void ownedLikeQemu(Path p, Path qmpSocket) {
        try {
            int uid = (Integer) Files.getAttribute(qmpSocket, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            int gid = (Integer) Files.getAttribute(qmpSocket, "unix:gid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (uid == (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
            Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            // no QMP socket file (a test's stand-in) or not allowed: the QEMU runs as this JVM's user anyway
        }
    }

    private record MigrationSocket(Path path, Path tempDir) {
        static MigrationSocket of(QmpClient qmp, Path requested) {
            Path p = requested != null ? requested.toAbsolutePath().normalize()
                    : qmp.socket().toAbsolutePath().normalize().resolveSibling(SOCKET_NAME);
            if (p.toString().getBytes(StandardCharsets.UTF_8).length <= UNIX_PATH_MAX) {
                SnapshotFiles.safePath("migration socket", p);
                return new MigrationSocket(p, null);
            }
            try {
                Path dir = Files.createTempDirectory("vmctl-mig-"); // 0700
                ownedLikeQemu(dir, qmp.socket()); // a confined QEMU binds (restore) or connects (save) here
                return new MigrationSocket(dir.resolve(SOCKET_NAME), dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void cleanup() {
            try {
                Files.deleteIfExists(path);
                if (tempDir != null) Files.deleteIfExists(tempDir);
            } catch (IOException ignored) {
                // a stale socket file is replaced next time
            }
        }
    }

    /** Where received state bytes go. */
    private interface Sink {
        void write(ByteBuffer buf) throws IOException;

        /** Flushes, fsyncs and closes; returns the file size. */
        long finish(long deadline) throws IOException;

        void abort();
    }

    private static final class FileSink implements Sink {
        private final Path file;
        private final FileChannel ch;

        FileSink(Path file) throws IOException {
            this.file = file;
            this.ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }

        @Override
        public void write(ByteBuffer buf) throws IOException {
            while (buf.hasRemaining()) ch.write(buf);
        }

        @Override
        public long finish(long deadline) throws IOException {
            ch.force(true);
            ch.close();
            return Files.size(file);
        }

        @Override
        public void abort() {
            try {
                ch.close();
            } catch (IOException ignored) {
                // deleted by the caller
            }
        }
    }

    /** {@code zstd -1 -q -T0 -c > file}, fed through its stdin. */
    private static final class ZstdSink implements Sink {
        private final Path file;
        private final Process p;
        private final WritableByteChannel in;
        private final CompletableFuture<String> err = new CompletableFuture<>();

        ZstdSink(Path file) throws IOException {
            this.file = file;
            Files.createFile(file);
            try {
                this.p = new ProcessBuilder(List.of("zstd", "-1", "-q", "-T0", "-c"))
                        .redirectOutput(file.toFile()).start();
            } catch (IOException e) {
                Files.deleteIfExists(file);
                throw new VmctlException(Kind.UNAVAILABLE, "cannot run zstd: " + e.getMessage(), "install the Debian package zstd", e);
            }
            this.in = Channels.newChannel(p.getOutputStream());
            Thread.ofVirtual().start(() -> {
                try (InputStream e = p.getErrorStream()) {
                    err.complete(new String(e.readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    err.complete("");
                }
            });
        }

        @Override
        public void write(ByteBuffer buf) throws IOException {
            while (buf.hasRemaining()) in.write(buf);
        }

        @Override
        public long finish(long deadline) throws IOException {
            in.close();
            try {
                if (!p.waitFor(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS)) {
                    throw new IOException("zstd did not finish in time");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (p.exitValue() != 0) throw new IOException("zstd exited " + p.exitValue() + ": " + err.getNow("").strip());
            SnapshotFiles.fsync(file);
            return Files.size(file);
        }

        @Override
        public void abort() {
            p.destroyForcibly();
            try {
                in.close();
            } catch (IOException ignored) {
                // gone
            }
        }
    }
}
