package dev.vmctl.engine;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Who did what, when, with which outcome (table audit of {@link Store}'s migrations): one row per state-changing
 * request. The newest {@value #KEEP} rows are kept.
 */
public final class AuditLog {
    static final int KEEP = 100_000;
    /** Fixed width, so that the text order of {@code at} is the time order. */
    private static final DateTimeFormatter AT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** One request: {@code user} is null when it carried no valid token; {@code route} the route's template, when one matched. */
    public record Entry(long id, String at, String user, String method, String path, String route, int status) {}

    private final Store store;
    private int sincePrune;

    public AuditLog(Store store) {
        this.store = store;
    }

    public void record(Instant at, String user, String method, String path, String route, int status) {
        store.tx("write audit entry", db -> {
            try (PreparedStatement ps = db.prepareStatement("INSERT INTO audit (at, user, method, path, route, status) VALUES (?,?,?,?,?,?)")) {
                ps.setString(1, AT.format(at));
                if (user == null) ps.setNull(2, Types.VARCHAR); else ps.setString(2, user);
                ps.setString(3, method);
                ps.setString(4, path);
                if (route == null) ps.setNull(5, Types.VARCHAR); else ps.setString(5, route);
                ps.setInt(6, status);
                ps.executeUpdate();
            }
            if (++sincePrune >= 1000) {
                sincePrune = 0;
                try (PreparedStatement ps = db.prepareStatement("DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?")) {
                    ps.setInt(1, KEEP);
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** Newest first; {@code user} and {@code since} may be null (no filter). */
    public List<Entry> query(String user, Instant since, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM audit WHERE 1=1");
        List<String> args = new ArrayList<>();
        if (user != null) {
            sql.append(" AND user=?");
            args.add(user);
        }
        if (since != null) {
            sql.append(" AND at>=?");
            args.add(AT.format(since));
        }
        sql.append(" ORDER BY id DESC LIMIT ").append(Math.max(0, limit));
        return store.read("read audit log", db -> {
            try (PreparedStatement ps = db.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) ps.setString(i + 1, args.get(i));
                List<Entry> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Entry(rs.getLong("id"), rs.getString("at"), rs.getString("user"), rs.getString("method"),
                                rs.getString("path"), rs.getString("route"), rs.getInt("status")));
                    }
                }
                return out;
            }
        });
    }
}
