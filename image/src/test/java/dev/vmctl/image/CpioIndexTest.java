package dev.vmctl.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CpioIndexTest {
    @TempDir
    Path tmp;

    @Test
    void listsTheNamesOfAnArchiveWithoutItsData() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root/usr/sbin"));
        Files.write(root.resolve("vmctl-identity"), IdentityHelper.binary());
        Files.write(tmp.resolve("root/big"), new byte[3_000_001]); // odd size: the padding after it must be skipped
        Files.writeString(tmp.resolve("root/init"), "#!/bin/sh\n");
        Path archive = tmp.resolve("initrd.cpio");
        try (CpioWriter w = new CpioWriter(Files.newOutputStream(archive))) {
            w.writeTree(tmp.resolve("root"));
            w.charDevice("dev/console", 0600, 5, 1);
        }
        assertThat(CpioIndex.names(archive)).containsExactly("big", "init", "usr", "usr/sbin", "usr/sbin/vmctl-identity", "dev/console");
        assertThat(CpioIndex.contains(archive, IdentityHelper.GUEST_PATH)).isTrue();
        assertThat(CpioIndex.contains(archive, "usr/sbin/tc")).isFalse();

        Files.writeString(tmp.resolve("not.cpio"), "initrd");
        assertThatThrownBy(() -> CpioIndex.names(tmp.resolve("not.cpio"))).isInstanceOf(IOException.class);
    }
}
