package dev.vmctl.image;

import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;

/**
 * The kernel builder's fragment checks, cache, locks and failure reports, with a stand-in source tarball
 * ({@link FakeKernelSource}): no compiler needed, milliseconds per "build". KernelBuildTest builds the real one.
 */
class KernelBuilderTest {
    @TempDir
    static Path shared;
    static Path tarball;

    @TempDir
    Path cache;

    static final String FRAGMENT = "# test fragment\nCONFIG_64BIT=y\n# CONFIG_NET is not set\n";

    @BeforeAll
    static void fakeSource() throws Exception {
        tarball = FakeKernelSource.tarball(shared);
    }

    // ---- the fragment ----

    @Test
    void theRepositoryFragmentHasWhatAMicroVmNeeds() {
        Map<String, String> f = KernelBuilder.parseFragment(KernelBuilder.defaultFragment());
        for (String o : List.of("64BIT", "PVH", "PARAVIRT", "KVM_GUEST", "HYPERVISOR_GUEST", "SERIAL_8250",
                "SERIAL_8250_CONSOLE", "BLK_DEV_INITRD", "DEVTMPFS", "DEVTMPFS_MOUNT", "TMPFS", "PROC_FS", "SYSFS", "NET",
                "INET", "UNIX", "PACKET", "VIRTIO", "VIRTIO_MMIO", "VIRTIO_MMIO_CMDLINE_DEVICES", "VIRTIO_NET", "VIRTIO_BLK",
                "VIRTIO_CONSOLE", "HW_RANDOM_VIRTIO", "EXT4_FS", "NET_SCHED", "NET_SCH_NETEM", "NET_SCH_TBF", "NET_SCH_HTB",
                "NET_CLS_U32", "NET_CLS_ACT", "NET_ACT_MIRRED", "NET_SCH_INGRESS", "VLAN_8021Q", "BRIDGE", "NET_9P",
                "NET_9P_VIRTIO", "9P_FS", "FUSE_FS", "VIRTIO_FS", "VSOCKETS", "VIRTIO_VSOCKETS", "MULTIUSER", "FUTEX", "EPOLL",
                "SIGNALFD", "TIMERFD", "EVENTFD", "POSIX_TIMERS", "FILE_LOCKING", "INOTIFY_USER", "UNIX98_PTYS", "NO_HZ_IDLE",
                "HIGH_RES_TIMERS", "PCI", "ACPI", "ACPI_BUTTON", "INPUT_EVDEV", "PCIEPORTBUS", "HOTPLUG_PCI",
                "HOTPLUG_PCI_PCIE", "VIRTIO_PCI", "PCI_MSI", "BINFMT_ELF", "BINFMT_SCRIPT", "TTY", "PRINTK", "RTC_CLASS",
                "RTC_DRV_CMOS", "SMP")) {
            assertThat(f).as("CONFIG_" + o).containsEntry("CONFIG_" + o, "y");
        }
        assertThat(f).containsEntry("CONFIG_MODULES", "n").containsEntry("CONFIG_IPV6", "n")
                .containsEntry("CONFIG_LOCALVERSION", "\"-vmctl\"");
        assertThat(f.values()).doesNotContain("m");
    }

    @Test
    void fragmentSyntaxErrorsAreNamedWithTheirLine() {
        assertThatThrownBy(() -> KernelBuilder.parseFragment("CONFIG_A=y\nCONFIG_B=yes please\n"))
                .hasMessageContaining("line 2").hasMessageContaining("CONFIG_B=yes please");
        assertThatThrownBy(() -> KernelBuilder.parseFragment("CONFIG_VIRTIO_NET=m\n"))
                .hasMessageContaining("no modules");
        assertThatThrownBy(() -> KernelBuilder.parseFragment("CONFIG_A=y\n# CONFIG_A is not set\n"))
                .hasMessageContaining("CONFIG_A is set twice");
        assertThatThrownBy(() -> KernelBuilder.parseFragment("#CONFIG_A is off\n"))
                .hasMessageContaining("looks like an option");
        assertThatThrownBy(() -> KernelBuilder.parseFragment("VIRTIO_NET=y\n")).hasMessageContaining("line 1");
        assertThat(KernelBuilder.parseFragment("# comment\n\nCONFIG_A=y\nCONFIG_B=\"x y\"\nCONFIG_C=64\nCONFIG_D=0x10\n# CONFIG_E is not set\n"))
                .containsExactly(entry("CONFIG_A", "y"), entry("CONFIG_B", "\"x y\""), entry("CONFIG_C", "64"),
                        entry("CONFIG_D", "0x10"), entry("CONFIG_E", "n"));
    }

