package dev.vmctl.engine;

import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code vm create --disk}: only images with a root disk take it, and the disk only grows. */
class VmDisksTest {
    private static ImageInfo image(String name, Path rootfs) {
        return new ImageInfo(name, "os", "k", "/k", "aa", "/i", "bb", rootfs == null ? null : rootfs.toString(), rootfs == null ? null : "cc",
                1, "2026-12-01T00:00:00Z");
    }

    @Test
    void sizes(@TempDir Path d) throws Exception {
        Path rootfs = d.resolve("rootfs.ext4");
        try (RandomAccessFile f = new RandomAccessFile(rootfs.toFile(), "rw")) {
            f.setLength(512L << 20);
        }
        ImageInfo deb = image("debian-12", rootfs);
        assertThat(VmDisks.validateSize(null, deb)).isNull();
        assertThat(VmDisks.validateSize("4G", deb)).isEqualTo(4096L);
        assertThat(VmDisks.validateSize("512M", deb)).isEqualTo(512L);
        assertThatThrownBy(() -> VmDisks.validateSize("256M", deb)).isInstanceOf(VmctlException.class).hasMessageContaining("disk")
                .hasMessageContaining("out of range");
        assertThatThrownBy(() -> VmDisks.validateSize("big", deb)).hasMessageContaining("not a size");
        assertThatThrownBy(() -> VmDisks.validateSize("4G", image("tiny", null))).hasMessageContaining("disk")
                .hasMessageContaining("no root disk");
    }
}
