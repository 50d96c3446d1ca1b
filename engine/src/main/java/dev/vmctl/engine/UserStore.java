package dev.vmctl.engine;

import dev.vmctl.model.VmctlException;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The users of a server and their tokens (table users of {@link Store}'s migrations). Each user has one token, kept
 * as its SHA-256 ({@link Tokens#hash}); issuing or rotating hands the token out once. The user {@value #ADMIN} is
 * created at the first start and holds the token of {@code DATA/admin.token}; it cannot be removed.
 */
public final class UserStore {
    public static final String ADMIN = "admin";
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_.-]{0,31}");

    public enum Role {
        ADMIN, USER;

        public String json() { return name().toLowerCase(Locale.ROOT); }

        public static Role parse(String field, String s) {
            if (s != null) for (Role r : values()) if (r.json().equals(s)) return r;
            throw VmctlException.invalid(field, s == null ? "missing" : "'" + s + "' is not a role", "admin, user");
        }
    }

    /** A user as stored (without the token's hash); quotas null: no limit. */
    public record User(String name, Role role, String createdAt, String rotatedAt, Integer maxVms, Integer maxMemoryMiB) {
        public boolean admin() { return role == Role.ADMIN; }
    }

    /** How much a user may hold at once: VMs and their memory (null: no limit). */
    public record Quota(Integer maxVms, Integer maxMemoryMiB) {
        public static final Quota NONE = new Quota(null, null);
    }

    /** A user with the token just issued to it. */
    public record Issued(User user, String token) {}

    private final Store store;

    public UserStore(Store store) {
        this.store = store;
    }

    /** The user a token belongs to; empty for a token of the wrong form or one nobody holds (removed, rotated). */
    public Optional<User> authenticate(String token) {
        if (!Tokens.wellFormed(token)) return Optional.empty();
        return query("SELECT name, role, created_at, rotated_at, max_vms, max_memory_mib FROM users WHERE token_hash=?", Tokens.hash(token)).stream().findFirst();
    }

    public List<User> list() {
        return query("SELECT name, role, created_at, rotated_at, max_vms, max_memory_mib FROM users ORDER BY name");
    }

    public Optional<User> get(String name) {
        return query("SELECT name, role, created_at, rotated_at, max_vms, max_memory_mib FROM users WHERE name=?", name).stream().findFirst();
    }

    /** Creates a user with a new token and no quota. */
    public Issued add(String name, Role role) {
        return add(name, role, Quota.NONE);
    }

    /** Creates a user with a new token. */
    public Issued add(String name, Role role, Quota quota) {
        if (quota.maxVms() != null && quota.maxVms() < 0) throw VmctlException.invalid("maxVms", quota.maxVms() + " is negative", "0 or more");
        if (quota.maxMemoryMiB() != null && quota.maxMemoryMiB() < 0) {
            throw VmctlException.invalid("maxMemory", quota.maxMemoryMiB() + " MiB is negative", "0 or more, e.g. \"4G\"");
        }
        if (name == null || !NAME.matcher(name).matches()) {
            throw VmctlException.invalid("name", name == null ? "missing" : "'" + name + "' is not a user name",
                    "1 to 32 characters: a lower-case letter, then letters, digits, '_', '.', '-'");
        }
        String token = Tokens.generate();
        String now = Instant.now().toString();
        store.tx("add user " + name, db -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT 1 FROM users WHERE name=?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) throw VmctlException.conflict("add user " + name + ": already exists", "remove it first or pick another name");
                }
            }
            try (PreparedStatement ps = db.prepareStatement("INSERT INTO users (name, role, token_hash, created_at, max_vms, max_memory_mib) VALUES (?,?,?,?,?,?)")) {
                ps.setString(1, name);
                ps.setString(2, role.json());
                ps.setString(3, Tokens.hash(token));
                ps.setString(4, now);
                ps.setObject(5, quota.maxVms());
                ps.setObject(6, quota.maxMemoryMiB());
                ps.executeUpdate();
            }
            return null;
        });
        return new Issued(new User(name, role, now, null, quota.maxVms(), quota.maxMemoryMiB()), token);
    }

    /** A new token for {@code name}; the old one stops working at once. */
    public Issued rotate(String name) {
        String token = Tokens.generate();
        String now = Instant.now().toString();
        int n = store.tx("rotate token of " + name, db -> {
            try (PreparedStatement ps = db.prepareStatement("UPDATE users SET token_hash=?, rotated_at=? WHERE name=?")) {
                ps.setString(1, Tokens.hash(token));
                ps.setString(2, now);
                ps.setString(3, name);
                return ps.executeUpdate();
            }
        });
        if (n == 0) throw VmctlException.notFound("user", name);
        return new Issued(get(name).orElseThrow(), token);
    }

    /** Removes a user; its token stops working at once. The bootstrap admin stays. */
    public User remove(String name) {
        User u = get(name).orElseThrow(() -> VmctlException.notFound("user", name));
        if (ADMIN.equals(name)) {
            throw VmctlException.conflict("remove user " + ADMIN + ": the user of DATA/admin.token cannot be removed",
                    "rotate its token instead: vmctl token rotate (as " + ADMIN + ")");
        }
        store.tx("remove user " + name, db -> {
            try (PreparedStatement ps = db.prepareStatement("DELETE FROM users WHERE name=?")) {
                ps.setString(1, name);
                ps.executeUpdate();
            }
            return null;
        });
        return u;
    }

    private List<User> query(String sql, String... args) {
        return store.read("read users", db -> {
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) ps.setString(i + 1, args[i]);
                List<User> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new User(rs.getString("name"), Role.parse("role", rs.getString("role")), rs.getString("created_at"),
                                rs.getString("rotated_at"), (Integer) rs.getObject("max_vms"), (Integer) rs.getObject("max_memory_mib")));
                    }
                }
                return out;
            }
        });
    }
}
