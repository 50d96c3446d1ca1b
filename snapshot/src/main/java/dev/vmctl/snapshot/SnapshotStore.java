package dev.vmctl.snapshot;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import dev.vmctl.snapshot.SnapshotCorruptException.Damage;
import dev.vmctl.snapshot.SnapshotCorruptException.Problem;
import dev.vmctl.snapshot.SnapshotManifest.FileEntry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The snapshots of one data directory: {@code SNAPSHOTS_DIR/NAME/} holds the files of snapshot NAME and its
 * {@code manifest.json}. Creation is atomic: files are written into {@code .tmp-NAME-*}, the manifest last,
 * then the directory is renamed into place, so a crash never leaves a half snapshot under a valid name.
 * Deletion renames to {@code .del-NAME-*} first. Leftovers of both are {@link #orphans()}.
 *
 * <p>{@link #verify} recomputes the size and SHA-256 of every file and is the only way to a
 * {@link VerifiedSnapshot}, which is what a restore needs: a damaged snapshot is never booted.
 */
public final class SnapshotStore {
    static final String TMP_PREFIX = ".tmp-";
    static final String DEL_PREFIX = ".del-";
    static final String IMPORT_PREFIX = ".imp-";
    private static final Duration TAR_TIMEOUT = Duration.ofMinutes(30);
    private static final Pattern SNAPSHOT_NAME = Pattern.compile(Names.PATTERN);
    private static final Pattern TAR_LINE = Pattern.compile("(\\S+)\\s+(\\S+)\\s+(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)");

    private final Path root;
    private final Object lock = new Object();

    public SnapshotStore(Path snapshotsDir) {
        this.root = snapshotsDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("create " + root + ": " + e.getMessage(), e);
        }
    }

    public Path root() {
        return root;
    }

    /** The directory of snapshot {@code name} (whether or not it exists). */
    public Path dir(String name) {
        return root.resolve(Names.check("snapshot name", name));
    }

    public boolean exists(String name) {
        return Files.isDirectory(dir(name), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Starts a new snapshot: an empty temporary directory to put the files into. {@link Draft#commit} makes
     * it snapshot {@code name}; {@link Draft#close()} without a commit removes it.
     *
     * @throws VmctlException INVALID (name), CONFLICT (a snapshot of that name exists)
     */
    public Draft begin(String name) {
        Names.check("snapshot name", name);
        if (exists(name)) throw conflictExists(name);
        try {
            return new Draft(name, Files.createTempDirectory(root, TMP_PREFIX + name + "-"));
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "create snapshot " + name + ": " + e.getMessage(), null, e);
        }
    }

    /** All snapshots with a readable manifest, by name. Damaged or half-written directories are in {@link #orphans()}. */
    public List<SnapshotManifest> list() {
        List<SnapshotManifest> out = new ArrayList<>();
        for (Path d : entries()) {
            String n = d.getFileName().toString();
            if (n.startsWith(".") || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) continue;
            try {
                SnapshotManifest m = readManifest(d);
                if (m.name().equals(n)) out.add(m);
            } catch (VmctlException e) {
                // listed by orphans()
            }
        }
        out.sort(Comparator.comparing(SnapshotManifest::name));
        return out;
    }

    public Optional<SnapshotManifest> find(String name) {
        Path d = dir(name);
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        return Optional.of(readManifest(d));
    }

    /**
     * The manifest of snapshot {@code name}, read and checked (not the files: see {@link #verify}).
     *
     * @throws VmctlException NOT_FOUND, or INVALID when the manifest is missing or unreadable
     */
    public SnapshotManifest get(String name) {
        return find(name).orElseThrow(() -> VmctlException.notFound("snapshot", name));
    }

    /**
     * Recomputes the size and SHA-256 of every file of snapshot {@code name} and compares them with its
     * manifest; also refuses files the manifest does not list, links and other non-regular files.
     *
     * @return the snapshot, ready to restore from
     * @throws SnapshotCorruptException naming every damaged file and how (missing, truncated, grown, corrupted)
     * @throws VmctlException           NOT_FOUND, or INVALID for an unreadable manifest
     */
    public VerifiedSnapshot verify(String name) {
        SnapshotManifest m = get(name);
        Path d = dir(name);
        if (!m.name().equals(name)) {
            throw new SnapshotCorruptException(name, List.of(new Problem(SnapshotManifest.MANIFEST_FILE, Damage.CORRUPTED,
                    "names snapshot '" + m.name() + "', not '" + name + "'")));
        }
        Map<String, VerifiedSnapshot.Stamp> stamps = VerifiedSnapshot.stamps(d, m); // before hashing: a change meanwhile shows later
        VerifiedSnapshot known = verified.get(name);
        if (known != null && known.manifest().equals(m) && known.stamps().equals(stamps) && stamps.size() == m.files().size()
                && System.nanoTime() - known.verifiedAtNanos() < REVERIFY_NANOS) {
            return known; // hashed a moment ago and no file changed since (same size, mtime, inode): no second hash
        }
        checkFiles(name, d, m);
        VerifiedSnapshot v = new VerifiedSnapshot(m, d, stamps);
        verified.put(name, v);
        return v;
    }

    /**
     * Snapshots whose files were hashed, by name: a later {@link #verify} within {@link #REVERIFY_NANOS} whose files
     * all have the same size, modification time and inode is not hashed again (a clone of a 128 MiB snapshot would
     * otherwise spend ~0.3–2.5 s under load on SHA-256 every time).
     */
    private final Map<String, VerifiedSnapshot> verified = new java.util.concurrent.ConcurrentHashMap<>();
    static final long REVERIFY_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(10);

    /**
     * Deletes snapshot {@code name}. The directory is first renamed out of the way (atomic), then removed.
     *
     * @param inUse asked with the name before anything happens (e.g. "do clones still use it?"); may be null
     * @throws VmctlException NOT_FOUND, CONFLICT (in use)
     */
    public void delete(String name, Predicate<String> inUse) {
        verified.remove(name);
        Path d = dir(name);
        Path gone;
        synchronized (lock) {
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) throw VmctlException.notFound("snapshot", name);
            if (inUse != null && inUse.test(name)) {
                throw VmctlException.conflict("snapshot " + name + " is in use by clones", "delete or stop those VMs first");
            }
            try {
                gone = Files.createTempDirectory(root, DEL_PREFIX + name + "-");
                Files.delete(gone);
                Files.move(d, gone, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new VmctlException(Kind.INTERNAL, "delete snapshot " + name + ": " + e.getMessage(), null, e);
            }
        }
        try {
            dev.vmctl.host.FileTree.delete(gone);
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "delete snapshot " + name + ": removing " + gone + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Writes snapshot {@code name} to {@code tarZst} (a tar of its directory, holes kept, zstd-compressed),
     * after verifying it: a damaged snapshot is not exported. The archive is written beside the target and
     * renamed over it when complete.
     */
    public Path exportTo(String name, Path tarZst) {
        VerifiedSnapshot v = verify(name);
        Path out = tarZst.toAbsolutePath().normalize();
        if (!Files.isDirectory(out.getParent())) {
            throw VmctlException.invalid("export file", "directory " + out.getParent() + " does not exist", "a path in an existing directory");
        }
        requireTools();
        Path tmp = out.resolveSibling("." + out.getFileName() + ".part-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            CmdResult r = Cmd.run(List.of("tar", "--zstd", "--sparse", "--numeric-owner", "--owner=0", "--group=0",
                    "-cf", tmp.toString(), "-C", root.toString(), "--", v.manifest().name()), null, null, TAR_TIMEOUT);
            if (!r.ok()) throw new VmctlException(Kind.INTERNAL, "export snapshot " + name + ": tar failed: " + r.stderrTail(), null);
            SnapshotFiles.fsync(tmp);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return out;
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "export snapshot " + name + ": " + e.getMessage(), null, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }

    /** {@link #importFrom(Path, String)} under the name stored in the archive. */
    public SnapshotManifest importFrom(Path tarZst) {
        return importFrom(tarZst, null);
    }

    /**
     * Imports an archive written by {@link #exportTo}. The listing is checked before anything is unpacked:
     * exactly one top-level directory named like a snapshot, only plain files directly inside it, no links,
     * devices, absolute paths or {@code ..}. It is unpacked into a temporary directory, checked again,
     * verified against its manifest (sizes and SHA-256) and only then renamed into place.
     *
     * @param asName register under this name instead of the archive's (the manifest is rewritten); null: keep
     * @throws VmctlException INVALID (not a snapshot archive, unsafe entries), CONFLICT (name exists),
     *                        {@link SnapshotCorruptException} (files do not match the manifest)
     */
    public SnapshotManifest importFrom(Path tarZst, String asName) {
        Path archive = tarZst.toAbsolutePath().normalize();
        if (!Files.isRegularFile(archive)) throw VmctlException.notFound("snapshot archive", archive.toString());
        if (asName != null) Names.check("snapshot name", asName);
        requireTools();
        Listing listing = checkListing(archive);
        String name = listing.name();
        String target = asName != null ? asName : name;
        if (exists(target)) throw conflictExists(target);
        checkUnpackedSize(archive, listing);
        Path tmp;
        try {
            tmp = Files.createTempDirectory(root, IMPORT_PREFIX + target + "-");
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "import " + archive + ": " + e.getMessage(), null, e);
        }
        try {
            checkManifestFirst(archive, listing, tmp);
            CmdResult r = Cmd.run(List.of("tar", "--zstd", "-xf", archive.toString(), "-C", tmp.toString(),
                    "--no-same-owner", "--no-same-permissions", "--no-overwrite-dir"), null, null, TAR_TIMEOUT);
            if (!r.ok()) throw invalidArchive(archive, "tar failed: " + r.stderrTail());
            Path unpacked = checkUnpacked(archive, tmp, name);
            SnapshotManifest m = readManifest(unpacked);
            if (!m.name().equals(name)) throw invalidArchive(archive, "its manifest names snapshot '" + m.name() + "', its directory is '" + name + "'");
            checkFiles(name, unpacked, m);
            if (asName != null && !asName.equals(name)) {
                m = m.withName(asName);
                writeManifest(unpacked, m);
            }
            synchronized (lock) {
                if (exists(target)) throw conflictExists(target);
                Files.move(unpacked, root.resolve(target), StandardCopyOption.ATOMIC_MOVE);
            }
            SnapshotFiles.fsync(root);
            return m;
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "import " + archive + ": " + e.getMessage(), null, e);
        } finally {
            SnapshotFiles.deleteTreeQuietly(tmp);
        }
    }

    /**
     * What is in the store but is not a snapshot: leftovers of interrupted creates, imports and deletes
     * ({@code .tmp-*}, {@code .imp-*}, {@code .del-*}), directories without a readable manifest, stray files.
     * The server's reconciliation removes them with {@link #removeOrphans()} at start-up (when no create is running).
     */
    public List<Path> orphans() {
        List<Path> out = new ArrayList<>();
        for (Path d : entries()) {
            String n = d.getFileName().toString();
            if (n.startsWith(".") || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) || !SNAPSHOT_NAME.matcher(n).matches()) {
                out.add(d);
                continue;
            }
            try {
                if (!readManifest(d).name().equals(n)) out.add(d);
            } catch (VmctlException e) {
                out.add(d);
            }
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** Removes {@link #orphans()}; returns what was removed. Do not call while a snapshot is being created. */
    public List<Path> removeOrphans() {
        List<Path> removed = new ArrayList<>();
        for (Path p : orphans()) {
            try {
                dev.vmctl.host.FileTree.delete(p);
                removed.add(p);
            } catch (IOException e) {
                // left for next time
            }
        }
        return removed;
    }

    // ---- verification ----

    /** Compares the directory with the manifest: every listed file present, right size and SHA-256; nothing else. */
    static void checkFiles(String name, Path dir, SnapshotManifest m) {
        List<Problem> problems = new ArrayList<>();
        Map<String, FileEntry> expected = new TreeMap<>();
        for (FileEntry f : m.files()) expected.put(f.path(), f);
        Set<String> present = new HashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.equals(SnapshotManifest.MANIFEST_FILE)) continue;
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!expected.containsKey(n)) {
                    problems.add(new Problem(n, Damage.UNEXPECTED, "not listed in the manifest"));
                } else if (!a.isRegularFile()) {
                    problems.add(new Problem(n, Damage.UNEXPECTED, "not a regular file"));
                } else {
                    present.add(n);
                }
            }
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "verify snapshot " + name + ": " + e.getMessage(), null, e);
        }
        List<FileEntry> toHash = new ArrayList<>();
        for (FileEntry f : expected.values()) {
            if (!present.contains(f.path())) {
                if (problems.stream().noneMatch(p -> p.file().equals(f.path()))) {
                    problems.add(new Problem(f.path(), Damage.MISSING, "expected " + f.size() + " bytes"));
                }
                continue;
            }
            long size;
            try {
                size = Files.size(dir.resolve(f.path()));
            } catch (IOException e) {
                problems.add(new Problem(f.path(), Damage.UNREADABLE, e.getMessage()));
                continue;
            }
            if (size < f.size()) {
                problems.add(new Problem(f.path(), Damage.TRUNCATED, size + " of " + f.size() + " bytes"));
            } else if (size > f.size()) {
                problems.add(new Problem(f.path(), Damage.GROWN, size + " bytes, expected " + f.size()));
            } else {
                toHash.add(f);
            }
        }
        Map<String, Future<String>> hashes = new TreeMap<>();
        try (ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, Math.min(toHash.size(),
                Runtime.getRuntime().availableProcessors())))) {
            for (FileEntry f : toHash) hashes.put(f.path(), ex.submit(() -> dev.vmctl.host.FileTree.sha256(dir.resolve(f.path()))));
            for (FileEntry f : toHash) {
                try {
                    String got = hashes.get(f.path()).get();
                    if (!got.equals(f.sha256())) {
                        problems.add(new Problem(f.path(), Damage.CORRUPTED, "content does not match its SHA-256: expected "
                                + f.sha256().substring(0, 12) + "…, found " + got.substring(0, 12) + "…"));
                    }
                } catch (ExecutionException e) {
                    problems.add(new Problem(f.path(), Damage.UNREADABLE, String.valueOf(e.getCause().getMessage())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VmctlException(Kind.INTERNAL, "verify snapshot " + name + ": interrupted", null, e);
                }
            }
        }
        if (!problems.isEmpty()) {
            problems.sort(Comparator.comparing(Problem::file));
            throw new SnapshotCorruptException(name, problems);
        }
    }

    // ---- manifest I/O ----

    static SnapshotManifest readManifest(Path dir) {
        Path f = dir.resolve(SnapshotManifest.MANIFEST_FILE);
        byte[] json;
        try {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new VmctlException(Kind.INVALID, "snapshot " + dir.getFileName() + ": no manifest (incomplete or not a snapshot)", null);
            }
            json = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new VmctlException(Kind.INVALID, "snapshot " + dir.getFileName() + ": manifest unreadable: " + e.getMessage(), null, e);
        }
        try {
            return SnapshotManifest.fromJson(json);
        } catch (VmctlException e) {
            throw new VmctlException(Kind.INVALID, "snapshot " + dir.getFileName() + ": " + e.getMessage(), e.detail(), e);
        }
    }

    /** Writes the manifest through a temporary file + fsync + rename. */
    static void writeManifest(Path dir, SnapshotManifest m) throws IOException {
        Path tmp = dir.resolve("." + SnapshotManifest.MANIFEST_FILE + ".tmp");
        Files.write(tmp, m.toJson());
        SnapshotFiles.fsync(tmp);
        Files.move(tmp, dir.resolve(SnapshotManifest.MANIFEST_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        SnapshotFiles.fsync(dir);
    }

    // ---- archive checks ----

    /** Checks {@code tar -tv} output; returns the snapshot name (the single top-level directory). */
    /** The largest total a snapshot archive may unpack to: {@code -Dvmctl.snapshot.importMaxBytes}, default 32 GiB. */
    public static long maxImportBytes() {
        return Long.getLong("vmctl.snapshot.importMaxBytes", 32L << 30);
    }

    /** An import leaves at least this much free space in the data dir. */
    static final long IMPORT_FREE_RESERVE = 1L << 30;

    /** The largest manifest an archive may hold. */
    static final long MAX_MANIFEST_BYTES = 1 << 20;

    /** What {@code tar -tv} lists: the snapshot's directory and its files' sizes (the manifest's included). */
    record Listing(String name, Map<String, Long> sizes) {
        long total() {
            return sizes.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Before anything is unpacked: what the listing says the files add up to is at most {@link #maxImportBytes()}
     * and fits in the data dir's free space (less a reserve). A few KB of zstd can unpack to gigabytes.
     */
    private void checkUnpackedSize(Path archive, Listing listing) {
        long total = listing.total();
        long max = maxImportBytes();
        if (total > max) {
            throw invalidArchive(archive, "it unpacks to " + total + " bytes, more than an import may write (allowed: at most "
                    + max + " bytes; -Dvmctl.snapshot.importMaxBytes)");
        }
        long free;
        try {
            free = Files.getFileStore(root).getUsableSpace();
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "import " + archive.getFileName() + ": free space of " + root + ": " + e.getMessage(), null, e);
        }
        if (total > free - IMPORT_FREE_RESERVE) {
            throw new VmctlException(Kind.UNAVAILABLE, "import " + archive.getFileName() + ": it unpacks to " + total
                    + " bytes, the data dir has " + free + " bytes free", "at most the free space less " + IMPORT_FREE_RESERVE + " bytes");
        }
    }

    /**
     * Reads the archive's manifest alone (into {@code tmp}) and checks it against the listing before the rest is
     * unpacked: a valid manifest of this snapshot that lists exactly the archive's other files, at their sizes.
     */
    private static void checkManifestFirst(Path archive, Listing listing, Path tmp) throws IOException {
        String name = listing.name();
        long manifestBytes = listing.sizes().get(SnapshotManifest.MANIFEST_FILE);
        if (manifestBytes > MAX_MANIFEST_BYTES) {
            throw invalidArchive(archive, "its manifest is " + manifestBytes + " bytes (allowed: at most " + MAX_MANIFEST_BYTES + ")");
        }
        Path out = tmp.resolve(".manifest-first.json");
        try {
            CmdResult r = Cmd.run(List.of("tar", "--zstd", "-xOf", archive.toString(), "--", name + "/" + SnapshotManifest.MANIFEST_FILE),
                    null, out, TAR_TIMEOUT);
            if (!r.ok()) throw invalidArchive(archive, "cannot read its manifest: " + r.stderrTail());
            if (Files.size(out) > MAX_MANIFEST_BYTES) throw invalidArchive(archive, "its manifest is larger than " + MAX_MANIFEST_BYTES + " bytes");
            SnapshotManifest m;
            try {
                m = SnapshotManifest.fromJson(Files.readAllBytes(out));
            } catch (VmctlException e) {
                throw invalidArchive(archive, "its manifest is not valid: " + e.getMessage());
            }
            if (!m.name().equals(name)) throw invalidArchive(archive, "its manifest names snapshot '" + m.name() + "', its directory is '" + name + "'");
            Map<String, Long> files = new TreeMap<>(listing.sizes());
            files.remove(SnapshotManifest.MANIFEST_FILE);
            for (FileEntry f : m.files()) {
                Long size = files.remove(f.path());
                if (size == null) throw invalidArchive(archive, "its manifest lists " + f.path() + ", the archive does not hold it");
                if (size != f.size()) {
                    throw invalidArchive(archive, f.path() + " is " + size + " bytes in the archive, " + f.size() + " in its manifest");
                }
            }
            if (!files.isEmpty()) throw invalidArchive(archive, "files not listed in its manifest: " + String.join(", ", files.keySet()));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Listing checkListing(Path archive) {
        CmdResult r = Cmd.run(List.of("tar", "--zstd", "-tvf", archive.toString(), "--quoting-style=escape"), null, null, TAR_TIMEOUT);
        if (!r.ok()) throw invalidArchive(archive, "not a zstd-compressed tar: " + r.stderrTail());
        String name = null;
        Map<String, Long> sizes = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        boolean manifest = false;
        for (String line : r.stdout().split("\n")) {
            if (line.isBlank()) continue;
            var m = TAR_LINE.matcher(line.strip());
            if (!m.matches()) throw invalidArchive(archive, "entry not allowed (link or odd name): " + line.strip());
            char type = m.group(1).charAt(0);
            String path = m.group(6);
            String[] parts = path.split("/", -1);
            String top = parts[0];
            if (!SNAPSHOT_NAME.matcher(top).matches()) throw invalidArchive(archive, "entry outside a snapshot directory: " + path);
            if (name == null) name = top;
            else if (!name.equals(top)) throw invalidArchive(archive, "more than one top-level directory (" + name + ", " + top + ")");
            boolean isDir = type == 'd';
            if (isDir) {
                if (!(parts.length == 1 || (parts.length == 2 && parts[1].isEmpty()))) {
                    throw invalidArchive(archive, "nested directory not allowed: " + path);
                }
            } else if (type == '-') {
                if (parts.length != 2 || !SnapshotManifest.FILE_NAME.matcher(parts[1]).matches()) {
                    throw invalidArchive(archive, "file name not allowed: " + path);
                }
                if (!seen.add(parts[1])) throw invalidArchive(archive, "file appears twice: " + path);
                sizes.put(parts[1], Long.parseLong(m.group(3)));
                if (parts[1].equals(SnapshotManifest.MANIFEST_FILE)) manifest = true;
            } else {
                throw invalidArchive(archive, "only plain files allowed, not '" + type + "': " + path);
            }
        }
        if (name == null) throw invalidArchive(archive, "it is empty");
        if (!manifest) throw invalidArchive(archive, "it has no " + name + "/" + SnapshotManifest.MANIFEST_FILE);
        return new Listing(name, sizes);
    }

    /** After unpacking: exactly {@code tmp/name/} with plain files in it, nothing else. */
    private static Path checkUnpacked(Path archive, Path tmp, String name) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals(name) || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw invalidArchive(archive, "unexpected entry " + p.getFileName());
                }
            }
        }
        Path d = tmp.resolve(name);
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) throw invalidArchive(archive, "no directory " + name);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) throw invalidArchive(archive, "not a plain file: " + p.getFileName());
            }
        }
        return d;
    }

    private static VmctlException invalidArchive(Path archive, String why) {
        return new VmctlException(Kind.INVALID, "import " + archive.getFileName() + ": not a vmctl snapshot archive: " + why, null);
    }

    private static void requireTools() {
        for (String t : List.of("tar", "zstd")) {
            if (!Cmd.available(t)) throw new VmctlException(Kind.UNAVAILABLE, t + " is not installed", "install the Debian package " + t);
        }
    }

    private static VmctlException conflictExists(String name) {
        return VmctlException.conflict("snapshot " + name + " already exists", "choose another name or delete it first");
    }

    private List<Path> entries() {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) out.add(p);
        } catch (IOException e) {
            throw new UncheckedIOException("list " + root + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * A snapshot being created: put files into {@link #dir()} ({@link #path(String)}), then {@link #commit}.
     * Closing without a commit removes the directory.
     */
    public final class Draft implements AutoCloseable {
        private final String name;
        private final Path dir;
        private boolean done;

        private Draft(String name, Path dir) {
            this.name = name;
            this.dir = dir;
        }

        public String name() {
            return name;
        }

        public Path dir() {
            return dir;
        }

        /** A file of the draft; {@code file} is a plain name ({@code [A-Za-z0-9][A-Za-z0-9._-]*}). */
        public Path path(String file) {
            if (!SnapshotManifest.FILE_NAME.matcher(file).matches() || file.equals(SnapshotManifest.MANIFEST_FILE)) {
                throw VmctlException.invalid("snapshot file name", "'" + file + "'", "a plain file name");
            }
            return dir.resolve(file);
        }

        /**
         * Hashes every file of the draft, fills the manifest's file list (and the kernel/initrd checksums when
         * the manifest leaves them null), fsyncs the files, writes the manifest last and renames the directory
         * to the snapshot's name.
         *
         * @param manifest everything but {@code files} (ignored) and {@code name} (set to this draft's)
         * @throws VmctlException CONFLICT when another snapshot took the name meanwhile; INVALID when the
         *                        manifest does not fit the files; INTERNAL on I/O errors
         */
        public SnapshotManifest commit(SnapshotManifest manifest) {
            return commitVerified(manifest).manifest();
        }

        /**
         * {@link #commit}, returning the snapshot as verified: the commit has just checksummed every file it lists
         * (and nothing else is in the directory), which is what {@link #verify} would do again.
         */
        public VerifiedSnapshot commitVerified(SnapshotManifest manifest) {
            if (done) throw new IllegalStateException("draft " + name + " already committed or closed");
            try {
                List<Path> files = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                    for (Path p : ds) {
                        String n = p.getFileName().toString();
                        if (n.equals(SnapshotManifest.MANIFEST_FILE)) continue;
                        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || !SnapshotManifest.FILE_NAME.matcher(n).matches()) {
                            throw new VmctlException(Kind.INTERNAL, "snapshot " + name + ": unexpected entry " + n, null);
                        }
                        files.add(p);
                    }
                }
                files.sort(Comparator.naturalOrder());
                List<FileEntry> entries = new ArrayList<>();
                try (ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, Math.min(files.size(),
                        Runtime.getRuntime().availableProcessors())))) {
                    List<Future<FileEntry>> fs = new ArrayList<>();
                    for (Path p : files) {
                        fs.add(ex.submit(() -> {
                            SnapshotFiles.fsync(p);
                            return new FileEntry(p.getFileName().toString(), Files.size(p), dev.vmctl.host.FileTree.sha256(p));
                        }));
                    }
                    for (Future<FileEntry> f : fs) entries.add(f.get());
                } catch (ExecutionException e) {
                    throw new IOException(e.getCause().getMessage(), e.getCause());
                }
                SnapshotManifest m = fillImageChecksums(manifest.withName(name).withFiles(entries));
                m.validate();
                Map<String, VerifiedSnapshot.Stamp> stamps = VerifiedSnapshot.stamps(dir, m);
                writeManifest(dir, m);
                synchronized (lock) {
                    if (exists(name)) throw conflictExists(name);
                    Files.move(dir, root.resolve(name), StandardCopyOption.ATOMIC_MOVE);
                    done = true;
                }
                SnapshotFiles.fsync(root);
                return new VerifiedSnapshot(m, root.resolve(name), stamps);
            } catch (IOException e) {
                throw new VmctlException(Kind.INTERNAL, "create snapshot " + name + ": " + e.getMessage(), null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmctlException(Kind.INTERNAL, "create snapshot " + name + ": interrupted", null, e);
            }
        }

        /** Removes the directory unless committed (idempotent). */
        @Override
        public void close() {
            if (done) return;
            done = true;
            SnapshotFiles.deleteTreeQuietly(dir);
        }
    }

    private static SnapshotManifest fillImageChecksums(SnapshotManifest m) {
        SnapshotManifest.Vm vm = m.vm();
        if (vm == null) return m;
        FileEntry k = m.file(SnapshotManifest.KERNEL_FILE);
        FileEntry i = m.file(SnapshotManifest.INITRD_FILE);
        String ks = vm.kernelSha256();
        String is = vm.initrdSha256();
        if (k != null && ks != null && !ks.equals(k.sha256())) {
            throw new VmctlException(Kind.CONFLICT, "snapshot " + m.name() + ": kernel " + vm.kernel()
                    + " changed since the VM booted (SHA-256 differs from the image's)", null);
        }
        if (i != null && is != null && !is.equals(i.sha256())) {
            throw new VmctlException(Kind.CONFLICT, "snapshot " + m.name() + ": initrd " + vm.initrd()
                    + " changed since the VM booted (SHA-256 differs from the image's)", null);
        }
        SnapshotManifest.Vm filled = new SnapshotManifest.Vm(vm.name(), vm.image(), vm.kernel(),
                ks != null ? ks : k == null ? null : k.sha256(), vm.initrd(), is != null ? is : i == null ? null : i.sha256(),
                vm.cpus(), vm.memoryMiB(), vm.accel(), vm.extraCmdline(), vm.nics());
        return new SnapshotManifest(m.formatVersion(), m.name(), m.createdAt(), m.parent(), filled, m.state(), m.disk(), m.files());
    }

    /** Now, to the second, ISO-8601 UTC (the manifest's createdAt). */
    static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
