package dev.vmctl.artifact;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.host.FileTree;
import dev.vmctl.model.ArtifactView;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The host's content-addressed artifact cache, {@code DATA/artifacts/}: {@code blobs/SHA256} (files, read-only),
 * {@code trees/SHA256/} (directories, by {@link Digests#ofTree}), {@code meta/SHA256.json} (name, size, sources,
 * commit, when fetched), {@code keys/KEY} (an immutable source — a URL with its SHA-256, a Maven release, a git
 * commit — to the digest it gave, so that it is never fetched twice), {@code tmp/} (downloads under way; emptied at
 * start-up), {@code maven/} (Maven Resolver's local repository) and {@code git/} (bare mirrors of git sources).
 * Entries appear whole: staged under {@code tmp/}, then renamed into place.
 */
public final class ArtifactCache {
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public enum Type { FILE, DIRECTORY;
        public String wire() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** One cached artifact: its content's digest and where that content lies on the host. */
    public record Cached(String sha256, Type type, String name, long size, int files, String commit, Path path,
                         List<String> sources, String fetchedAt) {
        public ArtifactView view() {
            return new ArtifactView(sha256, type.wire(), name, size, files, sources, commit, fetchedAt);
        }
    }

    /** What {@code meta/SHA256.json} holds. */
    record Meta(String sha256, String type, String name, long size, int files, String commit, List<String> sources, String fetchedAt) {}

    private final Path root;

    public ArtifactCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
        try {
            for (String d : List.of("blobs", "trees", "meta", "keys", "tmp", "maven", "git")) Files.createDirectories(this.root.resolve(d));
            // downloads a crash interrupted
            try (Stream<Path> s = Files.list(this.root.resolve("tmp"))) {
                for (Path p : s.toList()) FileTree.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("artifact cache " + this.root + ": " + e.getMessage(), e);
        }
    }

    public Path root() { return root; }
    Path mavenRepo() { return root.resolve("maven"); }
    Path gitDir() { return root.resolve("git"); }

    /** A fresh path under tmp/ (nothing there yet). */
    public Path staging(String hint) {
        return root.resolve("tmp").resolve(UUID.randomUUID() + "-" + hint.replaceAll("[^A-Za-z0-9._-]", "_"));
    }

    public Optional<Cached> get(String sha256) {
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) return Optional.empty();
        Path meta = root.resolve("meta").resolve(sha256 + ".json");
        if (!Files.exists(meta)) return Optional.empty();
        try {
            Meta m = JSON.readValue(meta.toFile(), Meta.class);
            Type t = Type.valueOf(m.type().toUpperCase(java.util.Locale.ROOT));
            Path p = t == Type.FILE ? blob(sha256) : tree(sha256);
            if (!Files.exists(p)) return Optional.empty();
            return Optional.of(new Cached(sha256, t, m.name(), m.size(), m.files(), m.commit(), p, m.sources(), m.fetchedAt()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // a damaged entry is fetched again
        }
    }

    /** The entry an immutable source gave before, when it is still there. */
    public Optional<Cached> byKey(String key) {
        Path k = keyFile(key);
        try {
            return Files.exists(k) ? get(Files.readString(k).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Takes a staged file (whose SHA-256 the caller computed while writing it) into the cache; a file with the same
     * content already there is kept and the staged one removed. {@code key}: an immutable source's key, or null.
     */
    public synchronized Cached putFile(Path staged, String sha256, String name, String source, String key, String commit) {
        try {
            Path target = blob(sha256);
            if (Files.exists(target)) {
                Files.deleteIfExists(staged);
            } else {
                Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString("r--r--r--"));
                move(staged, target);
            }
            return record(sha256, Type.FILE, name, Files.size(target), 1, commit, source, key);
        } catch (IOException e) {
            throw VmctlException.internal("artifact cache: store " + name + ": " + e.getMessage(), e);
        }
    }

    /** Records one more source (and its key) for an entry that is there already. */
    public synchronized Cached addSource(Cached c, String source, String key) {
        try {
            return record(c.sha256(), c.type(), c.name(), c.size(), c.files(), c.commit(), source, key);
        } catch (IOException e) {
            throw VmctlException.internal("artifact cache: record " + c.name() + ": " + e.getMessage(), e);
        }
    }

    /** Takes a staged directory into the cache under its tree digest. */
    public synchronized Cached putTree(Path staged, String name, String source, String key, String commit) {
        try {
            Digests.Tree t = Digests.ofTree(staged);
            Path target = tree(t.sha256());
            if (Files.exists(target)) {
                FileTree.delete(staged);
            } else {
                try {
                    move(staged, target);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                    FileTree.delete(staged);
                }
            }
            return record(t.sha256(), Type.DIRECTORY, name, t.size(), t.files(), commit, source, key);
        } catch (IOException e) {
            throw VmctlException.internal("artifact cache: store " + name + ": " + e.getMessage(), e);
        }
    }

    private Cached record(String sha, Type type, String name, long size, int files, String commit, String source, String key)
            throws IOException {
        Path metaFile = root.resolve("meta").resolve(sha + ".json");
        List<String> sources = new ArrayList<>();
        String fetchedAt = Instant.now().toString();
        if (Files.exists(metaFile)) {
            try {
                Meta old = JSON.readValue(metaFile.toFile(), Meta.class);
                if (old.sources() != null) sources.addAll(old.sources());
                if (old.fetchedAt() != null) fetchedAt = old.fetchedAt();
                if (commit == null) commit = old.commit();
            } catch (IOException ignored) {
                // rewritten below
            }
        }
        if (!sources.contains(source)) sources.add(source);
        Meta m = new Meta(sha, type.wire(), name, size, files, commit, sources, fetchedAt);
        writeAtomically(metaFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        if (key != null) writeAtomically(keyFile(key), sha.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path p = type == Type.FILE ? blob(sha) : tree(sha);
        return new Cached(sha, type, name, size, files, commit, p, List.copyOf(sources), fetchedAt);
    }

    /**
     * Removes the entry {@code sha256} (its file or tree and its metadata); the source keys that named it then find
     * nothing and a later fetch downloads again. Empty when there is no such entry.
     */
    public synchronized Optional<Cached> remove(String sha256) {
        Optional<Cached> c = get(sha256);
        if (c.isEmpty()) return c;
        try {
            Files.deleteIfExists(root.resolve("meta").resolve(sha256 + ".json")); // first: a half-removed entry is not listed
            if (c.get().type() == Type.FILE) Files.deleteIfExists(blob(sha256));
            else FileTree.delete(tree(sha256));
        } catch (IOException e) {
            throw new UncheckedIOException("remove artifact " + sha256 + ": " + e.getMessage(), e);
        }
        return c;
    }

    /** Every entry, newest first. */
    public List<Cached> list() {
        List<Cached> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root.resolve("meta"))) {
            for (Path p : s.toList()) {
                String f = p.getFileName().toString();
                if (f.endsWith(".json")) get(f.substring(0, f.length() - 5)).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(Comparator.comparing(Cached::fetchedAt).reversed());
        return out;
    }

    Path blob(String sha) { return root.resolve("blobs").resolve(sha); }
    Path tree(String sha) { return root.resolve("trees").resolve(sha); }

    private Path keyFile(String key) {
        return root.resolve("keys").resolve(Digests.ofText(key));
    }

    private void writeAtomically(Path target, byte[] data) throws IOException {
        Path tmp = staging(target.getFileName().toString());
        Files.write(tmp, data);
        move(tmp, target);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }
}
