package dev.vmctl.artifact;

import dev.vmctl.host.FileTree;
import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Locale;

/**
 * Fetches an artifact's source into the {@link ArtifactCache} and answers with the cache entry: a local file or
 * directory (read as it is now, every time), an HTTP(S) download checked against its required SHA-256 (never
 * downloaded again once cached), Maven coordinates ({@link MavenSource}) or a git ref ({@link GitSource}). Every
 * failure is an INVALID {@link VmctlException} whose message names the artifact and the cause; nothing is left in
 * the cache then.
 */
public final class ArtifactFetcher implements AutoCloseable {
    /** The Maven repository used when an artifact names none: Maven Central, or {@code VMCTL_MAVEN_REPO}. */
    public static final String DEFAULT_MAVEN_REPO = "https://repo.maven.apache.org/maven2/";

    private final ArtifactCache cache;
    private final HttpClient http;
    private final MavenSource maven;
    private final GitSource git;

    public ArtifactFetcher(ArtifactCache cache, String defaultMavenRepo) {
        this.cache = cache;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(10)).build();
        this.maven = new MavenSource(cache, defaultMavenRepo == null || defaultMavenRepo.isBlank() ? DEFAULT_MAVEN_REPO : defaultMavenRepo);
        this.git = new GitSource(cache);
    }

    public ArtifactCache cache() { return cache; }

    /** The cache key that names a source's fetch lane: the same source is fetched by one caller at a time. */
    public static String laneKey(ArtifactSpec spec) {
        ArtifactSpec.Kind k = spec.kind();
        String v = k == null ? "?" : k.field + "=" + spec.value(k) + "|" + spec.ref() + "|" + spec.repo();
        return Digests.ofText(v).substring(0, 16);
    }

    /** Fetches (or finds) the artifact; {@code spec} must be valid ({@link ArtifactSpec#problems}). */
    public ArtifactCache.Cached fetch(ArtifactSpec spec) {
        ArtifactSpec.Kind k = spec.kind();
        if (k == null) throw fail(spec, "no single source", ArtifactSpec.SOURCES);
        ArtifactCache.Cached c = switch (k) {
            case SRC -> local(spec);
            case URL -> url(spec);
            case MAVEN -> maven.fetch(spec);
            case GIT -> git.fetch(spec);
        };
        if (spec.sha256() != null && !spec.sha256().equalsIgnoreCase(c.sha256())) {
            throw fail(spec, "checksum mismatch: expected sha256 " + spec.sha256().toLowerCase(Locale.ROOT) + ", got " + c.sha256(),
                    "the SHA-256 of the content (sha256sum FILE)");
        }
        return c;
    }

    static VmctlException fail(ArtifactSpec spec, String cause, String detail) {
        return new VmctlException(VmctlException.Kind.INVALID, "artifact " + spec.describe() + ": " + cause, detail);
    }

    // ---------------------------------------------------------------- local file or directory

    private ArtifactCache.Cached local(ArtifactSpec spec) {
        Path src = Path.of(spec.src());
        if (!src.isAbsolute()) throw fail(spec, "'" + spec.src() + "' is not an absolute path on the server's host",
                "an absolute path (the CLI makes a relative one absolute)");
        String name = src.getFileName() == null ? "root" : src.getFileName().toString();
        String source = "src=" + spec.src();
        if (!Files.exists(src, LinkOption.NOFOLLOW_LINKS) && !Files.exists(src)) throw fail(spec, "no such file or directory", null);
        if (Files.isDirectory(src)) {
            Path staged = cache.staging(name);
            try {
                copyTree(src, staged);
                return cache.putTree(staged, name, source, null, null);
            } catch (AccessDeniedException e) {
                deleteQuietly(staged);
                throw fail(spec, "cannot read " + e.getFile() + ": permission denied", null);
            } catch (IOException e) {
                deleteQuietly(staged);
                throw fail(spec, "cannot read: " + e.getMessage(), null);
            }
        }
        if (!Files.isRegularFile(src)) throw fail(spec, "not a regular file or directory", null);
        if (!Files.isReadable(src)) throw fail(spec, "cannot read: permission denied", null);
        Path staged = cache.staging(name);
        try (InputStream in = Files.newInputStream(src); OutputStream out = Files.newOutputStream(staged)) {
            Digests.Copied c = Digests.copy(in, out);
            out.close();
            return cache.putFile(staged, c.sha256(), name, source, null, null);
        } catch (AccessDeniedException e) {
            deleteQuietly(staged);
            throw fail(spec, "cannot read: permission denied", null);
        } catch (IOException e) {
            deleteQuietly(staged);
            throw fail(spec, "cannot read: " + e.getMessage(), null);
        }
    }

    /** Copies a tree: files with their contents and the owner's execute bit, symlinks as they are, no special files. */
    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path d = to.resolve(from.relativize(dir).toString());
                Files.createDirectories(d);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path t = to.resolve(from.relativize(file).toString());
                if (attrs.isSymbolicLink()) {
                    Files.createSymbolicLink(t, Files.readSymbolicLink(file));
                } else if (attrs.isRegularFile()) {
                    Files.copy(file, t, StandardCopyOption.COPY_ATTRIBUTES);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString(Digests.executable(file) ? "rwxr-xr-x" : "rw-r--r--"));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                throw exc;
            }
        });
        // walkFileTree does not follow symlinks: a symlinked directory was copied as a link above
    }

    // ---------------------------------------------------------------- HTTP(S)

    private ArtifactCache.Cached url(ArtifactSpec spec) {
        String want = spec.sha256().toLowerCase(Locale.ROOT);
        String key = "url|" + spec.url() + "|" + want;
        var known = cache.get(want);
        if (known.isPresent() && known.get().type() == ArtifactCache.Type.FILE) {
            return cache.addSource(known.get(), "url=" + spec.url(), key);
        }
        URI uri;
        try {
            uri = URI.create(spec.url());
        } catch (IllegalArgumentException e) {
            throw fail(spec, "not a URL: " + e.getMessage(), "http://… or https://…");
        }
        String name = fileName(uri);
        Path staged = cache.staging(name);
        try {
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30)).GET().build();
            HttpResponse<InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = res.body()) {
                if (res.statusCode() / 100 != 2) {
                    throw fail(spec, "the server answered HTTP " + res.statusCode(), "a URL that answers 200 with the file");
                }
                Digests.Copied c;
                try (OutputStream out = Files.newOutputStream(staged)) {
                    c = Digests.copy(in, out);
                }
                if (!c.sha256().equals(want)) {
                    throw fail(spec, "checksum mismatch: expected sha256 " + want + ", got " + c.sha256() + " (" + c.bytes() + " bytes)",
                            "the SHA-256 of the file the URL serves (sha256sum FILE)");
                }
                return cache.putFile(staged, c.sha256(), name, "url=" + spec.url(), key, null);
            }
        } catch (HttpConnectTimeoutException e) {
            throw fail(spec, "unreachable: connection timed out", null);
        } catch (HttpTimeoutException e) {
            throw fail(spec, "unreachable: timed out", null);
        } catch (ConnectException e) {
            throw fail(spec, "unreachable: connection refused", null);
        } catch (IOException e) {
            throw fail(spec, "unreachable: " + (e.getMessage() == null ? e.toString() : e.getMessage()), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail(spec, "interrupted", null);
        } finally {
            deleteQuietly(staged);
        }
    }

    /** The last path segment of a URL, decoded; "download" when there is none. */
    static String fileName(URI uri) {
        String p = uri.getRawPath() == null ? "" : uri.getRawPath();
        String last = p.substring(p.lastIndexOf('/') + 1);
        String n = URLDecoder.decode(last, StandardCharsets.UTF_8);
        if (n.isBlank() || n.equals(".") || n.equals("..") || n.contains("/") || n.contains("\0")) return "download";
        return n;
    }

    static void deleteQuietly(Path p) {
        try {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) FileTree.delete(p);
        } catch (IOException | RuntimeException ignored) {
            // tmp/ is emptied at the next start
        }
    }

    @Override
    public void close() {
        maven.close();
        http.close();
    }
}
