package dev.vmctl.artifact;

import dev.vmctl.model.ArtifactSpec;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.repository.RepositoryPolicy;
import org.eclipse.aether.resolution.ArtifactRequest;
import org.eclipse.aether.resolution.ArtifactResolutionException;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.supplier.SessionBuilderSupplier;
import org.eclipse.aether.transfer.ArtifactNotFoundException;
import org.eclipse.aether.transfer.ChecksumFailureException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Maven coordinates {@code group:artifact[:ext[:classifier]]:version} resolved with Maven Resolver (the library
 * Maven itself uses, wired by its mvn3 supplier) from Maven Central or the artifact's {@code repo}, into the
 * Resolver's own local repository under the cache ({@code DATA/artifacts/maven}), then into the cache. The
 * repository's checksums are enforced (checksum policy {@code fail}: a download whose .sha1/.md5 does not match is
 * an error). A release once cached is not asked for again; a SNAPSHOT or a version range is resolved every time.
 * The artifact's file name is {@code artifactId-version[-classifier].ext}.
 */
final class MavenSource implements AutoCloseable {
    private final ArtifactCache cache;
    private final String defaultRepo;
    private RepositorySystem system; // made on first use (Resolver's wiring takes a moment)

    MavenSource(ArtifactCache cache, String defaultRepo) {
        this.cache = cache;
        this.defaultRepo = defaultRepo;
    }

    /** {@code g:a:v}, {@code g:a:ext:v}, {@code g:a:ext:classifier:v} (Maven's own {@code g:a[:ext[:cls]]:v} order). */
    static Artifact coordinates(String c) {
        String[] p = c.split(":", -1);
        return switch (p.length) {
            case 3 -> new DefaultArtifact(p[0], p[1], "", "jar", p[2]);
            case 4 -> new DefaultArtifact(p[0], p[1], "", p[2], p[3]);
            case 5 -> new DefaultArtifact(p[0], p[1], p[3], p[2], p[4]);
            default -> throw new IllegalArgumentException(c);
        };
    }

    /** artifactId-version[-classifier].ext */
    static String fileName(Artifact a) {
        return a.getArtifactId() + "-" + a.getVersion() + (a.getClassifier().isEmpty() ? "" : "-" + a.getClassifier()) + "." + a.getExtension();
    }

    private static boolean immutable(String version) {
        return !version.endsWith("SNAPSHOT") && !version.startsWith("[") && !version.startsWith("(")
                && !version.equals("LATEST") && !version.equals("RELEASE");
    }

    ArtifactCache.Cached fetch(ArtifactSpec spec) {
        String repoUrl = spec.repo() != null ? spec.repo() : defaultRepo;
        if (!repoUrl.endsWith("/")) repoUrl += "/";
        Artifact want = coordinates(spec.maven());
        String source = "maven=" + spec.maven() + (spec.repo() == null ? "" : " (" + repoUrl + ")");
        String key = "maven|" + repoUrl + "|" + spec.maven();
        boolean immutable = immutable(want.getVersion());
        if (immutable) {
            var known = cache.byKey(key);
            if (known.isPresent()) return known.get();
        }
        RemoteRepository repo = new RemoteRepository.Builder("vmctl-maven", "default", repoUrl)
                .setPolicy(new RepositoryPolicy(true, RepositoryPolicy.UPDATE_POLICY_DAILY, RepositoryPolicy.CHECKSUM_POLICY_FAIL))
                .build();
        ArtifactResult result;
        try (RepositorySystemSession.CloseableSession session = new SessionBuilderSupplier(system()).get()
                .withLocalRepositoryBaseDirectories(cache.mavenRepo())
                .setChecksumPolicy(RepositoryPolicy.CHECKSUM_POLICY_FAIL)
                .setSystemProperties(System.getProperties())
                .setConfigProperty("aether.connector.connectTimeout", 10_000)
                .setConfigProperty("aether.connector.requestTimeout", 600_000)
                .build()) {
            result = system().resolveArtifact(session, new ArtifactRequest(want, List.of(repo), null));
        } catch (ArtifactResolutionException e) {
            throw ArtifactFetcher.fail(spec, cause(e, repoUrl), "coordinates " + ArtifactSpec.MAVEN + " that " + repoUrl + " serves");
        } catch (IllegalArgumentException e) {
            throw ArtifactFetcher.fail(spec, e.getMessage(), ArtifactSpec.MAVEN);
        }
        Artifact got = result.getArtifact();
        Path file = got.getPath();
        String name = fileName(got);
        Path staged = cache.staging(name);
        try (InputStream in = Files.newInputStream(file); OutputStream out = Files.newOutputStream(staged)) {
            Digests.Copied c = Digests.copy(in, out);
            out.close();
            return cache.putFile(staged, c.sha256(), name, source, immutable ? key : null, null);
        } catch (IOException e) {
            ArtifactFetcher.deleteQuietly(staged);
            throw ArtifactFetcher.fail(spec, "cannot read the resolved file " + file + ": " + e.getMessage(), null);
        }
    }

    /** The reason a resolution failed, in a line: not found, a checksum that did not match, or the transfer's error. */
    private static String cause(ArtifactResolutionException e, String repoUrl) {
        for (ArtifactResult r : e.getResults()) {
            for (Exception x : r.getExceptions()) {
                for (Throwable t = x; t != null; t = t.getCause()) {
                    if (t instanceof ChecksumFailureException c) return "checksum failure from " + repoUrl + ": " + c.getMessage();
                }
            }
        }
        for (ArtifactResult r : e.getResults()) {
            for (Exception x : r.getExceptions()) {
                if (x instanceof ArtifactNotFoundException) return "not found in " + repoUrl;
            }
        }
        for (ArtifactResult r : e.getResults()) {
            for (Exception x : r.getExceptions()) {
                Throwable root = x;
                while (root.getCause() != null) root = root.getCause();
                return "cannot fetch from " + repoUrl + ": " + (root.getMessage() == null ? root.toString() : root.getMessage());
            }
        }
        return e.getMessage();
    }

    private synchronized RepositorySystem system() {
        if (system == null) system = new RepositorySystemSupplier().get();
        return system;
    }

    @Override
    public synchronized void close() {
        if (system != null) system.shutdown();
        system = null;
    }
}