    @Test
    void checkConfigReportsWhatDidNotHold() {
        Map<String, String> wanted = KernelBuilder.parseFragment("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n"
                + "# CONFIG_UNKNOWN is not set\nCONFIG_D=y\nCONFIG_N=32\n");
        List<String> problems = KernelBuilder.checkConfig(wanted, List.of("CONFIG_A=y", "# CONFIG_B is not set",
                "CONFIG_C=y", "CONFIG_N=32"));
        assertThat(problems).containsExactly("CONFIG_B=y became not set", "CONFIG_C=n became y",
                "CONFIG_D=y is not in the final .config (unknown option, or its dependencies are off)");
    }

    @Test
    void theKeyCoversSourceVersionFragmentAndRecipe() {
        String k = KernelBuilder.key(1, "6.1.192-3", FRAGMENT);
        assertThat(k).hasSize(16).matches("[0-9a-f]+").isEqualTo(KernelBuilder.key(1, "6.1.192-3", FRAGMENT));
        assertThat(KernelBuilder.key(1, "6.1.193-1", FRAGMENT)).isNotEqualTo(k);
        assertThat(KernelBuilder.key(1, "6.1.192-3", FRAGMENT + "CONFIG_X=y\n")).isNotEqualTo(k);
        assertThat(KernelBuilder.key(2, "6.1.192-3", FRAGMENT)).isNotEqualTo(k);
    }

    @Test
    void theCacheLivesOutsideDataDirectories() {
        assertThat(KernelBuilder.defaultCacheDir(Map.of(KernelBuilder.CACHE_ENV, "/srv/k"), true, "/root"))
                .isEqualTo(Path.of("/srv/k"));
        assertThat(KernelBuilder.defaultCacheDir(Map.of(), true, "/root")).isEqualTo(Path.of("/var/cache/vmctl/kernels"));
        assertThat(KernelBuilder.defaultCacheDir(Map.of("XDG_CACHE_HOME", "/home/u/.xdg"), false, "/home/u"))
                .isEqualTo(Path.of("/home/u/.xdg/vmctl/kernels"));
        assertThat(KernelBuilder.defaultCacheDir(Map.of(), false, "/home/u")).isEqualTo(Path.of("/home/u/.cache/vmctl/kernels"));
    }

    // ---- builds with the stand-in source ----

    @Test
    void buildsOnceThenServesTheCache() throws IOException {
        List<String> first = new ArrayList<>();
        KernelBuilder.Kernel k = FakeKernelSource.builder(cache, tarball, FRAGMENT).build(first::add);
        assertThat(k.cacheHit()).isFalse();
        assertThat(k.release()).isEqualTo(FakeKernelSource.RELEASE);
        assertThat(k.version()).isEqualTo("6.1.999");
        assertThat(k.dir()).isEqualTo(cache.resolve(k.key()));
        assertThat(Files.readString(k.vmlinux())).isEqualTo(FakeKernelSource.VMLINUX);
        assertThat(k.dir().resolve("config")).content().contains("CONFIG_64BIT=y");
        assertThat(k.dir().resolve("fragment")).hasContent(FRAGMENT);
        assertThat(k.dir().resolve("source")).hasContent("linux-source-6.1 6.1.999-1");
        assertThat(k.dir().resolve("build.log")).content().contains("$ make").contains("olddefconfig").contains("init/main.o");
        assertThat(first).anyMatch(s -> s.contains("not in cache")).anyMatch(s -> s.startsWith("kernel: extracting"))
                .anyMatch(s -> s.startsWith("kernel: configuring")).anyMatch(s -> s.startsWith("kernel: compiling vmlinux"));
        assertThat(first.getLast()).startsWith("kernel " + k.key() + ": built " + FakeKernelSource.RELEASE);

        List<String> second = new ArrayList<>();
        KernelBuilder.Kernel again = FakeKernelSource.builder(cache, tarball, FRAGMENT).build(second::add);
        assertThat(again.cacheHit()).isTrue();
        assertThat(again.vmlinux()).isEqualTo(k.vmlinux());
        assertThat(second).containsExactly("kernel " + k.key() + ": found in cache " + k.dir());
        assertThat(FakeKernelSource.builder(cache, tarball, FRAGMENT).cached()).hasValueSatisfying(c -> assertThat(c.cacheHit()).isTrue());
        assertThat(FakeKernelSource.compiles(cache)).isEqualTo(1);
        assertThat(leftovers()).isEmpty();

        // another fragment: another key, compiled again, but the source tree is extracted only once
        List<String> third = new ArrayList<>();
        KernelBuilder.Kernel other = FakeKernelSource.builder(cache, tarball, FRAGMENT + "CONFIG_EXTRA=y\n").build(third::add);
        assertThat(other.key()).isNotEqualTo(k.key());
        assertThat(other.cacheHit()).isFalse();
        assertThat(third).noneMatch(s -> s.startsWith("kernel: extracting"));
        assertThat(FakeKernelSource.compiles(cache)).isEqualTo(2);
    }

