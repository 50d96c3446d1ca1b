package dev.vmctl.snapshot;

import dev.vmctl.host.Cmd;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DiskOverlayTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void needsQemuImg() {
        assumeTrue(Cmd.available("qemu-img"), "qemu-utils is not installed");
    }

    @Test
    void overlayOnRawAndOnQcow2() {
        Path base = tmp.resolve("base.img");
        Cmd.check("qemu-img", "create", "-q", "-f", "raw", base.toString(), "16M");
        DiskOverlay.Info o1 = DiskOverlay.create(base, "raw", tmp.resolve("o1.qcow2"));
        assertThat(o1.format()).isEqualTo("qcow2");
        assertThat(o1.virtualSize()).isEqualTo(16L << 20);
        assertThat(o1.backingFile()).isEqualTo(base.toString());
        assertThat(o1.backingFormat()).isEqualTo("raw");
        // a chain: the overlay as the base of another (how clones sit on a snapshot's disk)
        DiskOverlay.Info o2 = DiskOverlay.create(tmp.resolve("o1.qcow2"), "qcow2", tmp.resolve("o2.qcow2"));
        assertThat(o2.backingFile()).isEqualTo(tmp.resolve("o1.qcow2").toString());
        assertThat(o2.backingFormat()).isEqualTo("qcow2");
        assertThat(DiskOverlay.info(base).format()).isEqualTo("raw");
    }

    /** The header read agrees with qemu-img, also after a resize; a raw file or a missing one is -1. */
    @Test
    void virtualSizeFromTheHeader() {
        Path base = tmp.resolve("base.img");
        Cmd.check("qemu-img", "create", "-q", "-f", "raw", base.toString(), "16M");
        Path o = tmp.resolve("o.qcow2");
        DiskOverlay.create(base, "raw", o);
        assertThat(DiskOverlay.qcow2VirtualSize(o)).isEqualTo(16L << 20);
        Cmd.check("qemu-img", "resize", "-q", "-f", "qcow2", o.toString(), "40M");
        assertThat(DiskOverlay.qcow2VirtualSize(o)).isEqualTo(40L << 20).isEqualTo(DiskOverlay.info(o).virtualSize());
        assertThat(DiskOverlay.qcow2VirtualSize(base)).isEqualTo(-1);
        assertThat(DiskOverlay.qcow2VirtualSize(tmp.resolve("missing"))).isEqualTo(-1);
    }

    @Test
    void refusals() {
        Path base = tmp.resolve("base.img");
        Cmd.check("qemu-img", "create", "-q", "-f", "raw", base.toString(), "1M");
        assertThatThrownBy(() -> DiskOverlay.create(base, "vmdk", tmp.resolve("o.qcow2")))
                .isInstanceOf(VmctlException.class).hasMessageContaining("disk base format");
        assertThatThrownBy(() -> DiskOverlay.create(tmp.resolve("nope"), "raw", tmp.resolve("o.qcow2")))
                .isInstanceOf(VmctlException.class).hasMessageContaining("does not exist");
        DiskOverlay.create(base, "raw", tmp.resolve("o.qcow2"));
        assertThatThrownBy(() -> DiskOverlay.create(base, "raw", tmp.resolve("o.qcow2")))
                .isInstanceOf(VmctlException.class).extracting(e -> ((VmctlException) e).kind())
                .isEqualTo(VmctlException.Kind.CONFLICT);
        // qemu-img's own error surfaces (a raw base declared qcow2)
        assertThatThrownBy(() -> DiskOverlay.create(base, "qcow2", tmp.resolve("bad.qcow2")))
                .isInstanceOf(VmctlException.class).hasMessageContaining("create disk overlay");
        assertThat(Files.exists(tmp.resolve("bad.qcow2"))).isFalse();
    }
}
