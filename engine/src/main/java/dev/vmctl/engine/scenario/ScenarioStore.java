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
        store.update("save scenario " + name, "INSERT INTO scenarios (name, text, saved_at) VALUES (?,?,?)"
                + " ON CONFLICT(name) DO UPDATE SET text=excluded.text, saved_at=excluded.saved_at", name, text, Instant.now().toString());
    }

    public List<Saved> saved() {
        return store.query("list scenarios", "SELECT * FROM scenarios ORDER BY name",
                rs -> new Saved(rs.getString("name"), rs.getString("text"), rs.getString("saved_at")));
    }

    public Optional<Saved> saved(String name) {
        return saved().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public boolean delete(String name) {
        return store.update("delete scenario " + name, "DELETE FROM scenarios WHERE name=?", name) > 0;
    }

    // ---------------------------------------------------------------- runs

    public void saveRun(ScenarioRun run, String text) {
        store.update("save scenario run " + run.id(), """
                INSERT INTO scenario_runs (id, scenario, topology, verdict, started_at, finished_at, text, journal)
                VALUES (?,?,?,?,?,?,?,?)
                ON CONFLICT(id) DO UPDATE SET verdict=excluded.verdict, finished_at=excluded.finished_at, journal=excluded.journal""",
                run.id(), run.scenario(), run.topology(), run.verdict(), run.startedAt(), run.finishedAt(), text == null ? "" : text, json(run));
    }

    public Optional<ScenarioRun> run(String id) {
        List<ScenarioRun> r = runs("SELECT journal FROM scenario_runs WHERE id=?", id, 1);
        return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
    }

    /** The file a run ran (as it was then). */
    public Optional<String> runText(String id) {
        return store.query("read scenario run " + id, "SELECT text FROM scenario_runs WHERE id=?", rs -> rs.getString(1), id)
                .stream().findFirst();
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
        List<Object> args = new ArrayList<>();
        if (arg != null) args.add(arg);
        if (sql.contains("LIMIT ?")) args.add(limit);
        return store.query("list scenario runs", sql, rs -> read(rs.getString(1), ScenarioRun.class), args.toArray());
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
        store.update("ledger update", sql, value, id);
    }

    /** Faults applied and not reverted (topology null = all), oldest first. */
    public List<OpenFault> open(String topology) {
        String sql = "SELECT * FROM scenario_faults WHERE reverted_at IS NULL" + (topology == null ? "" : " AND topology=?") + " ORDER BY id";
        return store.query("ledger: open faults", sql, rs -> new OpenFault(rs.getLong("id"), rs.getString("run_id"), rs.getInt("step"),
                rs.getString("topology"), read(rs.getString("revert"), Revert.class), rs.getString("applied_at"), rs.getString("error")),
                topology == null ? new Object[0] : new Object[] {topology});
    }

    public int openCount(String runId) {
        return store.query("ledger: count", "SELECT count(*) FROM scenario_faults WHERE reverted_at IS NULL AND run_id=?",
                rs -> rs.getInt(1), runId).getFirst();
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
