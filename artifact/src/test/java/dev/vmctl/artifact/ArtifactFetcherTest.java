package dev.vmctl.artifact;

import com.sun.net.httpserver.HttpServer;
import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.VmctlException;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each source into a real cache: local files and trees, HTTP from a JDK server on 127.0.0.1, git from a local JGit repository. */
class ArtifactFetcherTest {
    @TempDir
    Path tmp;
    ArtifactCache cache;
    ArtifactFetcher fetcher;

    @BeforeEach
    void setUp() {
        cache = new ArtifactCache(tmp.resolve("data/artifacts"));
        fetcher = new ArtifactFetcher(cache, null);
    }

    @AfterEach
    void tearDown() {
        fetcher.close();
    }

    static ArtifactSpec spec(String cli) {
        return ArtifactSpec.parse(cli).check("artifact", false);
    }

    @Test
    void localFileIsCachedByContentOnce() throws Exception {
        Path f = tmp.resolve("app.bin");
        Files.writeString(f, "hello");
        ArtifactCache.Cached c = fetcher.fetch(spec("src=" + f));
        assertThat(c.sha256()).isEqualTo(Digests.ofText("hello"));
        assertThat(c.name()).isEqualTo("app.bin");
        assertThat(c.type()).isEqualTo(ArtifactCache.Type.FILE);
        assertThat(Files.readString(c.path())).isEqualTo("hello");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(c.path()))).isEqualTo("r--r--r--");
        // the same content from another file: one entry, two sources
        Path g = tmp.resolve("copy.bin");
        Files.writeString(g, "hello");
        ArtifactCache.Cached d = fetcher.fetch(spec("src=" + g));
        assertThat(d.sha256()).isEqualTo(c.sha256());
        assertThat(cache.list()).hasSize(1);
        assertThat(cache.list().getFirst().sources()).containsExactly("src=" + f, "src=" + g);
        // a changed file is read again
        Files.writeString(f, "hello again");
        assertThat(fetcher.fetch(spec("src=" + f)).sha256()).isEqualTo(Digests.ofText("hello again"));
        assertThat(cache.list()).hasSize(2);
        // a sha256 given with a file is checked
        assertThatThrownBy(() -> fetcher.fetch(spec("src=" + g + ",sha256=" + "0".repeat(64))))
                .hasMessageContaining("checksum mismatch").hasMessageContaining("src=" + g);
        // the cache survives a restart (a new cache object on the same folder)
        assertThat(new ArtifactCache(cache.root()).get(c.sha256())).isPresent();
    }

    @Test
    void localDirectoryIsATreeWithModes() throws Exception {
        Path d = tmp.resolve("build/app");
        Files.createDirectories(d.resolve("bin"));
        Files.writeString(d.resolve("bin/run"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(d.resolve("bin/run"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(d.resolve("conf.txt"), "x=1\n");
        ArtifactCache.Cached c = fetcher.fetch(spec("src=" + d));
        assertThat(c.type()).isEqualTo(ArtifactCache.Type.DIRECTORY);
        assertThat(c.name()).isEqualTo("app");
        assertThat(c.files()).isEqualTo(2);
        assertThat(c.size()).isEqualTo(Files.size(d.resolve("bin/run")) + 4);
        assertThat(Files.isExecutable(c.path().resolve("bin/run"))).isTrue();
        assertThat(Files.readString(c.path().resolve("conf.txt"))).isEqualTo("x=1\n");
        // the digest depends on content and modes, not on where the tree is
        Path copy = tmp.resolve("elsewhere/app");
        ArtifactFetcher.copyTree(d, copy);
        assertThat(Digests.ofTree(copy).sha256()).isEqualTo(c.sha256());
        Files.setPosixFilePermissions(copy.resolve("bin/run"), PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Digests.ofTree(copy).sha256()).isNotEqualTo(c.sha256());
    }

    @Test
    void unreadablePathsNameTheArtifact() throws Exception {
        assertThatThrownBy(() -> fetcher.fetch(spec("src=" + tmp.resolve("missing"))))
                .isInstanceOf(VmctlException.class).hasMessageContaining("src=" + tmp.resolve("missing")).hasMessageContaining("no such file");
        assertThatThrownBy(() -> fetcher.fetch(spec("src=relative/path"))).hasMessageContaining("not an absolute path");
        assertThat(cache.list()).isEmpty();
    }

    @Test
    void httpDownloadIsCheckedAndFetchedOnce() throws Exception {
        byte[] body = "tool archive bytes".getBytes(StandardCharsets.UTF_8);
        AtomicInteger hits = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/tool.tar.gz", ex -> {
            hits.incrementAndGet();
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            String sha = Digests.hex(Digests.sha256().digest(body));
            // wrong checksum: refused, nothing cached
            assertThatThrownBy(() -> fetcher.fetch(spec("url=" + base + "/tool.tar.gz,sha256=" + "0".repeat(64))))
                    .hasMessageContaining("url=" + base + "/tool.tar.gz").hasMessageContaining("checksum mismatch")
                    .hasMessageContaining(sha);
            assertThat(cache.list()).isEmpty();
            ArtifactCache.Cached c = fetcher.fetch(spec("url=" + base + "/tool.tar.gz,sha256=" + sha));
            assertThat(c.name()).isEqualTo("tool.tar.gz");
            assertThat(Files.readAllBytes(c.path())).isEqualTo(body);
            int before = hits.get();
            assertThat(fetcher.fetch(spec("url=" + base + "/tool.tar.gz,sha256=" + sha.toUpperCase())).sha256()).isEqualTo(sha);
            assertThat(hits.get()).as("a cached download is not fetched again").isEqualTo(before);
            assertThatThrownBy(() -> fetcher.fetch(spec("url=" + base + "/missing.bin,sha256=" + "1".repeat(64))))
                    .hasMessageContaining("HTTP 404");
        } finally {
            server.stop(0);
        }
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        assertThatThrownBy(() -> fetcher.fetch(spec("url=http://127.0.0.1:" + closedPort + "/x,sha256=" + "2".repeat(64))))
                .hasMessageContaining("unreachable");
    }

    @Test
    void gitAtATagAndAtHead() throws Exception {
        Path work = tmp.resolve("cfg");
        String tagged;
        String later;
        try (Git git = Git.init().setDirectory(work.toFile()).setInitialBranch("main").call()) {
            Files.writeString(work.resolve("app.conf"), "version=1\n");
            Files.createDirectories(work.resolve("bin"));
            Files.writeString(work.resolve("bin/start"), "#!/bin/sh\n");
            Files.setPosixFilePermissions(work.resolve("bin/start"), PosixFilePermissions.fromString("rwxr-xr-x"));
            git.add().addFilepattern(".").call();
            tagged = git.commit().setMessage("v1.2").setAuthor("t", "t@example.invalid").setCommitter("t", "t@example.invalid").call().name();
            git.tag().setName("v1.2").setAnnotated(true).setMessage("release").call();
            Files.writeString(work.resolve("app.conf"), "version=2\n");
            git.add().addFilepattern(".").call();
            later = git.commit().setMessage("later").setAuthor("t", "t@example.invalid").setCommitter("t", "t@example.invalid").call().name();
        }
        ArtifactCache.Cached v12 = fetcher.fetch(spec("git=" + work + ",ref=v1.2"));
        assertThat(v12.commit()).isEqualTo(tagged);
        assertThat(v12.type()).isEqualTo(ArtifactCache.Type.DIRECTORY);
        assertThat(v12.name()).isEqualTo("cfg");
        assertThat(Files.readString(v12.path().resolve("app.conf"))).isEqualTo("version=1\n");
        assertThat(Files.isExecutable(v12.path().resolve("bin/start"))).isTrue();
        assertThat(Files.exists(v12.path().resolve(".git"))).isFalse();
        ArtifactCache.Cached head = fetcher.fetch(spec("git=" + work));
        assertThat(head.commit()).isEqualTo(later);
        assertThat(Files.readString(head.path().resolve("app.conf"))).isEqualTo("version=2\n");
        assertThat(fetcher.fetch(spec("git=" + work + ",ref=main")).sha256()).isEqualTo(head.sha256());
        assertThat(fetcher.fetch(spec("git=" + work + ",ref=" + tagged.substring(0, 10))).sha256()).isEqualTo(v12.sha256());
        assertThatThrownBy(() -> fetcher.fetch(spec("git=" + work + ",ref=v9")))
                .hasMessageContaining("git=" + work + "@v9").hasMessageContaining("ref 'v9' not found").hasMessageContaining("v1.2");
        assertThatThrownBy(() -> fetcher.fetch(spec("git=" + tmp.resolve("nothing-here"))))
                .hasMessageContaining("cannot clone");
    }
}
