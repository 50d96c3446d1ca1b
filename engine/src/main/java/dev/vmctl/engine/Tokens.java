package dev.vmctl.engine;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * API tokens: {@code vmctl_} and 43 characters of base64url (32 random bytes). The server keeps only their SHA-256
 * (a token has 256 bits of entropy, so a fast hash is enough: nothing can be guessed from it); a token is shown once,
 * when it is issued.
 */
public final class Tokens {
    public static final String PREFIX = "vmctl_";
    private static final Pattern FORM = Pattern.compile(Pattern.quote(PREFIX) + "[A-Za-z0-9_-]{43}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    /** A new token. */
    public static String generate() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Whether {@code s} has a token's form (prefix, length, alphabet); says nothing of whether it is valid. */
    public static boolean wellFormed(String s) {
        return s != null && FORM.matcher(s).matches();
    }

    /** The hex SHA-256 of a token, as stored. */
    public static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * The token of an {@code Authorization} header value: {@code Bearer TOKEN} (scheme case-insensitive, as RFC 6750
     * allows); null for a missing header, another scheme or a value that is not a token's form.
     */
    public static String fromAuthorization(String header) {
        if (header == null) return null;
        String h = header.strip();
        if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
        String t = h.substring(7).strip();
        return wellFormed(t) ? t : null;
    }
}
