package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real vmctl kernel from Debian's linux-source-6.1, in the shared cache ({@link KernelBuilder#defaultCacheDir()},
 * or $VMCTL_KERNEL_CACHE): built there once (minutes) by whichever test or command needs it first, then reused.
 * Skipped when linux-source-6.1 or the compiler is missing.
 */
class KernelBuildTest {
    static boolean sourceInstalled() {
        return Files.isRegularFile(KernelBuilder.SOURCE_TARBALL) && Cmd.available("dpkg-query")
                && Cmd.run("dpkg-query", "-W", "-f=${Status}", KernelBuilder.SOURCE_PACKAGE).stdout().endsWith(" installed")
                && Cmd.available("make") && Cmd.available("gcc") && Cmd.available("bison") && Cmd.available("flex")
                && Cmd.available("bc") && Files.isRegularFile(Path.of("/usr/include/gelf.h"));
    }

    @BeforeEach
    void needsTheSource() {
        assumeTrue(sourceInstalled(), "linux-source-6.1 or a build tool (gcc make bison flex bc libelf-dev) is not installed");
    }

    @Test
    void theSecondBuildComesFromTheCache() throws IOException {
        KernelBuilder.Kernel first = new KernelBuilder().build(s -> System.out.println("[kernel] " + s));
        List<String> progress = new ArrayList<>();
        KernelBuilder.Kernel second = new KernelBuilder().build(progress::add);
        assertThat(second.cacheHit()).isTrue();
        assertThat(progress).containsExactly("kernel " + first.key() + ": found in cache " + first.dir());
        assertThat(second.vmlinux()).isEqualTo(first.vmlinux()).isRegularFile();
        assertThat(second.release()).matches("6\\.1\\.\\d+-vmctl");
        assertThat(second.dir()).isEqualTo(KernelBuilder.defaultCacheDir().resolve(second.key()));
        String config = Files.readString(second.dir().resolve("config"));
        assertThat(config).contains("CONFIG_64BIT=y", "CONFIG_PVH=y", "CONFIG_VIRTIO_PCI=y", "CONFIG_HOTPLUG_PCI_PCIE=y",
                "# CONFIG_MODULES is not set", "# CONFIG_IPV6 is not set");
        assertThat(Elf.read(second.vmlinux()).interpreter()).isFalse();
    }

    /** A fragment whose option cannot hold (VIRTIO_NET needs NET, which tinyconfig leaves off) fails in seconds. */
    @Test
    void aBrokenFragmentFailsAtTheConfigureStepNamingItsLog() throws IOException {
        KernelBuilder b = new KernelBuilder(KernelBuilder.defaultCacheDir(), "CONFIG_64BIT=y\nCONFIG_VIRTIO_NET=y\n");
        Path log = b.cacheDir().resolve(b.key() + ".failed.log");
        try {
            long t0 = System.nanoTime();
            VmctlException e = catchThrowableOfType(VmctlException.class, () -> b.build(s -> System.out.println("[broken] " + s)));
            System.out.printf("broken fragment failed in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
            assertThat(e.getMessage()).startsWith("kernel build step 'configure' failed: ")
                    .contains("CONFIG_VIRTIO_NET=y").endsWith("full log: " + log);
            assertThat(log).content().contains("tinyconfig", "olddefconfig", "step configure failed");
            assertThat(b.cacheDir().resolve(b.key())).doesNotExist();
        } finally {
            Files.deleteIfExists(log);
            Files.deleteIfExists(b.cacheDir().resolve(b.key() + ".lock"));
        }
    }

    @Test
    void aFragmentSyntaxErrorFailsAtOnce() throws IOException {
        KernelBuilder b = new KernelBuilder(KernelBuilder.defaultCacheDir(), "CONFIG_64BIT=y\nCONFIG_VIRTIO_NET=yes\n");
        Path log = b.cacheDir().resolve(b.key() + ".failed.log");
        try {
            VmctlException e = catchThrowableOfType(VmctlException.class, () -> b.build(null));
            assertThat(e.getMessage()).startsWith("kernel build step 'configure' failed: syntax error in the config fragment: line 2")
                    .endsWith("full log: " + log);
            assertThat(log).exists();
        } finally {
            Files.deleteIfExists(log);
            Files.deleteIfExists(b.cacheDir().resolve(b.key() + ".lock"));
        }
    }
}
