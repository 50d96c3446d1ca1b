package dev.vmctl.net;

import dev.vmctl.model.VmctlException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * MAC addresses for VM NICs: QEMU's 52:54:00 prefix (0x52 has the locally-administered bit set and the
 * multicast bit clear) followed by three bytes. {@link #forNic} is deterministic: the same (vm, index)
 * always gets the same MAC, so a restart or a rebuilt database gives the same address. Three bytes can
 * collide (about 1 in 16.7 million per pair): a caller that finds a clash in its database asks again
 * with the next {@code attempt}.
 */
public final class Macs {
    public static final String PREFIX = "52:54:00";
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Macs() {}

    public static String forNic(String vmId, int index) {
        return forNic(vmId, index, 0);
    }

    /** Like {@link #forNic(String, int)}, for the attempt-th retry after a collision. */
    public static String forNic(String vmId, int index, int attempt) {
        if (vmId == null || vmId.isEmpty()) throw VmctlException.invalid("vmId", "missing", "the VM's id");
        if (index < 0) throw VmctlException.invalid("nic index", String.valueOf(index), "0 or more");
        String seed = "vmctl-mac\0" + vmId + "\0" + index + (attempt == 0 ? "" : "\0" + attempt);
        byte[] h = sha256(seed.getBytes(StandardCharsets.UTF_8));
        return format(h[0], h[1], h[2]);
    }

    public static String random() {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        return format(b[0], b[1], b[2]);
    }

    /** Validates a user-given MAC (six hex octets, unicast) and returns it lower-case. */
    public static String check(String mac) {
        String m = mac == null ? "" : mac.strip().toLowerCase(Locale.ROOT).replace('-', ':');
        if (!MAC.matcher(m).matches()) {
            throw VmctlException.invalid("mac", "'" + mac + "' is not a MAC address", "six hex octets, e.g. 52:54:00:12:34:56");
        }
        int first = Integer.parseInt(m.substring(0, 2), 16);
        if ((first & 1) != 0) throw VmctlException.invalid("mac", m + " is a multicast address", "a unicast MAC (first octet even), e.g. 52:54:00:12:34:56");
        if (m.equals("00:00:00:00:00:00")) throw VmctlException.invalid("mac", "all zeros", "a unicast MAC, e.g. 52:54:00:12:34:56");
        return m;
    }

    private static String format(byte a, byte b, byte c) {
        return PREFIX + ":" + HexFormat.ofDelimiter(":").formatHex(new byte[]{a, b, c});
    }

    private static byte[] sha256(byte[] in) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
