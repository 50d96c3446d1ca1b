package dev.vmctl.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code /usr/sbin/vmctl-identity} of the tiny image: a ~6 KB static x86-64 program without libc (source and build
 * script in {@code image/src/main/c/}) that gives a VM restored from a snapshot an identity of its own.
 * <ul>
 *   <li>{@code --serve FIFO}: the image's /init starts it on {@link #FIFO} before {@code VMCTL_READY}, so it is
 *       already running, blocked in {@code read()}, in every boot snapshot. The host writes one request into the
 *       FIFO through the guest agent; it sets the clock, the host name (/proc/sys/kernel/hostname, /etc/hostname,
 *       the 127.0.1.1 line of /etc/hosts) and /etc/machine-id, credits the host's entropy and reseeds the kernel's
 *       CRNG ({@code RNDADDENTROPY}, {@code RNDRESEEDCRNG}), configures the NICs (MAC, name, address, gratuitous
 *       ARP, default route: the classic ioctls), then answers on the console
 *       ({@code VMCTL_READY identity=NONCE} or {@code VMCTL_IDENTITY_FAILED NONCE STEP ERRNO}). No fork, no exec:
 *       under TCG the first fork and exec of a freshly restored guest cost ~0.2 s of code translation.</li>
 *   <li>{@code --reseed}: entropy on stdin (up to 512 bytes), credited, CRNG reseeded; exit status 0 or the errno
 *       (the identity script of clones runs it through guest-exec).</li>
 * </ul>
 * Busybox has no applet that issues these ioctls and the image carries no C compiler, so the binary is built once
 * and shipped as a resource.
 */
public final class IdentityHelper {
    /** Where the image builder puts it (relative to the initramfs root). */
    public static final String GUEST_PATH = "usr/sbin/vmctl-identity";
    /** The FIFO {@code --serve} reads requests from (made by the image's /init, mode 0600). */
    public static final String FIFO = "/run/vmctl-identity";
    /** Entropy bytes it credits at most per request. */
    public static final int MAX_ENTROPY = 512;

    private IdentityHelper() {}

    /** The program (the resource {@code vmctl-identity} built by {@code image/src/main/c/build.sh}). */
    public static byte[] binary() {
        try (InputStream in = IdentityHelper.class.getResourceAsStream("vmctl-identity")) {
            if (in == null) throw new IOException("resource vmctl-identity missing from the vmctl-image jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