    @Test
    void sourceEditsChangeACopyInTheObjectDirectoryAndTheKey() throws IOException {
        var edit = new KernelBuilder.SourceEdit("init/main.c", "old_value", "new_value", "a test");
        KernelBuilder plain = FakeKernelSource.builder(cache, tarball, FRAGMENT);
        KernelBuilder edited = FakeKernelSource.builder(cache, tarball, FRAGMENT, List.of(edit));
        assertThat(edited.key()).isNotEqualTo(plain.key());
        KernelBuilder.Kernel k = edited.build(null);
        assertThat(k.dir().resolve("build.log")).content().contains("vmctl: edited init/main.c (in the object directory): a test");
        assertThat(k.dir().resolve("source-edits")).content().contains("# source edit init/main.c").contains("new_value");
        // the shared source tree is never modified
        try (var trees = Files.newDirectoryStream(cache.resolve("src"), "linux-source-6.1_*")) {
            for (Path t : trees) {
                if (Files.isDirectory(t)) assertThat(t.resolve("init/main.c")).content().contains("old_value");
            }
        }
        // an edit whose text is not in the source fails its step, naming the file
        KernelBuilder bad = FakeKernelSource.builder(cache, tarball, FRAGMENT + "CONFIG_OTHER=y\n",
                List.of(new KernelBuilder.SourceEdit("init/main.c", "no such text", "x", "a test")));
        VmctlException e = catchThrowableOfType(VmctlException.class, () -> bad.build(null));
        assertThat(e.getMessage()).startsWith("kernel build step 'edit' failed: ").contains("source edit of init/main.c")
                .contains("occurs nowhere");
    }

