package dev.vmctl.image;

import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageCatalogTest {
    @TempDir
    Path dir;

    static ImageInfo image(String name, String sha) {
        return new ImageInfo(name, "busybox (Debian 12 packages)", "6.1.0-56-cloud-amd64",
                "/images/" + name + "/vmlinux", sha, "/images/" + name + "/initrd.cpio", "i" + sha,
                null, null, 1234L, "2026-01-01T00:00:00Z");
    }

    @Test
    void emptyWithoutAFile() {
        ImageCatalog c = new ImageCatalog(dir.resolve("images"));
        assertThat(c.list()).isEmpty();
        assertThat(c.find("tiny")).isEmpty();
    }

    @Test
    void putFindListRemove() {
        ImageCatalog c = new ImageCatalog(dir);
        c.put(image("tiny", "a"));
        c.put(image("debian", "b"));
        assertThat(c.list()).extracting(ImageInfo::name).containsExactly("debian", "tiny");
        assertThat(c.find("tiny")).contains(image("tiny", "a"));

        c.put(image("tiny", "c"));
        assertThat(c.list()).hasSize(2);
        assertThat(c.find("tiny").orElseThrow().kernelSha256()).isEqualTo("c");

        c.remove("debian");
        assertThat(c.list()).containsExactly(image("tiny", "c"));
        assertThat(c.find("debian")).isEmpty();
    }

    @Test
    void persistsAndRoundTripsEveryField() {
        ImageInfo full = new ImageInfo("deb", "Debian 12", "6.1.0", "/k", "ks", "/i", "is", "/r.qcow2", "rs", 99L,
                "2026-02-03T04:05:06Z");
        new ImageCatalog(dir).put(full);
        assertThat(new ImageCatalog(dir).find("deb")).contains(full);
        assertThat(dir.resolve(ImageCatalog.FILE_NAME)).exists();
    }

    @Test
    void removingAMissingImageIsNotFound() {
        ImageCatalog c = new ImageCatalog(dir);
        assertThatThrownBy(() -> c.remove("nope"))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND))
                .hasMessageContaining("nope");
    }

    @Test
    void refusesBadNames() {
        ImageCatalog c = new ImageCatalog(dir);
        assertThatThrownBy(() -> c.put(image("../etc", "x")))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID));
        assertThat(c.list()).isEmpty();
    }

    @Test
    void writesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        ImageCatalog c = new ImageCatalog(dir);
        for (int i = 0; i < 5; i++) c.put(image("img" + i, "s" + i));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(ImageCatalog.FILE_NAME, "catalog.lock");
        }
        assertThat(Files.readString(dir.resolve(ImageCatalog.FILE_NAME))).contains("\"version\"").contains("\"images\"");
    }

    @Test
    void concurrentUpdatesFromManyInstancesAreAllKept() throws Exception {
        int threads = 8;
        int each = 20;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                fs.add(pool.submit(() -> {
                    ImageCatalog own = new ImageCatalog(dir); // separate instances share the lock
                    for (int i = 0; i < each; i++) {
                        own.put(image("t" + tt + "-" + i, "x"));
                        assertThat(own.list()).isNotEmpty();
                    }
                }));
            }
            for (Future<?> f : fs) f.get();
        }
        assertThat(new ImageCatalog(dir).list()).hasSize(threads * each);
    }

    @Test
    void aCorruptFileIsAClearError() throws IOException {
        Files.writeString(dir.resolve(ImageCatalog.FILE_NAME), "{ not json");
        ImageCatalog c = new ImageCatalog(dir);
        assertThatThrownBy(c::list)
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INTERNAL))
                .hasMessageContaining(ImageCatalog.FILE_NAME)
                .hasMessageContaining("not a valid catalog");
        assertThatThrownBy(() -> c.put(image("tiny", "a"))).isInstanceOf(VmctlException.class);
        assertThat(Files.readString(dir.resolve(ImageCatalog.FILE_NAME))).isEqualTo("{ not json");
    }

    @Test
    void ignoresUnknownFieldsFromANewerVersion() throws IOException {
        Files.writeString(dir.resolve(ImageCatalog.FILE_NAME), """
                {"version": 1, "future": true, "images": [{"name": "tiny", "os": "x", "extra": 1, "sizeBytes": 5}]}
                """);
        assertThat(new ImageCatalog(dir).find("tiny").orElseThrow().sizeBytes()).isEqualTo(5);
    }
}
