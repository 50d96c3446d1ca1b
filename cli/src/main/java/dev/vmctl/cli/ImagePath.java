package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code vm create --image PATH [--kernel FILE]}: a user's image file (ext4, raw, qcow2 or a rootfs .tar), or a
 * directory holding one and a kernel, used directly. It is imported into the server's catalog on the fly under a
 * content-addressed name ({@code file-} + 12 hex digits of SHA-256 over the rootfs and the kernel), so the same files
 * are imported once and every later create reuses that image. Without a kernel the server's vmctl kernel for systemd
 * guests boots it. The CLI and the server share the host: the paths are made absolute here and read by the server.
 */
final class ImagePath {
    /** Rootfs file names looked for in a directory, in order. */
    static final List<String> ROOTFS_NAMES = List.of("rootfs.qcow2", "rootfs.ext4", "rootfs.img", "rootfs.raw", "rootfs.tar", "disk.qcow2");
    /** Kernel file names looked for in a directory, in order. */
    static final List<String> KERNEL_NAMES = List.of("vmlinux", "vmlinuz", "bzImage", "kernel");

    /** What a path resolves to: the rootfs, the kernel (null: the server's) and the catalog name. */
    record Resolved(Path rootfs, Path kernel, String name) {}

    private ImagePath() {}

    /** Whether {@code --image} names a file or directory rather than a catalog image (image names have no '/' or '.'). */
    static boolean isPath(String image) {
        return image != null && (image.contains("/") || image.contains(".") || image.startsWith("~"));
    }

    /** Finds the rootfs (and kernel, when a directory holds one) and names the image by their contents. */
    static Resolved resolve(String image, Path kernel) {
        Path p = Path.of(image).toAbsolutePath().normalize();
        Path rootfs;
        Path k = kernel == null ? null : kernel.toAbsolutePath().normalize();
        if (Files.isDirectory(p)) {
            rootfs = ROOTFS_NAMES.stream().map(p::resolve).filter(Files::isRegularFile).findFirst().orElseThrow(() -> CliException.usage(
                    "--image " + image + ": the directory holds no root file system (one of " + String.join(", ", ROOTFS_NAMES) + ")"));
            if (k == null) k = KERNEL_NAMES.stream().map(p::resolve).filter(Files::isRegularFile).findFirst().orElse(null);
        } else if (Files.isRegularFile(p)) {
            rootfs = p;
        } else {
            throw CliException.usage("--image " + image + ": no such file or directory (an image name has no '/' or '.'; a path is a rootfs"
                    + " file — ext4, raw, qcow2, .tar — or a directory holding one and a kernel)");
        }
        if (k != null && !Files.isRegularFile(k)) throw CliException.usage("--kernel " + kernel + ": no such file");
        String digest = sha256(rootfs) + "\n" + (k == null ? "vmctl-kernel" : sha256(k));
        return new Resolved(rootfs, k, "file-" + sha256(digest.getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 12));
    }

    /** The catalog image for {@code r}: imported now unless an earlier create imported the same files. Returns its name. */
    static String ensureImported(ApiClient api, Resolved r, java.io.PrintWriter progress) {
        if (exists(api, r.name())) return r.name();
        Map<String, Object> body = new LinkedHashMap<>();
        if (r.kernel() != null) body.put("kernel", r.kernel().toString());
        body.put("rootfs", r.rootfs().toString());
        body.put("os", "imported from " + r.rootfs().getFileName());
        progress.println("importing " + r.rootfs() + (r.kernel() == null ? "" : " with kernel " + r.kernel()) + " as image " + r.name());
        progress.flush();
        try {
            api.post("/api/v1/images/" + ApiClient.seg(r.name()) + "/import", body, Duration.ofMinutes(30));
        } catch (CliException e) {
            if (!exists(api, r.name())) throw e; // another create imported the same files meanwhile: use that
        }
        return r.name();
    }

    private static boolean exists(ApiClient api, String name) {
        for (JsonNode i : api.get("/api/v1/images")) if (name.equals(i.path("name").asText())) return true;
        return false;
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw CliException.usage("--image: cannot read " + file + ": " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
