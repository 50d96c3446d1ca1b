package dev.vmctl.engine;

import dev.vmctl.model.VmState;
import dev.vmctl.model.VmctlException;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * vmctl's state on disk: one SQLite file, schema changes as numbered migrations applied in order at
 * open. One connection, used under this object's lock (SQLite serialises writers anyway).
 */
public final class Store implements AutoCloseable {
    /** Append only: migration N+1 is MIGRATIONS[N]. Never edit a released one. */
    private static final String[][] MIGRATIONS = {
            {"""
             CREATE TABLE vms (
               id          TEXT PRIMARY KEY,
               name        TEXT NOT NULL UNIQUE,
               state       TEXT NOT NULL,
               image       TEXT NOT NULL,
               cpus        INTEGER NOT NULL,
               memory_mib  INTEGER NOT NULL,
               accel       TEXT NOT NULL,
               run_accel   TEXT,
               created_at  TEXT NOT NULL,
               updated_at  TEXT NOT NULL,
               pid         INTEGER,
               pid_start   INTEGER,
               error       TEXT
             )"""},
    };

    private final Connection db;

    public Store(Path file) {
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement st = db.createStatement()) {
                st.execute("PRAGMA journal_mode=WAL");
                st.execute("PRAGMA synchronous=NORMAL");
                st.execute("PRAGMA busy_timeout=5000");
            }
            migrate();
        } catch (SQLException e) {
            throw VmctlException.internal("open database " + file + ": " + e.getMessage(), e);
        }
    }

    public synchronized int schemaVersion() {
        try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery("PRAGMA user_version")) {
            return rs.getInt(1);
        } catch (SQLException e) {
            throw VmctlException.internal("read schema version: " + e.getMessage(), e);
        }
    }

    private void migrate() throws SQLException {
        int current = schemaVersion();
        if (current > MIGRATIONS.length) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "database schema version " + current
                    + " is newer than this vmctl (" + MIGRATIONS.length + ")", "use a newer vmctl or another --data-dir");
        }
        for (int v = current; v < MIGRATIONS.length; v++) {
            db.setAutoCommit(false);
            try (Statement st = db.createStatement()) {
                for (String sql : MIGRATIONS[v]) st.execute(sql);
                st.execute("PRAGMA user_version = " + (v + 1));
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        }
    }

    public synchronized void insert(VmRow r) {
        try (PreparedStatement ps = db.prepareStatement("""
                INSERT INTO vms (id, name, state, image, cpus, memory_mib, accel, run_accel, created_at, updated_at, pid, pid_start, error)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""")) {
            bind(ps, r);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().contains("UNIQUE")) {
                throw VmctlException.conflict("create vm " + r.name() + ": the name is already in use",
                        "choose another name or remove the existing VM");
            }
            throw VmctlException.internal("insert vm " + r.name() + ": " + e.getMessage(), e);
        }
    }

    public synchronized void update(VmRow r) {
        try (PreparedStatement ps = db.prepareStatement("""
                UPDATE vms SET id=?, name=?, state=?, image=?, cpus=?, memory_mib=?, accel=?, run_accel=?, created_at=?,
                updated_at=?, pid=?, pid_start=?, error=? WHERE id=?""")) {
            bind(ps, r);
            ps.setString(14, r.id());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw VmctlException.internal("update vm " + r.name() + ": " + e.getMessage(), e);
        }
    }

    public synchronized void delete(String id) {
        try (PreparedStatement ps = db.prepareStatement("DELETE FROM vms WHERE id=?")) {
            ps.setString(1, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw VmctlException.internal("delete vm " + id + ": " + e.getMessage(), e);
        }
    }

    public synchronized List<VmRow> all() {
        return query("SELECT * FROM vms ORDER BY created_at, name", null);
    }

    public synchronized Optional<VmRow> byIdOrName(String key) {
        List<VmRow> r = query("SELECT * FROM vms WHERE id=?1 OR name=?1", key);
        return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
    }

    private List<VmRow> query(String sql, String arg) {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            if (arg != null) ps.setString(1, arg);
            List<VmRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new VmRow(rs.getString("id"), rs.getString("name"), VmState.valueOf(rs.getString("state")),
                            rs.getString("image"), rs.getInt("cpus"), rs.getInt("memory_mib"), rs.getString("accel"),
                            rs.getString("run_accel"), rs.getString("created_at"), rs.getString("updated_at"),
                            nullableLong(rs, "pid"), nullableLong(rs, "pid_start"),
                            rs.getString("error")));
                }
            }
            return out;
        } catch (SQLException e) {
            throw VmctlException.internal("query vms: " + e.getMessage(), e);
        }
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    private static void bind(PreparedStatement ps, VmRow r) throws SQLException {
        ps.setString(1, r.id());
        ps.setString(2, r.name());
        ps.setString(3, r.state().name());
        ps.setString(4, r.image());
        ps.setInt(5, r.cpus());
        ps.setInt(6, r.memoryMiB());
        ps.setString(7, r.accel());
        ps.setString(8, r.runAccel());
        ps.setString(9, r.createdAt());
        ps.setString(10, r.updatedAt());
        if (r.pid() == null) ps.setNull(11, Types.INTEGER); else ps.setLong(11, r.pid());
        if (r.pidStart() == null) ps.setNull(12, Types.INTEGER); else ps.setLong(12, r.pidStart());
        ps.setString(13, r.error());
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing twice or a broken connection: nothing left to do
        }
    }
}
