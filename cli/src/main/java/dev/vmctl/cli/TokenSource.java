package dev.vmctl.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where the CLI's token comes from, first found wins: {@code VMCTL_TOKEN}; {@code DATA/admin.token} when this user
 * can read it (DATA: {@code VMCTL_DATA_DIR}, else the data dir {@code vmctl serve} uses by default:
 * /var/lib/vmctl for root, ~/.local/share/vmctl otherwise); {@code ~/.config/vmctl/token}.
 *
 * @param token  the token, or null when none was found
 * @param file   the file it was read from (null for the environment or none)
 * @param tried  what was looked at, for the error a 401 prints
 */
record TokenSource(String token, Path file, List<String> tried) {
    static final String ENV = "VMCTL_TOKEN";

    static TokenSource find(Map<String, String> env) {
        List<String> tried = new ArrayList<>();
        String t = env.get(ENV);
        if (t != null && !t.isBlank()) return new TokenSource(t.strip(), null, List.of(ENV));
        tried.add(ENV + " (unset)");
        for (Path f : List.of(dataDir(env).resolve("admin.token"), configFile(env))) {
            String read = read(f);
            if (read != null && !read.isBlank()) return new TokenSource(read.strip(), f, List.copyOf(tried));
            tried.add(f + (Files.exists(f) ? " (not readable)" : " (absent)"));
        }
        return new TokenSource(null, null, List.copyOf(tried));
    }

    /** The data dir as {@code vmctl serve} picks its default. */
    static Path dataDir(Map<String, String> env) {
        String d = env.get("VMCTL_DATA_DIR");
        if (d != null && !d.isBlank()) return Path.of(d);
        boolean root = "root".equals(System.getProperty("user.name"));
        return root ? Path.of("/var/lib/vmctl") : home(env).resolve(".local/share/vmctl");
    }

    /** {@code ~/.config/vmctl/token}. */
    static Path configFile(Map<String, String> env) {
        return home(env).resolve(".config/vmctl/token");
    }

    private static Path home(Map<String, String> env) {
        String h = env.get("HOME");
        return Path.of(h != null && !h.isBlank() ? h : System.getProperty("user.home"));
    }

    private static String read(Path f) {
        try {
            return Files.isReadable(f) && Files.isRegularFile(f) ? Files.readString(f, StandardCharsets.UTF_8) : null;
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    /** The detail of a 401: where a token was looked for, and how to get one. */
    String hint() {
        if (token == null) {
            return "no token found; looked at " + String.join(", ", tried) + ". Set VMCTL_TOKEN, or VMCTL_DATA_DIR to the server's"
                    + " --data-dir (its admin.token), or put a token from 'vmctl user add NAME' in " + tried.getLast().replace(" (absent)", "")
                    .replace(" (not readable)", "");
        }
        return "the token from " + (file == null ? ENV : file.toString()) + " was refused: it was removed or rotated, or is another"
                + " server's; ask an admin for a new one ('vmctl user add NAME', 'vmctl token rotate')";
    }
}
