package dev.vmctl.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.model.InvocationView;
import dev.vmctl.model.TemplateView;
import dev.vmctl.model.VmctlException;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Templates and their runs in SQLite (tables templates and template_runs of {@link Store}'s migrations). A run — a
 * request served ({@code kind} request) or a warm-pool slot ({@code kind} pool) — is written with its segment's name
 * before the segment exists and marked {@code cleaned} once the segment is gone, so that a start-up after a crash finds
 * every segment a request left.
 */
final class TemplateStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A template as stored. */
    record Row(String name, String source, String snapshot, String vm, int port, String ready, int maxConcurrent, long timeoutMs,
               String subnet, List<TemplateView.Member> members, List<List<String>> stages, int poolWarm, String createdAt) {
        Row withPool(int warm) {
            return new Row(name, source, snapshot, vm, port, ready, maxConcurrent, timeoutMs, subnet, members, stages, warm, createdAt);
        }
    }

    private final Store store;

    TemplateStore(Store store) {
        this.store = store;
    }

    void insert(Row r) {
        exec("create template " + r.name(), "INSERT INTO templates (name, source, snapshot, vm, port, ready, max_concurrent, timeout_ms, subnet,"
                        + " members, stages, pool_warm, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", r.name(), r.source(), r.snapshot(), r.vm(),
                r.port(), r.ready(), r.maxConcurrent(), r.timeoutMs(), r.subnet(), json(r.members()), json(r.stages()), r.poolWarm(), r.createdAt());
    }

    void setPool(String name, int warm) {
        exec("set pool of template " + name, "UPDATE templates SET pool_warm=? WHERE name=?", warm, name);
    }

    void delete(String name) {
        exec("delete template " + name, "DELETE FROM templates WHERE name=?", name);
    }

    List<Row> all() {
        return rows("list templates", "SELECT * FROM templates ORDER BY name", TemplateStore::row);
    }

    Optional<Row> get(String name) {
        return rows("read template", "SELECT * FROM templates WHERE name=?", TemplateStore::row, name).stream().findFirst();
    }

    /** Whether snapshot {@code snapshot} (a VM snapshot) belongs to a template; its name then. */
    Optional<String> ownerOfSnapshot(String snapshot) {
        for (Row r : all()) {
            for (TemplateView.Member m : r.members()) if (m.snapshot().equals(snapshot)) return Optional.of(r.name());
        }
        return Optional.empty();
    }

    private static Row row(ResultSet rs) throws SQLException {
        try {
            return new Row(rs.getString("name"), rs.getString("source"), rs.getString("snapshot"), rs.getString("vm"), rs.getInt("port"),
                    rs.getString("ready"), rs.getInt("max_concurrent"), rs.getLong("timeout_ms"), rs.getString("subnet"),
                    JSON.readValue(rs.getString("members"), new TypeReference<List<TemplateView.Member>>() {}),
                    JSON.readValue(rs.getString("stages"), new TypeReference<List<List<String>>>() {}), rs.getInt("pool_warm"),
                    rs.getString("created_at"));
        } catch (JsonProcessingException e) {
            throw new SQLException("template " + rs.getString("name") + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- runs

    void insertRun(String id, String template, String kind, String method, String path, String segment, String startedAt) {
        exec("save run " + id, "INSERT INTO template_runs (id, template, kind, method, path, segment, started_at) VALUES (?,?,?,?,?,?,?)",
                id, template, kind, method, path, segment, startedAt);
    }

    void finishRun(String id, Integer status, String error, boolean pooled, Map<String, Double> timings, String finishedAt) {
        exec("finish run " + id, "UPDATE template_runs SET status=?, error=?, pooled=?, timings=?, finished_at=? WHERE id=?",
                status, error, pooled ? 1 : 0, json(timings), finishedAt, id);
    }

    /** A pool slot taken by a request becomes that request's run. */
    void claimRun(String id, String method, String path) {
        exec("claim run " + id, "UPDATE template_runs SET kind='request', method=?, path=? WHERE id=?", method, path, id);
    }

    void markCleaned(String id, Double teardownMs) {
        exec("clean run " + id, "UPDATE template_runs SET cleaned=1, timings=json_set(coalesce(timings, '{}'), '$.teardown', ?) WHERE id=?",
                teardownMs, id);
    }

    /** Runs whose segment may still exist (not cleaned), oldest first. */
    List<InvocationView> uncleaned() {
        return rows("list open runs", "SELECT * FROM template_runs WHERE cleaned=0 ORDER BY started_at", TemplateStore::run);
    }

    /** The newest {@code limit} requests of a template, newest first. */
    List<InvocationView> runs(String template, int limit) {
        return rows("list runs of " + template, "SELECT * FROM template_runs WHERE template=? AND kind='request' ORDER BY started_at DESC, rowid DESC LIMIT ?",
                TemplateStore::run, template, limit);
    }

    long countRuns(String template) {
        List<Long> n = rows("count runs of " + template, "SELECT count(*) FROM template_runs WHERE template=? AND kind='request'", rs -> rs.getLong(1), template);
        return n.isEmpty() ? 0 : n.getFirst();
    }

    void deleteRuns(String template) {
        exec("delete runs of " + template, "DELETE FROM template_runs WHERE template=?", template);
    }

    private static InvocationView run(ResultSet rs) throws SQLException {
        Map<String, Double> t = null;
        String tj = rs.getString("timings");
        if (tj != null) {
            try {
                t = JSON.readValue(tj, new TypeReference<Map<String, Double>>() {});
            } catch (JsonProcessingException e) {
                throw new SQLException("run " + rs.getString("id") + ": bad timings", e);
            }
        }
        int st = rs.getInt("status");
        Integer status = rs.wasNull() ? null : st;
        return new InvocationView(rs.getString("id"), rs.getString("template"), rs.getString("method"), rs.getString("path"), status,
                rs.getString("error"), rs.getString("segment"), rs.getInt("pooled") != 0, t, rs.getString("started_at"),
                rs.getString("finished_at"), rs.getInt("cleaned") != 0);
    }

    // ---------------------------------------------------------------- plumbing

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw VmctlException.internal("encode " + o + ": " + e.getMessage(), e);
        }
    }

    private <T> List<T> rows(String what, String sql, Store.RowMapper<T> m, Object... args) {
        return store.query(what, sql, m, args);
    }

    private void exec(String what, String sql, Object... args) {
        store.update(what, sql, args);
    }
}
