package dev.vmctl.artifact;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Removing a cache entry: its file or tree and its metadata go; the source's key then finds nothing and a fetch reads it again. */
class ArtifactCacheRemoveTest {
    @TempDir
    Path tmp;

    @Test
    void aFileAndATreeAreRemovedAndFetchedAgain() throws Exception {
        ArtifactCache cache = new ArtifactCache(tmp.resolve("data/artifacts"));
        ArtifactFetcher fetcher = new ArtifactFetcher(cache, null);
        Path f = tmp.resolve("app.bin");
        Files.writeString(f, "hello");
        Path d = tmp.resolve("conf");
        Files.createDirectories(d.resolve("sub"));
        Files.writeString(d.resolve("sub/a.txt"), "a");
        ArtifactCache.Cached file = fetcher.fetch(ArtifactFetcherTest.spec("src=" + f));
        ArtifactCache.Cached tree = fetcher.fetch(ArtifactFetcherTest.spec("src=" + d));
        assertThat(cache.list()).hasSize(2);

        assertThat(cache.remove(file.sha256())).map(ArtifactCache.Cached::name).contains("app.bin");
        assertThat(Files.exists(file.path())).isFalse();
        assertThat(cache.get(file.sha256())).isEmpty();
        assertThat(cache.list()).extracting(ArtifactCache.Cached::sha256).containsExactly(tree.sha256());
        assertThat(cache.remove(file.sha256())).as("gone already").isEmpty();

        assertThat(cache.remove(tree.sha256())).isPresent();
        assertThat(Files.exists(tree.path())).isFalse();
        assertThat(cache.list()).isEmpty();
        assertThat(cache.remove("not-a-digest")).isEmpty();

        // the same source again: fetched anew, same digest
        assertThat(fetcher.fetch(ArtifactFetcherTest.spec("src=" + f)).sha256()).isEqualTo(file.sha256());
        assertThat(cache.list()).hasSize(1);
    }
}
