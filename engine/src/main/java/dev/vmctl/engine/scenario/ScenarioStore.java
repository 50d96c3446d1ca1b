package dev.vmctl.engine.scenario;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.engine.Store;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.model.VmctlException;
import dev.vmctl.scenario.Revert;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Scenarios in SQLite: saved files (table {@code scenarios}), runs and their journals ({@code scenario_runs}),
 * and the fault ledger ({@code scenario_faults}: one row per applied fault, written before it is applied,
 * {@code reverted_at} set once it is undone).
 */
public final class ScenarioStore {
    static final ObjectMapper JSON = new ObjectMapper();

    private final Store store;

    public ScenarioStore(Store store) {
        this.store = store;
    }

    public record Saved(String name, String text, String savedAt) {}

    /** An unreverted ledger row. */
    public record OpenFault(long id, String runId, int step, String topology, Revert revert, String appliedAt, String error) {}

    // ---------------------------------------------------------------- saved scenarios

    public void save(String name, String text) {
        store.tx("save scenario " + name, db -> {
            try (PreparedStatement ps = db.prepareStatement(
                    "INSERT INTO scenarios (name, text, saved_at) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET text=excluded.text, saved_at=excluded.saved_at")) {
                ps.setString(1, name);
                ps.setString(2, text);
                ps.setString(3, Instant.now().toString());
                ps.executeUpdate();
            }
            return null;
        });
    }

    public List<Saved> saved() {
        return store.read("list scenarios", db -> {
            List<Saved> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement("SELECT * FROM scenarios ORDER BY name"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Saved(rs.getString("name"), rs.getString("text"), rs.getString("saved_at")));
            }
            return out;
        });
    }

    public Optional<Saved> saved(String name) {
        return saved().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public boolean delete(String name) {
        return store.tx("delete scenario " + name, db -> {
            try (PreparedStatement ps = db.prepareStatement("DELETE FROM scenarios WHERE name=?")) {
                ps.setString(1, name);
                return ps.executeUpdate() > 0;
            }
        });
    }

    // ---------------------------------------------------------------- runs

    public void saveRun(ScenarioRun run, String text) {
        String journal = json(run);
        store.tx("save scenario run " + run.id(), db -> {
            try (PreparedStatement ps = db.prepareStatement("""
                    INSERT INTO scenario_runs (id, scenario, topology, verdict, started_at, finished_at, text, journal)
                    VALUES (?,?,?,?,?,?,?,?)
                    ON CONFLICT(id) DO UPDATE SET verdict=excluded.verdict, finished_at=excluded.finished_at, journal=excluded.journal""")) {
                ps.setString(1, run.id());
                ps.setString(2, run.scenario());
                ps.setString(3, run.topology());
                ps.setString(4, run.verdict());
                ps.setString(5, run.startedAt());
                ps.setString(6, run.finishedAt());
                ps.setString(7, text == null ? "" : text);
                ps.setString(8, journal);
                ps.executeUpdate();
            }
            return null;
        });
    }

    public Optional<ScenarioRun> run(String id) {
        List<ScenarioRun> r = runs("SELECT journal FROM scenario_runs WHERE id=?", id, 1);
        return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
    }

    /** The file a run ran (as it was then). */
    public Optional<String> runText(String id) {
        return store.read("read scenario run " + id, db -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT text FROM scenario_runs WHERE id=?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        });
    }

    /** Runs newest first; scenario null = all. */
    public List<ScenarioRun> runs(String scenario, int limit) {
        return scenario == null
                ? runs("SELECT journal FROM scenario_runs ORDER BY seq DESC LIMIT ?", null, limit)
                : runs("SELECT journal FROM scenario_runs WHERE scenario=? ORDER BY seq DESC LIMIT ?", scenario, limit);
    }

    public List<ScenarioRun> unfinishedRuns() {
        return runs("SELECT journal FROM scenario_runs WHERE verdict='running' ORDER BY seq LIMIT ?", null, 10_000);
    }

    private List<ScenarioRun> runs(String sql, String arg, int limit) {
        return store.read("list scenario runs", db -> {
            List<ScenarioRun> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                int i = 1;
                if (arg != null) ps.setString(i++, arg);
                if (sql.contains("LIMIT ?")) ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(read(rs.getString(1), ScenarioRun.class));
                }
            }
            return out;
        });
    }

    // ---------------------------------------------------------------- the fault ledger

    public long applying(String runId, int step, String topology, Revert revert) {
        return store.tx("ledger: fault of run " + runId, db -> {
            try (PreparedStatement ps = db.prepareStatement(
                    "INSERT INTO scenario_faults (run_id, step, topology, revert, applied_at) VALUES (?,?,?,?,?)",
                    java.sql.Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, runId);
                ps.setInt(2, step);
                ps.setString(3, topology);
                ps.setString(4, json(revert));
                ps.setString(5, Instant.now().toString());
                ps.executeUpdate();
                try (ResultSet k = ps.getGeneratedKeys()) {
                    k.next();
                    return k.getLong(1);
                }
            }
        });
    }

    public void reverted(long id) {
        update("UPDATE scenario_faults SET reverted_at=?, error=NULL WHERE id=?", Instant.now().toString(), id);
    }

    public void revertFailed(long id, String error) {
        update("UPDATE scenario_faults SET error=? WHERE id=?", error, id);
    }

    private void update(String sql, String value, long id) {
        store.tx("ledger update", db -> {
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                ps.setString(1, value);
                ps.setLong(2, id);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Faults applied and not reverted (topology null = all), oldest first. */
    public List<OpenFault> open(String topology) {
        return store.read("ledger: open faults", db -> {
            List<OpenFault> out = new ArrayList<>();
            String sql = "SELECT * FROM scenario_faults WHERE reverted_at IS NULL" + (topology == null ? "" : " AND topology=?") + " ORDER BY id";
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                if (topology != null) ps.setString(1, topology);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new OpenFault(rs.getLong("id"), rs.getString("run_id"), rs.getInt("step"), rs.getString("topology"),
                                read(rs.getString("revert"), Revert.class), rs.getString("applied_at"), rs.getString("error")));
                    }
                }
            }
            return out;
        });
    }

    public int openCount(String runId) {
        return store.read("ledger: count", db -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT count(*) FROM scenario_faults WHERE reverted_at IS NULL AND run_id=?")) {
                ps.setString(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw VmctlException.internal("write JSON: " + e.getMessage(), e);
        }
    }

    static <T> T read(String s, Class<T> type) {
        try {
            return JSON.readValue(s, type);
        } catch (IOException e) {
            throw VmctlException.internal("read JSON: " + e.getMessage(), e);
        }
    }

}
