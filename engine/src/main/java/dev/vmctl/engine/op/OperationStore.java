package dev.vmctl.engine.op;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.engine.Store;
import dev.vmctl.model.Operation;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Operation records in SQLite (table {@code operations}): the journal clients list and wait on. */
public final class OperationStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Finished operations kept; older ones are pruned at start-up. */
    static final int KEEP = 20_000;

    private final Store store;

    public OperationStore(Store store) {
        this.store = store;
    }

    /** Inserts or replaces the row of an operation (one row per id). */
    void save(Operation o) {
        store.tx("save operation " + o.id(), db -> {
            try (PreparedStatement ps = db.prepareStatement("""
                    INSERT INTO operations (id, kind, targets, state, parent, created_at, started_at, finished_at, error, progress)
                    VALUES (?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT(id) DO UPDATE SET state=excluded.state, started_at=excluded.started_at,
                      finished_at=excluded.finished_at, error=excluded.error, progress=excluded.progress""")) {
                ps.setString(1, o.id());
                ps.setString(2, o.kind());
                ps.setString(3, toJson(o.targets()));
                ps.setString(4, o.state());
                ps.setString(5, o.parent());
                ps.setString(6, o.createdAt());
                ps.setString(7, o.startedAt());
                ps.setString(8, o.finishedAt());
                ps.setString(9, o.error());
                ps.setString(10, o.progress());
                ps.executeUpdate();
            }
            return null;
        });
    }

    public Optional<Operation> get(String id) {
        List<Operation> r = query("SELECT * FROM operations WHERE id=?", List.of(id));
        return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
    }

    /**
     * Operations newest first, filtered (null = any): {@code target} matches a target exactly or its id
     * part ({@code a} matches {@code vm:a}).
     */
    public List<Operation> list(String target, String state, String kind, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM operations WHERE 1=1");
        List<Object> args = new ArrayList<>();
        if (state != null) { sql.append(" AND state=?"); args.add(state); }
        if (kind != null) { sql.append(" AND kind=?"); args.add(kind); }
        if (target != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM json_each(operations.targets) t"
                    + " WHERE t.value = ? OR substr(t.value, instr(t.value, ':') + 1) = ?)");
            args.add(target);
            args.add(target);
        }
        sql.append(" ORDER BY seq DESC LIMIT ?");
        args.add(limit);
        return query(sql.toString(), args);
    }

    /** At start-up: what was queued or running when the server died has failed; old rows are pruned. */
    List<Operation> failInterrupted() {
        List<Operation> open = query("SELECT * FROM operations WHERE state IN ('queued','running') ORDER BY seq", List.of());
        String now = Instant.now().toString();
        List<Operation> failed = new ArrayList<>();
        for (Operation o : open) {
            Operation f = new Operation(o.id(), o.kind(), o.targets(), "failed", o.parent(), o.createdAt(), o.startedAt(), now,
                    "server restarted while the operation was " + o.state(), o.progress());
            save(f);
            failed.add(f);
        }
        store.tx("prune operations", db -> {
            try (PreparedStatement ps = db.prepareStatement(
                    "DELETE FROM operations WHERE seq <= (SELECT MAX(seq) FROM operations) - ?")) {
                ps.setInt(1, KEEP);
                ps.executeUpdate();
            }
            return null;
        });
        return failed;
    }

    private List<Operation> query(String sql, List<Object> args) {
        return store.read("query operations", db -> {
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
                List<Operation> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(row(rs));
                }
                return out;
            }
        });
    }

    private static Operation row(ResultSet rs) throws SQLException {
        return new Operation(rs.getString("id"), rs.getString("kind"), fromJson(rs.getString("targets")), rs.getString("state"),
                rs.getString("parent"), rs.getString("created_at"), rs.getString("started_at"), rs.getString("finished_at"),
                rs.getString("error"), rs.getString("progress"));
    }

    private static String toJson(List<String> l) {
        try {
            return JSON.writeValueAsString(l);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> fromJson(String s) {
        try {
            return JSON.readValue(s, new TypeReference<List<String>>() {});
        } catch (Exception e) {
            return List.of(s);
        }
    }
}