    @Test
    void vmctlsKernelEditsTheRealSourceExactlyOnce() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(KernelBuilder.SOURCE_TARBALL),
                "linux-source-6.1 is not installed: " + KernelBuilder.SOURCE_TARBALL);
        for (KernelBuilder.SourceEdit e : KernelBuilder.SOURCE_EDITS) {
            Process p = new ProcessBuilder("tar", "-xOJf", KernelBuilder.SOURCE_TARBALL.toString(), "linux-source-6.1/" + e.path())
                    .redirectErrorStream(false).start();
            String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor();
            int at = text.indexOf(e.from());
            assertThat(at).as("%s holds the text to change", e.path()).isNotNegative();
            assertThat(text.indexOf(e.from(), at + 1)).as("once only").isNegative();
        }
    }

    @Test
    void anOptionThatDoesNotHoldFailsTheConfigureStepAndKeepsTheLog() throws IOException {
        KernelBuilder b = FakeKernelSource.builder(cache, tarball, FRAGMENT + "CONFIG_DROPME=y\n");
        VmctlException e = catchThrowableOfType(VmctlException.class, () -> b.build(null));
        Path log = cache.resolve(b.key() + ".failed.log");
        assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
        assertThat(e.getMessage()).startsWith("kernel build step 'configure' failed: ")
                .contains("CONFIG_DROPME=y is not in the final .config").endsWith("; full log: " + log);
        assertThat(log).content().contains("make", "olddefconfig", "step configure failed");
        assertThat(e.detail()).contains("step configure failed");
        assertThat(cache.resolve(b.key())).doesNotExist();
        assertThat(FakeKernelSource.compiles(cache)).isZero();
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void aSyntaxErrorFailsTheConfigureStepBeforeMake() throws IOException {
        KernelBuilder b = FakeKernelSource.builder(cache, tarball, FRAGMENT + "CONFIG_VIRTIO_NET=yes\n");
        VmctlException e = catchThrowableOfType(VmctlException.class, () -> b.build(null));
        assertThat(e.getMessage()).startsWith("kernel build step 'configure' failed: syntax error in the config fragment: line 4")
                .contains(cache.resolve(b.key() + ".failed.log").toString());
        assertThat(cache.resolve(b.key() + ".failed.log")).content().doesNotContain("tinyconfig");
    }

    @Test
    void aCompileErrorNamesTheStepAndShowsTheLogTail() throws IOException {
        KernelBuilder b = FakeKernelSource.builder(cache, tarball, FRAGMENT + "CONFIG_FAILME=y\n");
        VmctlException e = catchThrowableOfType(VmctlException.class, () -> b.build(null));
        assertThat(e.getMessage()).startsWith("kernel build step 'compile' failed: make -j")
                .contains("vmlinux exited with status 2; full log: " + cache.resolve(b.key() + ".failed.log"));
        assertThat(e.detail()).contains("error: boom");
        assertThat(cache.resolve(b.key())).doesNotExist();
        assertThat(leftovers()).isEmpty();
        // a later build of the same key starts afresh
        assertThat(FakeKernelSource.builder(cache, tarball, FRAGMENT).build(null).cacheHit()).isFalse();
    }

    @Test
    void concurrentBuildsOfOneKeyCompileOnce() throws Exception {
        String fragment = FRAGMENT + "CONFIG_SLOW=y\n";
        int n = 3;
        CountDownLatch go = new CountDownLatch(1);
        List<String> progress = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService ex = Executors.newFixedThreadPool(n)) {
            List<Future<KernelBuilder.Kernel>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(ex.submit(() -> {
                    go.await();
                    return FakeKernelSource.builder(cache, tarball, fragment).build(progress::add);
                }));
            }
            go.countDown();
            List<KernelBuilder.Kernel> ks = new ArrayList<>();
            for (var f : fs) ks.add(f.get());
            assertThat(ks).filteredOn(k -> !k.cacheHit()).hasSize(1);
            assertThat(ks).extracting(KernelBuilder.Kernel::vmlinux).containsOnly(ks.getFirst().vmlinux());
            assertThat(Files.readString(ks.getFirst().vmlinux())).isEqualTo(FakeKernelSource.VMLINUX);
        }
        assertThat(FakeKernelSource.compiles(cache)).isEqualTo(1);
        assertThat(progress).anyMatch(s -> s.startsWith("kernel: waiting for another build of kernel"));
    }

    @Test
    void aKilledBuildsLeftoversAreCleanedUp() throws IOException {
        KernelBuilder b = FakeKernelSource.builder(cache, tarball, FRAGMENT);
        Path stale = Files.createDirectories(cache.resolve(".build-" + b.key() + "-123/obj"));
        Files.writeString(stale.resolve("half.o"), "x");
        b.build(null);
        assertThat(stale.getParent()).doesNotExist();
    }

    @Test
    void aMissingSourcePackageIsNamed() {
        KernelBuilder b = new KernelBuilder(cache, FRAGMENT, cache.resolve("nope.tar.xz"), () -> "6.1.1-1", true);
        VmctlException e = catchThrowableOfType(VmctlException.class, () -> b.build(null));
        assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("no " + cache.resolve("nope.tar.xz")).contains("linux-source-6.1");

        VmctlException notInstalled = catchThrowableOfType(VmctlException.class,
                () -> FakeKernelSource.withoutSource(cache, FRAGMENT).build(null));
        assertThat(notInstalled.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(notInstalled.getMessage()).contains("linux-source-6.1 is not installed");
    }

    /** Without the source package, a kernel built earlier from the same fragment still serves. */
    @Test
    void withoutTheSourcePackageTheCachedKernelOfTheFragmentServes() {
        KernelBuilder.Kernel built = FakeKernelSource.builder(cache, tarball, FRAGMENT).build(null);
        FakeKernelSource.builder(cache, tarball, FRAGMENT + "CONFIG_OTHER=y\n").build(null);
        List<String> progress = new ArrayList<>();
        KernelBuilder.Kernel k = FakeKernelSource.withoutSource(cache, FRAGMENT).build(progress::add);
        assertThat(k.cacheHit()).isTrue();
        assertThat(k.vmlinux()).isEqualTo(built.vmlinux());
        assertThat(progress).singleElement().asString().contains("found in cache").contains("is not installed");
        assertThatThrownBy(() -> FakeKernelSource.withoutSource(cache, FRAGMENT + "CONFIG_NEW=y\n").build(null))
                .isInstanceOfSatisfying(VmctlException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));
    }

    private List<String> leftovers() throws IOException {
        try (var s = Files.list(cache)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".build-")).toList();
        }
    }
}
