package dev.vmctl.engine;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who owns what (table owners of {@link Store}'s migrations): one row per resource, by kind ({@code vm}, {@code network},
 * {@code router}, {@code topology}, {@code snapshot}, {@code scenario}, {@code segment}, {@code template}) and key (a
 * VM's id, the others' names). The user that created a resource owns it; a resource a topology made belongs to the
 * topology's owner (see the server's Ownership).
 */
public final class Owners {
    private final Store store;

    public Owners(Store store) {
        this.store = store;
    }

    public void set(String kind, String key, String owner) {
        store.tx("set owner of " + kind + " " + key, db -> {
            try (PreparedStatement ps = db.prepareStatement("INSERT INTO owners (kind, key, owner) VALUES (?,?,?)"
                    + " ON CONFLICT (kind, key) DO UPDATE SET owner=excluded.owner")) {
                ps.setString(1, kind);
                ps.setString(2, key);
                ps.setString(3, owner);
                ps.executeUpdate();
            }
            return null;
        });
    }

    public Optional<String> owner(String kind, String key) {
        if (key == null) return Optional.empty();
        return store.read("read owner of " + kind + " " + key, db -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT owner FROM owners WHERE kind=? AND key=?")) {
                ps.setString(1, kind);
                ps.setString(2, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        });
    }

    /** Every key of {@code kind} and its owner. */
    public Map<String, String> all(String kind) {
        return store.read("read owners of " + kind, db -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT key, owner FROM owners WHERE kind=?")) {
                ps.setString(1, kind);
                Map<String, String> out = new HashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.put(rs.getString(1), rs.getString(2));
                }
                return out;
            }
        });
    }

    /** The id of the network or router {@code nameOrId} ({@code kind} network or router), else null. */
    public String idOf(String kind, String nameOrId) {
        return switch (kind) {
            case "network" -> store.network(nameOrId).map(NetRows.NetRow::id).orElse(null);
            case "router" -> store.router(nameOrId).map(NetRows.RouterRow::id).orElse(null);
            default -> null;
        };
    }

    /** The name of the network or router {@code nameOrId}, else null. */
    public String nameOf(String kind, String nameOrId) {
        return switch (kind) {
            case "network" -> store.network(nameOrId).map(NetRows.NetRow::name).orElse(null);
            case "router" -> store.router(nameOrId).map(NetRows.RouterRow::name).orElse(null);
            default -> null;
        };
    }

    public void remove(String kind, String key) {
        store.tx("remove owner of " + kind + " " + key, db -> {
            try (PreparedStatement ps = db.prepareStatement("DELETE FROM owners WHERE kind=? AND key=?")) {
                ps.setString(1, kind);
                ps.setString(2, key);
                ps.executeUpdate();
            }
            return null;
        });
    }
}
