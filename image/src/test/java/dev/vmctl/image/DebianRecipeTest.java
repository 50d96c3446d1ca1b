package dev.vmctl.image;

import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DebianRecipeTest {
    private static final String M = "http://deb.debian.org/debian";

    @Test
    void parsesNamesPackagesAndSize() {
        DebianRecipe r = DebianRecipe.parse("debian-12", " nginx, curl ,curl", "2G", M);
        assertThat(r.release().suite).isEqualTo("bookworm");
        assertThat(r.packages()).containsExactly("curl", "nginx");
        assertThat(r.sizeMiB()).isEqualTo(2048);
        assertThat(r.includes()).contains("systemd-sysv", "qemu-guest-agent", "iproute2", "iputils-ping", "kmod", "curl", "nginx");
        assertThat(DebianRecipe.parse("debian-13", null, null, null).release().suite).isEqualTo("trixie");
        assertThat(DebianRecipe.parse("debian-13", "", "", M).sizeMiB()).isZero();
    }

    @Test
    void badInputNamesTheFieldAndTheAllowedValues() {
        assertThatThrownBy(() -> DebianRecipe.parse("debian-11", null, null, M)).isInstanceOf(VmctlException.class)
                .hasMessageContaining("name").satisfies(e -> assertThat(((VmctlException) e).detail()).contains("debian-12, debian-13"));
        assertThatThrownBy(() -> DebianRecipe.parse("debian-12", "curl;rm -rf /", null, M)).hasMessageContaining("packages");
        assertThatThrownBy(() -> DebianRecipe.parse("debian-12", "Curl Nginx", null, M)).hasMessageContaining("packages");
        assertThatThrownBy(() -> DebianRecipe.parse("debian-12", null, "100M", M)).hasMessageContaining("size");
        assertThatThrownBy(() -> DebianRecipe.parse("debian-12", null, "lots", M)).hasMessageContaining("size");
    }

    @Test
    void theCacheKeyFollowsTheRecipe() {
        String g = "guest1";
        DebianRecipe a = DebianRecipe.parse("debian-12", "curl,nginx", null, M);
        assertThat(DebianRecipe.parse("debian-12", "nginx,curl", null, M).key(g)).isEqualTo(a.key(g)); // order does not matter
        assertThat(a.key(g)).hasSize(16).matches("[0-9a-f]+");
        assertThat(DebianRecipe.parse("debian-12", "curl", null, M).key(g)).isNotEqualTo(a.key(g));
        assertThat(DebianRecipe.parse("debian-13", "curl,nginx", null, M).key(g)).isNotEqualTo(a.key(g));
        assertThat(DebianRecipe.parse("debian-12", "curl,nginx", "2G", M).key(g)).isNotEqualTo(a.key(g));
        assertThat(DebianRecipe.parse("debian-12", "curl,nginx", null, "http://mirror.example/debian").key(g)).isNotEqualTo(a.key(g));
        assertThat(a.key("guest2")).isNotEqualTo(a.key(g)); // vmctl's own guest files changed: rebuild
        assertThat(a.canonical(g)).contains("suite=bookworm").contains("variant=minbase");
    }

    @Test
    void argvAreArraysWithoutAShell() {
        DebianRecipe r = DebianRecipe.parse("debian-12", "curl", null, M);
        assertThat(DebianImageBuilder.debootstrapArgv(r, Path.of("/t/tree"))).containsExactly("debootstrap", "--variant=minbase",
                "--include=" + String.join(",", r.includes()), "bookworm", "/t/tree", M);
        assertThat(DebianImageBuilder.mkfsArgv(Path.of("/t/tree"), Path.of("/t/rootfs.ext4"), 700)).containsExactly("mkfs.ext4", "-q",
                "-F", "-L", "vmctl-root", "-E", "root_owner=0:0", "-d", "/t/tree", "/t/rootfs.ext4", "700M");
    }

    @Test
    void automaticSizeHasAMargin() {
        assertThat(DebianImageBuilder.autoSizeMiB(10L << 20)).isEqualTo(DebianRecipe.MIN_SIZE_MIB);
        assertThat(DebianImageBuilder.autoSizeMiB(1000L << 20)).isEqualTo(1000 * 13 / 10 + 128);
    }

    @Test
    void findsTheHostsDebianMirror() {
        assertThat(DebianImageBuilder.mirrorOf(List.of("# deb http://x/debian bookworm main",
                "deb http://security.debian.org/debian-security bookworm-security main",
                "deb [arch=amd64] http://ftp.de.debian.org/debian/ bookworm main"))).contains("http://ftp.de.debian.org/debian");
        assertThat(DebianImageBuilder.mirrorOf(List.of("Types: deb", "URIs: http://deb.debian.org/debian", "Suites: bookworm")))
                .contains("http://deb.debian.org/debian");
        assertThat(DebianImageBuilder.mirrorOf(List.of("URIs: http://deb.debian.org/debian-security"))).isEmpty();
    }

    @Test
    void tuningMasksUnitsAndInstallsTheAgentUnit(@TempDir Path tree) throws Exception {
        Files.createDirectories(tree.resolve("usr/share/doc/pkg"));
        Files.writeString(tree.resolve("usr/share/doc/pkg/README"), "x");
        Files.createDirectories(tree.resolve("usr/share/locale/de"));
        Files.createDirectories(tree.resolve("usr/share/locale/C.UTF-8"));
        Files.createDirectories(tree.resolve("etc"));
        Files.writeString(tree.resolve("etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
        DebianImageBuilder.tune(tree, DebianRecipe.parse("debian-12", null, null, M));
        assertThat(tree.resolve("usr/share/doc/pkg")).doesNotExist();
        assertThat(tree.resolve("usr/share/locale/de")).doesNotExist();
        assertThat(tree.resolve("usr/share/locale/C.UTF-8")).exists();
        assertThat(Files.readString(tree.resolve("etc/machine-id"))).isEmpty();
        for (String u : List.of("systemd-udevd.service", "serial-getty@ttyS0.service", "apt-daily.timer", "qemu-guest-agent.service")) {
            assertThat(Files.readSymbolicLink(tree.resolve("etc/systemd/system").resolve(u))).isEqualTo(Path.of("/dev/null"));
        }
        assertThat(Files.readSymbolicLink(tree.resolve("etc/systemd/system/sysinit.target.wants/vmctl-agent.service")))
                .isEqualTo(Path.of("/etc/systemd/system/vmctl-agent.service"));
        assertThat(Files.readString(tree.resolve("etc/systemd/system/vmctl-agent.service"))).contains("ExecStart=/usr/lib/vmctl/guest-agent");
        assertThat(Files.isExecutable(tree.resolve("usr/lib/vmctl/guest-agent"))).isTrue();
        assertThat(Files.isExecutable(tree.resolve(IdentityHelper.GUEST_PATH))).isTrue();
        assertThat(Files.readString(tree.resolve("etc/hostname"))).isEqualTo("debian\n");
    }

    @Test
    void theSystemdKernelExtendsTheMicrovmFragment() {
        String f = KernelBuilder.systemdFragment();
        assertThat(f).startsWith(KernelBuilder.defaultFragment()).contains("CONFIG_CGROUPS=y").contains("CONFIG_FHANDLE=y");
        KernelBuilder.parseFragment(f); // no contradictions
    }
}
