package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.image.TinyImageBuilder.HostFiles;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The builder's checks and helpers, without the real host packages (see TinyImageBootTest for a real build). */
class TinyImageBuilderTest {
    @TempDir
    Path tmp;
    Path boot;
    Path modules;
    Path images;
    Path staticElf;
    Path dynamicElf;
    Path script;

    @BeforeEach
    void setUp() throws IOException {
        boot = Files.createDirectories(tmp.resolve("boot"));
        modules = Files.createDirectories(tmp.resolve("modules"));
        images = tmp.resolve("images");
        staticElf = Files.write(tmp.resolve("static"), VmlinuxExtractorTest.elf(18));
        byte[] dyn = VmlinuxExtractorTest.elf(18);
        ByteBuffer.wrap(dyn).order(ByteOrder.LITTLE_ENDIAN).putInt(64, 3); // PT_INTERP
        dynamicElf = Files.write(tmp.resolve("dynamic"), dyn);
        script = Files.writeString(tmp.resolve("script"), "#!/bin/sh\n");
    }

    private void kernel(String kver) throws IOException {
        Files.write(boot.resolve("vmlinuz-" + kver), new byte[] {1});
        Files.createDirectories(modules.resolve(kver));
    }

    private VmctlException buildFails(HostFiles host) {
        return buildFails(host, KernelFlavor.DEBIAN);
    }

    private VmctlException buildFails(HostFiles host, KernelFlavor flavor) {
        List<String> progress = new ArrayList<>();
        TinyImageBuilder b = new TinyImageBuilder(images, new ImageCatalog(images), host);
        try {
            b.build("tiny", flavor, progress::add);
        } catch (VmctlException e) {
            assertThat(progress).first().isEqualTo("checking host packages");
            return e;
        }
        throw new AssertionError("the build did not fail");
    }

    private HostFiles host(Path busybox, Path qemuGa, Path tc) {
        return new HostFiles(boot, modules, busybox, qemuGa, tc, null);
    }

    @Test
    void picksTheNewestCloudKernelByVersion() throws IOException {
        kernel("6.1.0-9-cloud-amd64");
        kernel("6.1.0-56-cloud-amd64");
        kernel("6.1.0-10-cloud-amd64");
        Files.write(boot.resolve("vmlinuz-6.9.0-1-amd64"), new byte[] {1}); // not a cloud kernel
        assertThat(TinyImageBuilder.newestCloudKernel(boot)).contains("6.1.0-56-cloud-amd64");
        assertThat(TinyImageBuilder.newestCloudKernel(tmp.resolve("nope"))).isEmpty();
    }

    @Test
    void comparesVersionsNumerically() {
        assertThat(TinyImageBuilder.compareVersions("6.1.0-56-cloud-amd64", "6.1.0-9-cloud-amd64")).isPositive();
        assertThat(TinyImageBuilder.compareVersions("6.10.0-1-cloud-amd64", "6.9.0-30-cloud-amd64")).isPositive();
        assertThat(TinyImageBuilder.compareVersions("6.1.0-56-cloud-amd64", "6.1.0-56-cloud-amd64")).isZero();
        assertThat(TinyImageBuilder.compareVersions("6.1.0-056-cloud-amd64", "6.1.0-56-cloud-amd64")).isZero();
    }

