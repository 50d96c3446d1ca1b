package dev.vmctl.image;

import dev.vmctl.model.Sizes;
import dev.vmctl.model.VmctlException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a Debian image is built from: the release, the packages on top of the base set, the root file system's size
 * and the mirror. Two builds with the same recipe (and the same kernel and guest files, {@link #key}) give the same
 * image, so the root file system is cached by {@link #key}.
 *
 * @param release    which Debian
 * @param packages   extra packages (sorted, each once)
 * @param sizeMiB    size of the ext4 root file system; 0: what the tree needs plus a margin
 * @param mirror     the Debian mirror debootstrap fetches from
 */
public record DebianRecipe(Release release, List<String> packages, long sizeMiB, String mirror) {
    /** Bumped whenever the build steps change what lands in the root file system. */
    public static final int VERSION = 1;
    public static final long MIN_SIZE_MIB = 512;
    public static final long MAX_SIZE_MIB = 64 * 1024;
    /**
     * Always in the root file system: systemd as init, the guest agent, iproute2 (ip, and tc for guest netem),
     * ping and arping (the gratuitous ARP after an address change), kmod, e2fsprogs (resize2fs grows the disk of a VM created with {@code --disk}), util-linux-extra
     * (hwclock: qemu-ga's guest-set-time, used when clones get the host's clock).
     */
    public static final List<String> BASE_PACKAGES = List.of("systemd-sysv", "iproute2", "iputils-ping", "iputils-arping",
            "qemu-guest-agent", "kmod", "e2fsprogs", "util-linux-extra");
    private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]{0,99}");

    /** The Debian releases vmctl builds; the image is named after it. */
    public enum Release {
        DEBIAN_12("debian-12", "bookworm", "12"),
        DEBIAN_13("debian-13", "trixie", "13");

        public final String imageName;
        public final String suite;
        public final String version;

        Release(String imageName, String suite, String version) {
            this.imageName = imageName;
            this.suite = suite;
            this.version = version;
        }

        /** The release of an image name ("debian-12"), or null. */
        public static Release ofImage(String name) {
            for (Release r : values()) if (r.imageName.equals(name)) return r;
            return null;
        }

        public static String names() {
            List<String> n = new ArrayList<>();
            for (Release r : values()) n.add(r.imageName);
            return String.join(", ", n);
        }
    }

    public DebianRecipe {
        packages = packages == null ? List.of() : List.copyOf(new TreeSet<>(packages));
    }

    /**
     * Validates user input: {@code name} "debian-12" or "debian-13", {@code packages} comma-separated Debian package
     * names (may be null or empty), {@code size} "2G", "1536M" … (null: automatic).
     */
    public static DebianRecipe parse(String name, String packages, String size, String mirror) {
        Release r = Release.ofImage(name);
        if (r == null) throw VmctlException.invalid("name", "'" + name + "' is not a Debian image vmctl builds", Release.names());
        List<String> pk = new ArrayList<>();
        if (packages != null && !packages.isBlank()) {
            for (String p : packages.split(",")) {
                String s = p.strip().toLowerCase(Locale.ROOT);
                if (s.isEmpty()) continue;
                if (!PACKAGE.matcher(s).matches()) {
                    throw VmctlException.invalid("packages", "'" + p.strip() + "' is not a Debian package name",
                            "comma-separated package names (lower-case letters, digits, + - .), e.g. curl,nginx");
                }
                pk.add(s);
            }
        }
        long mib = 0;
        if (size != null && !size.isBlank()) {
            mib = Sizes.parseMiB(size);
            String allowed = MIN_SIZE_MIB + "M.." + (MAX_SIZE_MIB / 1024) + "G (e.g. 2G, 1536M)";
            if (mib < 0) throw VmctlException.invalid("size", "'" + size + "' is not a size", allowed);
            if (mib < MIN_SIZE_MIB || mib > MAX_SIZE_MIB) throw VmctlException.invalid("size", mib + " MiB is out of range", allowed);
        }
        return new DebianRecipe(r, pk, mib, mirror == null || mirror.isBlank() ? DebianImageBuilder.DEFAULT_MIRROR : mirror);
    }

    /** debootstrap's {@code --include}: the base set and the extra packages. */
    public List<String> includes() {
        TreeSet<String> all = new TreeSet<>(BASE_PACKAGES);
        all.addAll(packages);
        return List.copyOf(all);
    }

    /** The text the cache key is computed from (also kept beside the cached root file system as {@code recipe}). */
    public String canonical(String guestFilesDigest) {
        return "vmctl debian recipe " + VERSION + "\n"
                + "suite=" + release.suite + "\n"
                + "variant=minbase\n"
                + "include=" + String.join(",", includes()) + "\n"
                + "size-mib=" + sizeMiB + "\n"
                + "mirror=" + mirror + "\n"
                + "guest-files=" + guestFilesDigest + "\n";
    }

    /** 16 hex digits of SHA-256 over {@link #canonical}. */
    public String key(String guestFilesDigest) {
        return sha256(canonical(guestFilesDigest)).substring(0, 16);
    }

    /** One line for {@code image show}: "debootstrap minbase bookworm + curl,nginx, 2048 MiB". */
    public String describe() {
        return "debootstrap --variant=minbase " + release.suite + " (" + mirror + ")"
                + (packages.isEmpty() ? "" : " + " + String.join(",", packages))
                + (sizeMiB == 0 ? ", size automatic" : ", " + sizeMiB + " MiB");
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
