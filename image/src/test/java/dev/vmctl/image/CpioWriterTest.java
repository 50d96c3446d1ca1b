package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CpioWriterTest {
    @TempDir
    Path tmp;

    private Path stage() throws IOException {
        Path root = tmp.resolve("root");
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("etc/acpi"));
        Files.createDirectories(root.resolve("a-b"));
        Files.writeString(root.resolve("bin/tool"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(root.resolve("bin/tool"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.setPosixFilePermissions(root.resolve("etc/passwd"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(root.resolve("etc/empty"), new byte[0]);
        Files.write(root.resolve("a-b/odd"), new byte[] {1, 2, 3});
        Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("tool"));
        Files.createSymbolicLink(root.resolve("bin/abs"), Path.of("/bin/tool"));
        return root;
    }

    private static byte[] archive(Path root) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (CpioWriter w = new CpioWriter(buf)) {
            w.writeTree(root);
        }
        return buf.toByteArray();
    }

    @Test
    void writesNewcEntriesThatParseBack() throws IOException {
        Path root = stage();
        List<CpioReader.Entry> entries = CpioReader.read(archive(root));

        assertThat(entries).extracting(CpioReader.Entry::name).containsExactly(
                "a-b", "a-b/odd", "bin", "bin/abs", "bin/sh", "bin/tool", "etc", "etc/acpi", "etc/empty", "etc/passwd",
                CpioWriter.TRAILER);
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.mtime()).isZero();
            assertThat(e.uid()).isZero();
            assertThat(e.gid()).isZero();
        });
        assertThat(entries).extracting(CpioReader.Entry::ino).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0);

        CpioReader.Entry tool = byName(entries, "bin/tool");
        assertThat(tool.type()).isEqualTo(CpioWriter.S_IFREG);
        assertThat(tool.perm()).isEqualTo(0750);
        assertThat(tool.text()).isEqualTo("#!/bin/sh\necho hi\n");
        assertThat(tool.nlink()).isEqualTo(1);

        assertThat(byName(entries, "etc/passwd").perm()).isEqualTo(0644);
        assertThat(byName(entries, "etc/empty").data()).isEmpty();
        assertThat(byName(entries, "a-b/odd").data()).containsExactly(1, 2, 3);

        CpioReader.Entry sh = byName(entries, "bin/sh");
        assertThat(sh.type()).isEqualTo(CpioWriter.S_IFLNK);
        assertThat(sh.text()).isEqualTo("tool");
        assertThat(byName(entries, "bin/abs").text()).isEqualTo("/bin/tool");

        CpioReader.Entry etc = byName(entries, "etc");
        assertThat(etc.type()).isEqualTo(CpioWriter.S_IFDIR);
        assertThat(etc.nlink()).isEqualTo(2);
    }

    @Test
    void outputIsDeterministic() throws IOException {
        Path root = stage();
        byte[] first = archive(root);
        Files.setLastModifiedTime(root.resolve("etc/passwd"), FileTime.fromMillis(123_456_789_000L));
        Files.setLastModifiedTime(root.resolve("bin"), FileTime.fromMillis(42_000L));
        assertThat(archive(root)).isEqualTo(first);
    }

    @Test
    void writesDeviceNodesWithoutMknod() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (CpioWriter w = new CpioWriter(buf)) {
            w.directory("dev", 0755);
            w.charDevice("dev/console", 0600, 5, 1);
            w.file("./init", 0755, "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
        }
        List<CpioReader.Entry> entries = CpioReader.read(buf.toByteArray());
        CpioReader.Entry console = byName(entries, "dev/console");
        assertThat(console.type()).isEqualTo(CpioWriter.S_IFCHR);
        assertThat(console.perm()).isEqualTo(0600);
        assertThat(console.rdevMajor()).isEqualTo(5);
        assertThat(console.rdevMinor()).isEqualTo(1);
        assertThat(entries).extracting(CpioReader.Entry::name).contains("init");
    }

    @Test
    void refusesDuplicateAndEscapingNames() throws IOException {
        try (CpioWriter w = new CpioWriter(new ByteArrayOutputStream())) {
            w.directory("etc", 0755);
            assertThatThrownBy(() -> w.directory("./etc", 0755)).hasMessageContaining("duplicate");
            assertThatThrownBy(() -> w.file("../evil", 0644, new byte[0])).hasMessageContaining("leaves the archive root");
            assertThatThrownBy(() -> w.file("a/../../evil", 0644, new byte[0])).hasMessageContaining("leaves the archive root");
            assertThatThrownBy(() -> w.directory(CpioWriter.TRAILER, 0755)).hasMessageContaining("bad cpio entry name");
        }
    }

    @Test
    void gnuCpioListsAndExtractsIt() throws IOException {
        assumeTrue(Cmd.available("cpio"), "cpio is not installed");
        Path root = stage();
        Path archive = tmp.resolve("out.cpio");
        CpioWriter.writeTree(root, archive);

        CmdResult list = Cmd.run(List.of("cpio", "-it", "-F", archive.toString()), null, null, Duration.ofSeconds(30));
        assertThat(list.ok()).as(list.stderr()).isTrue();
        assertThat(list.stdout().lines().toList()).containsExactly(
                "a-b", "a-b/odd", "bin", "bin/abs", "bin/sh", "bin/tool", "etc", "etc/acpi", "etc/empty", "etc/passwd");

        Path out = Files.createDirectories(tmp.resolve("extracted"));
        CmdResult x = Cmd.run(List.of("cpio", "-idm", "--no-absolute-filenames", "-D", out.toString(), "-F", archive.toString()),
                null, null, Duration.ofSeconds(30));
        assertThat(x.ok()).as(x.stderr()).isTrue();
        assertThat(Files.readString(out.resolve("bin/tool"))).isEqualTo("#!/bin/sh\necho hi\n");
        assertThat(Files.readSymbolicLink(out.resolve("bin/sh"))).isEqualTo(Path.of("tool"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("bin/tool")))).isEqualTo("rwxr-x---");
    }

    private static CpioReader.Entry byName(List<CpioReader.Entry> entries, String name) {
        return entries.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }
}
