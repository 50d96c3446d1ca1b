package dev.vmctl.artifact;

import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Maven coordinates through Maven Resolver against the real Maven Central: one small artifact and one that does not exist. */
class MavenSourceTest {
    @TempDir
    Path tmp;

    @Test
    void coordinatesAndFileNames() {
        var a = MavenSource.coordinates("org.x:lib:zip:linux-x64:1.0");
        assertThat(a.getExtension()).isEqualTo("zip");
        assertThat(a.getClassifier()).isEqualTo("linux-x64");
        assertThat(MavenSource.fileName(a)).isEqualTo("lib-1.0-linux-x64.zip");
        assertThat(MavenSource.fileName(MavenSource.coordinates("org.x:lib:1.0"))).isEqualTo("lib-1.0.jar");
        assertThat(MavenSource.fileName(MavenSource.coordinates("org.x:lib:pom:1.0"))).isEqualTo("lib-1.0.pom");
    }

    @Test
    void fromMavenCentral() throws Exception {
        ArtifactCache cache = new ArtifactCache(tmp.resolve("artifacts"));
        try (ArtifactFetcher f = new ArtifactFetcher(cache, null)) {
            ArtifactCache.Cached c = f.fetch(ArtifactSpec.parse("maven=org.apache.commons:commons-lang3:3.17.0").check("a", false));
            assertThat(c.name()).isEqualTo("commons-lang3-3.17.0.jar");
            assertThat(c.size()).isGreaterThan(500_000);
            try (InputStream in = Files.newInputStream(c.path())) {
                assertThat(in.readNBytes(2)).containsExactly('P', 'K');
            }
            // Resolver checked the repository's checksum file: it sits next to the download in its local repository
            Path local = tmp.resolve("artifacts/maven/org/apache/commons/commons-lang3/3.17.0/commons-lang3-3.17.0.jar");
            assertThat(local).exists();
            assertThat(c.sources()).containsExactly("maven=org.apache.commons:commons-lang3:3.17.0");
            // a release once cached is not resolved again: found by its key even with the local repository gone
            dev.vmctl.host.FileTree.delete(tmp.resolve("artifacts/maven/org"));
            assertThat(f.fetch(ArtifactSpec.parse("maven=org.apache.commons:commons-lang3:3.17.0").check("a", false)).sha256())
                    .isEqualTo(c.sha256());
            assertThat(local).doesNotExist();

            assertThatThrownBy(() -> f.fetch(ArtifactSpec.parse("maven=org.apache.commons:commons-lang3:0.0.0-no-such").check("a", false)))
                    .isInstanceOf(VmctlException.class)
                    .hasMessageContaining("maven=org.apache.commons:commons-lang3:0.0.0-no-such")
                    .hasMessageContaining("not found in https://repo.maven.apache.org/maven2/");
            assertThat(cache.list()).hasSize(1);
        }
    }
}