    @Test
    void aMissingKernelNamesItsPackage() {
        VmctlException e = buildFails(host(staticElf, script, script));
        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).startsWith("build image tiny: checking host packages: ").contains("linux-image-cloud-amd64");
        assertThat(images.resolve("tiny")).doesNotExist();
        assertThat(new ImageCatalog(images).list()).isEmpty();
    }

    @Test
    void missingModulesNameTheKernelPackage() throws IOException {
        Files.write(boot.resolve("vmlinuz-6.1.0-56-cloud-amd64"), new byte[] {1});
        assertThat(buildFails(host(staticElf, script, script)).getMessage())
                .contains("no modules for kernel 6.1.0-56-cloud-amd64").contains("linux-image-cloud-amd64");
    }

    @Test
    void aMissingOrDynamicBusyboxNamesBusyboxStatic() throws IOException {
        kernel("6.1.0-56-cloud-amd64");
        VmctlException missing = buildFails(host(tmp.resolve("no-busybox"), script, script));
        assertThat(missing.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(missing.getMessage()).contains("busybox-static");
        assertThat(buildFails(host(dynamicElf, script, script)).getMessage())
                .contains("dynamically linked").contains("busybox-static");
    }

    @Test
    void aMissingAgentOrTcNamesItsPackage() throws IOException {
        kernel("6.1.0-56-cloud-amd64");
        assertThat(buildFails(host(staticElf, tmp.resolve("no-qga"), script)).getMessage()).contains("qemu-guest-agent");
        assertThat(buildFails(host(staticElf, script, tmp.resolve("no-tc"))).getMessage()).contains("iproute2");
    }

    @Test
    void aFailingStepIsNamedAndLeavesNothingBehind() throws IOException {
        assumeTrue(Cmd.available("modinfo") && Cmd.available("ldd"), "kmod or libc-bin missing");
        kernel("6.1.0-56-cloud-amd64"); // a 1-byte "kernel": extraction fails
        VmctlException e = buildFails(host(staticElf, script, script));
        assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
        assertThat(e.getMessage()).startsWith("build image tiny: extracting kernel 6.1.0-56-cloud-amd64: ");
        try (var files = Files.list(images)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).isEmpty();
        }
    }

    @Test
    void theVmctlKernelNeedsNoCloudKernelButStillBusybox() {
        // no /boot kernel at all: the VMCTL flavour gets past it and names the missing busybox
        VmctlException e = buildFails(host(tmp.resolve("no-busybox"), script, script), KernelFlavor.VMCTL);
        assertThat(e.getMessage()).doesNotContain("linux-image-cloud-amd64").contains("busybox-static");
    }

    /** The whole VMCTL path with a stand-in kernel source (no compiler): kernel from the cache, no modules. */
    @Test
    void theVmctlFlavourTakesTheKernelFromTheCacheAndShipsNoModules() throws Exception {
        assumeTrue(Files.isRegularFile(Path.of("/bin/busybox")) && Files.isRegularFile(Path.of("/usr/sbin/qemu-ga"))
                && Cmd.available("ldd"), "busybox-static, qemu-guest-agent or ldd missing");
        Path cache = tmp.resolve("kernels");
        KernelBuilder kernels = FakeKernelSource.builder(cache, FakeKernelSource.tarball(tmp), "CONFIG_64BIT=y\n");
        TinyImageBuilder b = new TinyImageBuilder(images, new ImageCatalog(images), HostFiles.debian(), kernels);
        List<String> progress = new ArrayList<>();
        ImageInfo info = b.build("tiny", progress::add); // the default flavour: VMCTL
        assertThat(info.kernelVersion()).isEqualTo(FakeKernelSource.RELEASE);
        assertThat(info.os()).isEqualTo("busybox + vmctl kernel 6.1.999");
        assertThat(Path.of(info.kernel())).hasContent(FakeKernelSource.VMLINUX);
        assertThat(progress).contains("building the vmctl kernel").anyMatch(l -> l.contains("not in cache"))
                .doesNotContain("extracting kernel");
        List<CpioReader.Entry> entries = CpioReader.read(Files.readAllBytes(Path.of(info.initrd())));
        assertThat(entries).extracting(CpioReader.Entry::name).contains("init", "bin/busybox", "usr/sbin/qemu-ga",
                "usr/sbin/tc", "sbin/shutdown", "etc/acpi/PWRF/00000080", "lib/modules/load-order", IdentityHelper.GUEST_PATH);
        assertThat(entries).extracting(CpioReader.Entry::name).noneMatch(n -> n.endsWith(".ko"));
        assertThat(entries.stream().filter(e -> e.name().equals("lib/modules/load-order")).findFirst().orElseThrow().text()).isEmpty();
        assertThat(entries.stream().filter(e -> e.name().equals("etc/os-release")).findFirst().orElseThrow().text())
                .contains("busybox + vmctl kernel 6.1.999");

        // a rebuild takes the kernel from the cache
        progress.clear();
        b.build("tiny", KernelFlavor.VMCTL, progress::add);
        assertThat(progress).anyMatch(l -> l.contains(": found in cache "));
        assertThat(FakeKernelSource.compiles(cache)).isEqualTo(1);
    }

    @Test
    void describesTheKernelInOs() {
        assertThat(TinyImageBuilder.os(KernelFlavor.VMCTL, "6.1.192")).isEqualTo("busybox + vmctl kernel 6.1.192");
        assertThat(TinyImageBuilder.os(KernelFlavor.DEBIAN, "6.1.0-56-cloud-amd64"))
                .isEqualTo("busybox + Debian cloud kernel 6.1.0-56-cloud-amd64");
        assertThat(KernelFlavor.parse("Debian")).isEqualTo(KernelFlavor.DEBIAN);
        assertThat(KernelFlavor.parse("vmctl")).isEqualTo(KernelFlavor.VMCTL);
        assertThatThrownBy(() -> KernelFlavor.parse("generic"))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID));
    }

    @Test
    void refusesBadImageNames() {
        TinyImageBuilder b = new TinyImageBuilder(images);
        assertThatThrownBy(() -> b.build("../x", null))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID));
    }

    @Test
    void parsesLddOutput() throws IOException {
        String out = """
                \tlinux-vdso.so.1 (0x00007ffd1b3f2000)
                \tlibudev.so.1 => /lib/x86_64-linux-gnu/libudev.so.1 (0x00007f70fc04c000)
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f70fbc36000)
                \t/lib64/ld-linux-x86-64.so.2 (0x00007f70fc187000)
                """;
        assertThat(TinyImageBuilder.parseLdd(out)).containsExactly(
                "/lib/x86_64-linux-gnu/libudev.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2");
        assertThatThrownBy(() -> TinyImageBuilder.parseLdd("\tlibfoo.so.1 => not found\n"))
                .hasMessageContaining("libfoo.so.1 not found");
    }

    @Test
    void theInitScriptIsPackaged() throws IOException {
        try (var in = TinyImageBuilder.class.getResourceAsStream("init.sh")) {
            assertThat(in).isNotNull();
            String init = new String(in.readAllBytes());
            assertThat(init).startsWith("#!/bin/sh").contains("VMCTL_READY").contains("VMCTL_PROBE_OK")
                    .contains("org.qemu.guest_agent.0").contains("/lib/modules/load-order");
        }
    }
}
