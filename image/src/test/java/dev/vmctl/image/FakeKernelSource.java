package dev.vmctl.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for /usr/src/linux-source-6.1.tar.xz: a tarball whose Makefile answers {@code tinyconfig},
 * {@code olddefconfig} and {@code vmlinux} in milliseconds, so the builder's steps, cache, locks and
 * failures can be tested without compiling a kernel. In the fragment, {@code CONFIG_DROPME=y} is dropped
 * by olddefconfig, {@code CONFIG_FAILME=y} makes the compile fail and {@code CONFIG_SLOW=y} makes it
 * take 2 s. Every compile appends a line to {@code CACHE/compiles.txt}.
 */
final class FakeKernelSource {
    static final String RELEASE = "6.1.999-vmctl";
    static final String VMLINUX = "ELF-fake-vmlinux";

    private FakeKernelSource() {}

    static Path tarball(Path dir) throws IOException, InterruptedException {
        Path top = Files.createDirectories(dir.resolve("fake-src/linux-source-6.1"));
        String t = "\t";
        Files.writeString(top.resolve("Makefile"), String.join("\n",
                "# stand-in for the kernel's top Makefile (see FakeKernelSource)",
                "tinyconfig:",
                t + "@echo '  HOSTCC  scripts/kconfig/conf.o'",
                t + "@printf 'CONFIG_64BIT=y\\n# CONFIG_NET is not set\\n' > $(O)/.config",
                "olddefconfig:",
                t + "@grep -v DROPME $(O)/.config > $(O)/.config.new; mv $(O)/.config.new $(O)/.config",
                "vmlinux:",
                t + "@echo built >> $(CURDIR)/../../compiles.txt",
                t + "@echo '  CC      init/main.o'",
                t + "@if grep -q '^CONFIG_SLOW=y' $(O)/.config; then sleep 2; fi",
                t + "@if grep -q '^CONFIG_FAILME=y' $(O)/.config; then echo 'init/main.c:1:1: error: boom'; exit 2; fi",
                t + "@echo '  LD      vmlinux'",
                t + "@mkdir -p $(O)/include/config",
                t + "@echo " + RELEASE + " > $(O)/include/config/kernel.release",
                t + "@printf " + VMLINUX + " > $(O)/vmlinux",
                ""));
        Files.createDirectories(top.resolve("init"));
        Files.writeString(top.resolve("init/main.c"), "int main(void) { return old_value; }\n");
        Path tar = dir.resolve("fake-linux-source.tar");
        Process p = new ProcessBuilder(List.of("tar", "-C", dir.resolve("fake-src").toString(), "-cf", tar.toString(),
                "linux-source-6.1")).inheritIO().start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("tar failed");
        return tar;
    }

    static KernelBuilder builder(Path cache, Path tarball, String fragment) {
        return new KernelBuilder(cache, fragment, tarball, () -> "6.1.999-1", false);
    }

    static KernelBuilder builder(Path cache, Path tarball, String fragment, List<KernelBuilder.SourceEdit> edits) {
        return new KernelBuilder(cache, fragment, edits, tarball, () -> "6.1.999-1", false);
    }

    /** As if linux-source-6.1 were not installed. */
    static KernelBuilder withoutSource(Path cache, String fragment) {
        return new KernelBuilder(cache, fragment, Path.of("/nonexistent/linux-source-6.1.tar.xz"), () -> {
            throw KernelBuilder.missing(KernelBuilder.SOURCE_PACKAGE + " is not installed", KernelBuilder.SOURCE_PACKAGE);
        }, true);
    }

    static long compiles(Path cache) throws IOException {
        Path f = cache.resolve("compiles.txt");
        return Files.exists(f) ? Files.readAllLines(f).size() : 0;
    }
}
