package dev.vmctl.image;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** vmctl-identity run on this host: as the guest's resident helper on a FIFO (paths under a scratch root), and --reseed. */
class IdentityHelperTest {
    @TempDir
    Path tmp;

    private static void assumeRunnable() {
        assumeTrue("amd64".equals(System.getProperty("os.arch")) && "root".equals(System.getProperty("user.name")),
                "needs x86-64 Linux and root (the ioctls need CAP_SYS_ADMIN; they reseed this host's CRNG, which is harmless)");
    }

    private Path install() throws Exception {
        Path tool = tmp.resolve("vmctl-identity");
        Files.write(tool, IdentityHelper.binary());
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        return tool;
    }

    static byte[] request(long nonce, String hostname, String machineId, byte[] entropy) {
        byte[] h = hostname.getBytes(StandardCharsets.US_ASCII), id = machineId.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(32 + 6 + h.length + id.length + entropy.length + 1 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put("VMCTLID1".getBytes(StandardCharsets.US_ASCII)).putLong(nonce).putLong(0).putLong(0); // clock: leave it
        for (byte[] f : new byte[][]{h, id, entropy}) b.putShort((short) f.length).put(f);
        b.put((byte) 0).put(new byte[4]); // no NICs (CloneIdentityTest runs the helper with NICs), no gateway
        return b.array();
    }

    @Test
    void isASmallStaticExecutable() {
        byte[] b = IdentityHelper.binary();
        assertThat(new String(b, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("ELF");
        assertThat(b.length).isLessThan(16 << 10);
    }

    @Test
    void servesIdentityRequestsFromItsFifo() throws Exception {
        assumeRunnable();
        Path tool = install();
        Path root = tmp.resolve("root");
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("proc/sys/kernel"));
        Files.createDirectories(root.resolve("dev"));
        Files.createSymbolicLink(root.resolve("dev/urandom"), Path.of("/dev/urandom"));
        Files.writeString(root.resolve("dev/console"), "");
        Files.writeString(root.resolve("etc/hosts"), "127.0.0.1\tlocalhost\n127.0.1.1\ttemplate\n::1\tlocalhost\n");
        Path fifo = tmp.resolve("fifo");
        assertThat(Cmd.run("mkfifo", fifo.toString()).ok()).isTrue();
        Process p = new ProcessBuilder(tool.toString(), "--serve", fifo.toString(), root.toString()).start();
        try {
            byte[] entropy = new byte[512];
            new SecureRandom().nextBytes(entropy);
            try (OutputStream w = Files.newOutputStream(fifo)) {
                w.write(request(0x0123456789abcdefL, "web-1", "0123456789abcdef0123456789abcdef", entropy));
            }
            try (OutputStream w = Files.newOutputStream(fifo)) {
                w.write(request(0x42L, "web-2", "fedcba9876543210fedcba9876543210", new byte[600])); // too much entropy
            }
            try (OutputStream w = Files.newOutputStream(fifo)) { // and the next request is read in step
                w.write(request(0x43L, "web-3", "00000000000000000000000000000003", new byte[8]));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Files.readString(root.resolve("dev/console")).contains("identity=0000000000000043") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(Files.readString(root.resolve("dev/console"))).isEqualTo("""

                    VMCTL_READY identity=0123456789abcdef

                    VMCTL_IDENTITY_FAILED 0000000000000042 request 7

                    VMCTL_READY identity=0000000000000043
                    """);
            assertThat(Files.readString(root.resolve("proc/sys/kernel/hostname"))).isEqualTo("web-3");
            assertThat(Files.readString(root.resolve("etc/hostname"))).isEqualTo("web-3\n");
            assertThat(Files.readString(root.resolve("etc/hosts"))).isEqualTo("127.0.0.1\tlocalhost\n127.0.1.1\tweb-3\n::1\tlocalhost\n");
            assertThat(Files.readString(root.resolve("etc/machine-id"))).isEqualTo("00000000000000000000000000000003\n");
            assertThat(p.isAlive()).as("it keeps serving").isTrue();
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    @Test
    void reseedsFromStdin() throws Exception {
        assumeRunnable();
        Path tool = install();
        byte[] entropy = new byte[700];
        new SecureRandom().nextBytes(entropy);
        CmdResult r = Cmd.run(List.of(tool.toString(), "--reseed"), entropy, null, Duration.ofSeconds(10));
        assertThat(r.exitCode()).as("exit status (errno on failure)").isZero();
        assertThat(Cmd.run(List.of(tool.toString(), "--reseed"), new byte[0], null, Duration.ofSeconds(10)).exitCode()).isZero();
        CmdResult usage = Cmd.run(List.of(tool.toString()), new byte[0], null, Duration.ofSeconds(10));
        assertThat(usage.exitCode()).isEqualTo(22);
        assertThat(usage.stderr()).contains("usage");
    }

    /** The shipped binary is what build.sh makes of the source (with the compiler it was built with). */
    @Test
    void theBinaryIsBuiltFromTheSource() throws Exception {
        assumeTrue(Cmd.available("gcc"), "no gcc");
        String version = Cmd.run("gcc", "--version").stdout().lines().findFirst().orElse("");
        assumeTrue(version.equals("gcc (Debian 12.2.0-14+deb12u1) 12.2.0"), "another gcc (" + version + ") may build other bytes");
        Path src = Path.of("src/main/c/vmctl-identity.c").toAbsolutePath();
        Path out = tmp.resolve("built");
        String script = Files.readString(Path.of("src/main/c/build.sh"));
        String flags = script.substring(script.indexOf("gcc "), script.indexOf("-o \"$out\"")).replace("\\\n", " ");
        List<String> argv = new java.util.ArrayList<>(List.of(flags.trim().split("\\s+")));
        argv.addAll(List.of("-o", out.toString(), src.toString()));
        CmdResult r = Cmd.run(argv, null, null, Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(Files.readAllBytes(out)).as("run image/src/main/c/build.sh after changing vmctl-identity.c").isEqualTo(IdentityHelper.binary());
    }
}
