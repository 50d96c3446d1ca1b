package dev.vmctl.engine;

import dev.vmctl.model.NodeSnapshotView;
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
import java.util.Map;
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
            {"""
             CREATE TABLE networks (
               id          TEXT PRIMARY KEY,
               name        TEXT NOT NULL UNIQUE,
               subnet      TEXT NOT NULL,
               gateway     TEXT NOT NULL,
               vlan        INTEGER,
               bridge      TEXT NOT NULL UNIQUE,
               created_at  TEXT NOT NULL
             )""", """
             CREATE TABLE routers (
               id          TEXT PRIMARY KEY,
               name        TEXT NOT NULL UNIQUE,
               netns       TEXT NOT NULL UNIQUE,
               created_at  TEXT NOT NULL
             )""", """
             CREATE TABLE router_links (
               router_id   TEXT NOT NULL REFERENCES routers(id) ON DELETE CASCADE,
               network_id  TEXT NOT NULL REFERENCES networks(id),
               PRIMARY KEY (router_id, network_id)
             )""", """
             CREATE TABLE router_routes (
               router_id   TEXT NOT NULL REFERENCES routers(id) ON DELETE CASCADE,
               dest        TEXT NOT NULL,
               via         TEXT NOT NULL,
               PRIMARY KEY (router_id, dest)
             )""", """
             CREATE TABLE nics (
               vm_id       TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
               idx         INTEGER NOT NULL,
               network_id  TEXT NOT NULL REFERENCES networks(id),
               mac         TEXT NOT NULL UNIQUE,
               ip          TEXT,
               link_up     INTEGER NOT NULL DEFAULT 1,
               impair      TEXT,
               PRIMARY KEY (vm_id, idx)
             )""", """
             CREATE UNIQUE INDEX nics_ip ON nics(network_id, ip)"""},
            {"""
             CREATE TABLE vm_sources (
               vm_id       TEXT PRIMARY KEY REFERENCES vms(id) ON DELETE CASCADE,
               snapshot    TEXT NOT NULL
             )"""},
            {"""
             CREATE TABLE topologies (
               name        TEXT PRIMARY KEY,
               spec        TEXT NOT NULL,
               file        TEXT,
               applied_at  TEXT NOT NULL
             )""", """
             CREATE TABLE labels (
               kind        TEXT NOT NULL,
               id          TEXT NOT NULL,
               topology    TEXT NOT NULL,
               node        TEXT,
               local_name  TEXT NOT NULL,
               role        TEXT,
               PRIMARY KEY (kind, id)
             )"""},
            {"""
             CREATE TABLE node_snapshots (
               name        TEXT PRIMARY KEY,
               topology    TEXT NOT NULL,
               node        TEXT NOT NULL,
               members     TEXT NOT NULL,
               created_at  TEXT NOT NULL
             )"""},
            {"""
             CREATE TABLE operations (
               seq         INTEGER PRIMARY KEY AUTOINCREMENT,
               id          TEXT NOT NULL UNIQUE,
               kind        TEXT NOT NULL,
               targets     TEXT NOT NULL,
               state       TEXT NOT NULL,
               parent      TEXT,
               created_at  TEXT NOT NULL,
               started_at  TEXT,
               finished_at TEXT,
               error       TEXT,
               progress    TEXT
             )""", """
             CREATE INDEX operations_state ON operations(state)"""},
            {"""
             CREATE TABLE nodes (
               topology    TEXT NOT NULL,
               name        TEXT NOT NULL,
               created_at  TEXT NOT NULL,
               PRIMARY KEY (topology, name)
             )""", """
             INSERT OR IGNORE INTO nodes (topology, name, created_at)
               SELECT DISTINCT topology, node, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM labels WHERE kind = 'vm' AND node IS NOT NULL"""},
            {"""
             CREATE TABLE scenarios (
               name        TEXT PRIMARY KEY,
               text        TEXT NOT NULL,
               saved_at    TEXT NOT NULL
             )""", """
             CREATE TABLE scenario_runs (
               seq         INTEGER PRIMARY KEY AUTOINCREMENT,
               id          TEXT NOT NULL UNIQUE,
               scenario    TEXT NOT NULL,
               topology    TEXT NOT NULL,
               verdict     TEXT NOT NULL,
               started_at  TEXT NOT NULL,
               finished_at TEXT,
               text        TEXT NOT NULL,
               journal     TEXT NOT NULL
             )""", """
             CREATE TABLE scenario_faults (
               id          INTEGER PRIMARY KEY AUTOINCREMENT,
               run_id      TEXT NOT NULL,
               step        INTEGER NOT NULL,
               topology    TEXT,
               revert      TEXT NOT NULL,
               applied_at  TEXT NOT NULL,
               reverted_at TEXT,
               error       TEXT
             )""", """
             CREATE INDEX scenario_faults_open ON scenario_faults(reverted_at)"""},
            // a node made by `vmctl node clone`: the node snapshot it came from and its VMs' start order
            // (JSON stages, e.g. [["cache"],["api"]]); both null for a node of the topology file
            {"ALTER TABLE nodes ADD COLUMN cloned_from TEXT", "ALTER TABLE nodes ADD COLUMN start_order TEXT"},
            // artifacts (issue 14, F-05): what each VM is given (the spec as written, the cache digest it resolved to,
            // its last delivery) and the command started once they are in place; both go with the VM
            {"""
             CREATE TABLE vm_artifacts (
               vm_id        TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
               idx          INTEGER NOT NULL,
               spec         TEXT NOT NULL,
               sha256       TEXT NOT NULL,
               type         TEXT NOT NULL,
               name         TEXT NOT NULL,
               size         INTEGER NOT NULL,
               git_commit   TEXT,
               via          TEXT,
               delivered_at TEXT,
               PRIMARY KEY (vm_id, idx)
             )""", """
             CREATE TABLE vm_run (
               vm_id        TEXT PRIMARY KEY REFERENCES vms(id) ON DELETE CASCADE,
               argv         TEXT NOT NULL
             )"""},
            {"""
             ALTER TABLE vms ADD COLUMN boot TEXT""", """
             ALTER TABLE vms ADD COLUMN boot_snapshot TEXT"""},
            // segments (issue 13, F-12): isolated namespaces, what is in them (networks, routers, topologies by id/name),
            // their WireGuard endpoint and its peers (SegmentStore); self-contained: nothing above refers to these tables
            {"""
             CREATE TABLE segments (
               name        TEXT PRIMARY KEY,
               id          TEXT NOT NULL UNIQUE,
               owner       TEXT,
               subnet      TEXT NOT NULL,
               netns       TEXT NOT NULL UNIQUE,
               router      INTEGER NOT NULL DEFAULT 0,
               ttl_sec     INTEGER,
               expires_at  TEXT,
               created_at  TEXT NOT NULL
             )""", """
             CREATE TABLE segment_members (
               kind        TEXT NOT NULL,
               id          TEXT NOT NULL,
               segment     TEXT NOT NULL REFERENCES segments(name) ON DELETE CASCADE,
               PRIMARY KEY (kind, id)
             )""", """
             CREATE TABLE segment_vpns (
               segment     TEXT PRIMARY KEY REFERENCES segments(name) ON DELETE CASCADE,
               iface       TEXT NOT NULL,
               listen_port INTEGER NOT NULL UNIQUE,
               private_key TEXT NOT NULL,
               public_key  TEXT NOT NULL,
               tunnel      TEXT NOT NULL,
               mechanism   TEXT NOT NULL,
               pid         INTEGER,
               pid_start   INTEGER
             )""", """
             CREATE TABLE segment_peers (
               segment     TEXT NOT NULL REFERENCES segments(name) ON DELETE CASCADE,
               public_key  TEXT NOT NULL,
               address     TEXT NOT NULL,
               created_at  TEXT NOT NULL,
               PRIMARY KEY (segment, public_key)
             )"""},
            // request-driven nodes (issue 13, F-13): templates (the node snapshot each owns, its service and limits) and
            // every request one served or a pool slot prepared, written before its segment exists (TemplateStore)
            {"""
             CREATE TABLE templates (
               name           TEXT PRIMARY KEY,
               source         TEXT NOT NULL,
               snapshot       TEXT NOT NULL,
               vm             TEXT NOT NULL,
               port           INTEGER NOT NULL,
               ready          TEXT NOT NULL,
               max_concurrent INTEGER NOT NULL,
               timeout_ms     INTEGER NOT NULL,
               subnet         TEXT NOT NULL,
               members        TEXT NOT NULL,
               stages         TEXT NOT NULL,
               pool_warm      INTEGER NOT NULL DEFAULT 0,
               created_at     TEXT NOT NULL
             )""", """
             CREATE TABLE template_runs (
               id          TEXT PRIMARY KEY,
               template    TEXT NOT NULL,
               kind        TEXT NOT NULL,
               method      TEXT,
               path        TEXT,
               segment     TEXT NOT NULL,
               status      INTEGER,
               error       TEXT,
               pooled      INTEGER NOT NULL DEFAULT 0,
               timings     TEXT,
               started_at  TEXT NOT NULL,
               finished_at TEXT,
               cleaned     INTEGER NOT NULL DEFAULT 0
             )""", """
             CREATE INDEX template_runs_by_template ON template_runs(template, started_at)"""},
            // a NIC's default rate (kbit/s, both ways; NULL: none), what link clear returns to
            {"ALTER TABLE nics ADD COLUMN rate_kbit INTEGER"},
            // the cpuLimit of a VM created with one (vm create --cpu-limit); topology VMs have theirs in the file
            {"""
             CREATE TABLE vm_limits (
               vm_id      TEXT PRIMARY KEY REFERENCES vms(id) ON DELETE CASCADE,
               cpu_limit  REAL NOT NULL
             )"""},
            // tokens and users (issue 15): one token per user, stored as its SHA-256 only, and its quotas (UserStore); who
            // owns each resource (Owners); the audit log of every state-changing request (AuditLog)
            {"""
             CREATE TABLE users (
               name        TEXT PRIMARY KEY,
               role        TEXT NOT NULL,
               token_hash  TEXT NOT NULL UNIQUE,
               created_at  TEXT NOT NULL,
               rotated_at  TEXT,
               max_vms     INTEGER,
               max_memory_mib INTEGER
             )""", """
             CREATE TABLE owners (
               kind        TEXT NOT NULL,
               key         TEXT NOT NULL,
               owner       TEXT NOT NULL,
               PRIMARY KEY (kind, key)
             )""", """
             CREATE TABLE audit (
               id          INTEGER PRIMARY KEY AUTOINCREMENT,
               at          TEXT NOT NULL,
               user        TEXT,
               method      TEXT NOT NULL,
               path        TEXT NOT NULL,
               route       TEXT,
               status      INTEGER NOT NULL
             )""", """
             CREATE INDEX audit_by_user ON audit(user, at)"""},
    };

    /** The schema version a fresh or migrated database has. */
    public static final int SCHEMA_VERSION = MIGRATIONS.length;

    private final Connection db;

    public Store(Path file) {
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement st = db.createStatement()) {
                st.execute("PRAGMA journal_mode=WAL");
                st.execute("PRAGMA synchronous=NORMAL");
                st.execute("PRAGMA busy_timeout=5000");
                st.execute("PRAGMA foreign_keys=ON");
            }
            migrate();
        } catch (SQLException e) {
            throw VmctlException.internal("open database " + file + ": " + e.getMessage(), e);
        }
    }

    /** Work on the one connection; {@link #tx} runs it in a transaction (all or nothing for multi-row writes). */
    public interface Work<T> { T run(Connection db) throws SQLException; }

    public synchronized <T> T read(String what, Work<T> work) {
        try {
            return work.run(db);
        } catch (SQLException e) {
            throw VmctlException.internal(what + ": " + e.getMessage(), e);
        }
    }

    public synchronized <T> T tx(String what, Work<T> work) {
        try {
            db.setAutoCommit(false);
            try {
                T out = work.run(db);
                db.commit();
                return out;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw VmctlException.internal(what + ": " + e.getMessage(), e);
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
                INSERT INTO vms (id, name, state, image, cpus, memory_mib, accel, run_accel, created_at, updated_at, pid, pid_start, error,
                boot, boot_snapshot) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""")) {
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
                updated_at=?, pid=?, pid_start=?, error=?, boot=?, boot_snapshot=? WHERE id=?""")) {
            bind(ps, r);
            ps.setString(16, r.id());
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
                            rs.getString("error"), rs.getString("boot"), rs.getString("boot_snapshot")));
                }
            }
            return out;
        } catch (SQLException e) {
            throw VmctlException.internal("query vms: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- topologies and labels

    public record TopologyRow(String name, String spec, String file, String appliedAt) {}

    /** Which topology (and node, role) a VM, network or router belongs to; kind is vm, network or router. */
    public record Label(String kind, String id, String topology, String node, String localName, String role) {}

    public synchronized void saveTopology(TopologyRow t) {
        exec("INSERT INTO topologies (name, spec, file, applied_at) VALUES (?,?,?,?) ON CONFLICT (name) DO UPDATE SET "
                + "spec=excluded.spec, file=excluded.file, applied_at=excluded.applied_at", "save topology " + t.name(),
                t.name(), t.spec(), t.file(), t.appliedAt());
    }

    public synchronized void deleteTopology(String name) {
        exec("DELETE FROM topologies WHERE name=?", "delete topology " + name, name);
        exec("DELETE FROM labels WHERE topology=?", "delete labels of " + name, name);
        exec("DELETE FROM nodes WHERE topology=?", "delete nodes of " + name, name);
    }

    public synchronized List<TopologyRow> topologies() {
        return rows("SELECT * FROM topologies ORDER BY name", rs -> new TopologyRow(rs.getString("name"), rs.getString("spec"),
                rs.getString("file"), rs.getString("applied_at")));
    }

    public synchronized void label(Label l) {
        exec("INSERT INTO labels (kind, id, topology, node, local_name, role) VALUES (?,?,?,?,?,?) ON CONFLICT (kind, id) DO UPDATE SET "
                + "topology=excluded.topology, node=excluded.node, local_name=excluded.local_name, role=excluded.role",
                "label " + l.kind() + " " + l.id(), l.kind(), l.id(), l.topology(), l.node(), l.localName(), l.role());
    }

    public synchronized void unlabel(String kind, String id) {
        exec("DELETE FROM labels WHERE kind=? AND id=?", "unlabel", kind, id);
    }

    /** Labels of a topology whose objects still exist (labels of vanished objects are dropped on the way). */
    public synchronized List<Label> labels(String topology) {
        List<Label> all = rows("SELECT * FROM labels WHERE topology=? ORDER BY kind, node, local_name", rs -> new Label(
                rs.getString("kind"), rs.getString("id"), rs.getString("topology"), rs.getString("node"),
                rs.getString("local_name"), rs.getString("role")), topology);
        List<Label> live = new ArrayList<>();
        for (Label l : all) {
            boolean exists = switch (l.kind()) {
                case "vm" -> byIdOrName(l.id()).isPresent();
                case "network" -> network(l.id()).isPresent();
                default -> router(l.id()).isPresent();
            };
            if (exists) live.add(l); else unlabel(l.kind(), l.id());
        }
        return live;
    }

    public synchronized Optional<Label> labelOf(String kind, String id) {
        List<Label> r = rows("SELECT * FROM labels WHERE kind=? AND id=?", rs -> new Label(rs.getString("kind"), rs.getString("id"),
                rs.getString("topology"), rs.getString("node"), rs.getString("local_name"), rs.getString("role")), kind, id);
        return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
    }

    /** Every label of one kind (the metrics sampler reads the VMs' topology and node once per round). */
    public synchronized List<Label> labelsOfKind(String kind) {
        return rows("SELECT * FROM labels WHERE kind=?", rs -> new Label(rs.getString("kind"), rs.getString("id"),
                rs.getString("topology"), rs.getString("node"), rs.getString("local_name"), rs.getString("role")), kind);
    }

    /** Nodes are entities of their own (table nodes): created with their first VM, removed with their last. */
    public synchronized void saveNode(String topology, String name) {
        exec("INSERT OR IGNORE INTO nodes (topology, name, created_at) VALUES (?,?,?)", "save node " + topology + "/" + name,
                topology, name, java.time.Instant.now().toString());
    }

    /**
     * A node made by {@code vmctl node clone} (not by the topology file): the node snapshot it was cloned from and
     * its VMs' start stages. Refused (409) when the node exists.
     */
    public synchronized void insertClonedNode(String topology, String name, String clonedFrom, List<List<String>> startOrder) {
        String order;
        try {
            order = JSON.writeValueAsString(startOrder);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw VmctlException.internal("save node " + topology + "/" + name + ": " + e.getMessage(), e);
        }
        exec("INSERT INTO nodes (topology, name, created_at, cloned_from, start_order) VALUES (?,?,?,?,?)",
                "save node " + topology + "/" + name, topology, name, java.time.Instant.now().toString(), clonedFrom, order);
    }

    /** A row of table nodes; {@code clonedFrom} and {@code startOrder} are null for a node of the topology file. */
    public record NodeRow(String topology, String name, String createdAt, String clonedFrom, List<List<String>> startOrder) {}

    public synchronized Optional<NodeRow> nodeRow(String topology, String name) {
        return nodeRows(topology).stream().filter(n -> n.name().equals(name)).findFirst();
    }

    public synchronized List<NodeRow> nodeRows(String topology) {
        return rows("SELECT * FROM nodes WHERE topology=? ORDER BY created_at, name", rs -> {
            String order = rs.getString("start_order");
            List<List<String>> stages = null;
            if (order != null) {
                try {
                    stages = JSON.readValue(order, new com.fasterxml.jackson.core.type.TypeReference<List<List<String>>>() {});
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new SQLException("node " + rs.getString("name") + ": bad start_order " + order, e);
                }
            }
            return new NodeRow(rs.getString("topology"), rs.getString("name"), rs.getString("created_at"), rs.getString("cloned_from"), stages);
        }, topology);
    }

    public synchronized void deleteNode(String topology, String name) {
        exec("DELETE FROM nodes WHERE topology=? AND name=?", "delete node " + topology + "/" + name, topology, name);
    }

    public synchronized List<String> nodeNames(String topology) {
        return rows("SELECT name FROM nodes WHERE topology=? ORDER BY created_at, name", rs -> rs.getString("name"), topology);
    }

    /** A node snapshot: one VM snapshot per VM of the node, taken at the same moment. members: vm local name → snapshot. */
    public synchronized void saveNodeSnapshot(NodeSnapshotView n) {
        StringBuilder m = new StringBuilder();
        n.members().forEach((k, v) -> m.append(m.isEmpty() ? "" : ",").append(k).append('=').append(v));
        exec("INSERT INTO node_snapshots (name, topology, node, members, created_at) VALUES (?,?,?,?,?)", "save node snapshot " + n.name(),
                n.name(), n.topology(), n.node(), m.toString(), n.createdAt());
    }

    /** The names of the snapshots of one node. */
    public synchronized List<String> nodeSnapshotNames(String topology, String node) {
        return rows("SELECT name FROM node_snapshots WHERE topology=? AND node=? ORDER BY created_at", rs -> rs.getString(1), topology, node);
    }

    public synchronized void deleteNodeSnapshot(String name) {
        exec("DELETE FROM node_snapshots WHERE name=?", "delete node snapshot " + name, name);
    }

    public synchronized Optional<NodeSnapshotView> nodeSnapshot(String name) {
        List<NodeSnapshotView> r = rows("SELECT * FROM node_snapshots WHERE name=?", rs -> {
            Map<String, String> members = new java.util.LinkedHashMap<>();
            for (String kv : rs.getString("members").split(",")) {
                String[] p = kv.split("=", 2);
                if (p.length == 2) members.put(p[0], p[1]);
            }
            return new NodeSnapshotView(rs.getString("name"), rs.getString("topology"), rs.getString("node"), members, rs.getString("created_at"));
        }, name);
        return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
    }

    // ---------------------------------------------------------------- networks, routers, NICs

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public synchronized void insertNetwork(NetRows.NetRow n) {
        exec("INSERT INTO networks (id, name, subnet, gateway, vlan, bridge, created_at) VALUES (?,?,?,?,?,?,?)",
                "create network " + n.name(), n.id(), n.name(), n.subnet(), n.gateway(), n.vlan(), n.bridge(), n.createdAt());
    }

    public synchronized void deleteNetwork(String id) {
        exec("DELETE FROM networks WHERE id=?", "delete network " + id, id);
    }

    public synchronized List<NetRows.NetRow> networks() {
        return rows("SELECT * FROM networks ORDER BY created_at, name", rs -> new NetRows.NetRow(rs.getString("id"),
                rs.getString("name"), rs.getString("subnet"), rs.getString("gateway"), nullableInt(rs, "vlan"),
                rs.getString("bridge"), rs.getString("created_at")));
    }

    public synchronized Optional<NetRows.NetRow> network(String idOrName) {
        return networks().stream().filter(n -> n.id().equals(idOrName) || n.name().equals(idOrName)).findFirst();
    }

    public synchronized void insertRouter(NetRows.RouterRow r, List<String> networkIds, List<NetRows.RouteRow> routes) {
        try {
            db.setAutoCommit(false);
            exec("INSERT INTO routers (id, name, netns, created_at) VALUES (?,?,?,?)", "create router " + r.name(),
                    r.id(), r.name(), r.netns(), r.createdAt());
            for (String n : networkIds) exec("INSERT INTO router_links (router_id, network_id) VALUES (?,?)", "link router", r.id(), n);
            for (NetRows.RouteRow rt : routes) {
                exec("INSERT INTO router_routes (router_id, dest, via) VALUES (?,?,?)", "add route", r.id(), rt.to(), rt.via());
            }
            db.commit();
        } catch (SQLException | RuntimeException e) {
            try { db.rollback(); } catch (SQLException ignored) { /* nothing to undo */ }
            if (e instanceof VmctlException v) throw v;
            throw VmctlException.internal("create router " + r.name() + ": " + e.getMessage(), e);
        } finally {
            try { db.setAutoCommit(true); } catch (SQLException ignored) { /* connection broken */ }
        }
    }

    public synchronized void deleteRouter(String id) {
        exec("DELETE FROM router_links WHERE router_id=?", "delete router", id);
        exec("DELETE FROM router_routes WHERE router_id=?", "delete router", id);
        exec("DELETE FROM routers WHERE id=?", "delete router", id);
    }

    public synchronized List<NetRows.RouterRow> routers() {
        return rows("SELECT * FROM routers ORDER BY created_at, name", rs -> new NetRows.RouterRow(rs.getString("id"),
                rs.getString("name"), rs.getString("netns"), rs.getString("created_at")));
    }

    public synchronized Optional<NetRows.RouterRow> router(String idOrName) {
        return routers().stream().filter(n -> n.id().equals(idOrName) || n.name().equals(idOrName)).findFirst();
    }

    /** network ids joined by a router, in insertion order */
    public synchronized List<String> routerNetworks(String routerId) {
        return rows("SELECT network_id FROM router_links WHERE router_id=? ORDER BY rowid", rs -> rs.getString(1), routerId);
    }

    public synchronized List<NetRows.RouteRow> routes(String routerId) {
        return rows("SELECT * FROM router_routes WHERE router_id=? ORDER BY rowid",
                rs -> new NetRows.RouteRow(rs.getString("router_id"), rs.getString("dest"), rs.getString("via")), routerId);
    }

    public synchronized void upsertNic(NetRows.NicRow n) {
        // a real upsert: OR REPLACE would silently delete another NIC holding the same address or MAC
        exec("INSERT INTO nics (vm_id, idx, network_id, mac, ip, link_up, impair, rate_kbit) VALUES (?,?,?,?,?,?,?,?) "
                        + "ON CONFLICT (vm_id, idx) DO UPDATE SET network_id=excluded.network_id, mac=excluded.mac, ip=excluded.ip, "
                        + "link_up=excluded.link_up, impair=excluded.impair, rate_kbit=excluded.rate_kbit",
                "save nic " + n.name(), n.vmId(), n.index(), n.networkId(), n.mac(), n.ip(), n.linkUp() ? 1 : 0,
                n.impair() == null ? null : toJson(n.impair()), n.rateKbit() > 0 ? n.rateKbit() : null);
    }

    public synchronized void setCpuLimit(String vmId, double cores) {
        update("set cpu limit of " + vmId, "INSERT INTO vm_limits (vm_id, cpu_limit) VALUES (?,?) ON CONFLICT(vm_id) DO UPDATE SET cpu_limit=excluded.cpu_limit",
                vmId, cores);
    }

    /** The cpuLimit a VM was created with, or null. */
    public synchronized Double cpuLimit(String vmId) {
        return query("read cpu limit of " + vmId, "SELECT cpu_limit FROM vm_limits WHERE vm_id=?", rs -> rs.getDouble(1), vmId)
                .stream().findFirst().orElse(null);
    }

    /** The snapshot a VM was cloned from (it maps that snapshot's RAM), if any. */
    public synchronized void setSource(String vmId, String snapshot) {
        exec("INSERT INTO vm_sources (vm_id, snapshot) VALUES (?,?) ON CONFLICT (vm_id) DO UPDATE SET snapshot=excluded.snapshot",
                "record snapshot of vm", vmId, snapshot);
    }

    public synchronized String sourceOf(String vmId) {
        List<String> r = rows("SELECT snapshot FROM vm_sources WHERE vm_id=?", rs -> rs.getString(1), vmId);
        return r.isEmpty() ? null : r.getFirst();
    }

    /** VM names per snapshot they were cloned from. */
    public synchronized Map<String, List<String>> clonesBySnapshot() {
        Map<String, List<String>> m = new java.util.TreeMap<>();
        for (String[] r : rows("SELECT s.snapshot, v.name FROM vm_sources s JOIN vms v ON v.id = s.vm_id ORDER BY v.name",
                rs -> new String[]{rs.getString(1), rs.getString(2)})) {
            m.computeIfAbsent(r[0], k -> new ArrayList<>()).add(r[1]);
        }
        return m;
    }

    public synchronized void deleteNic(String vmId, int index) {
        exec("DELETE FROM nics WHERE vm_id=? AND idx=?", "delete nic", vmId, index);
    }

    public synchronized List<NetRows.NicRow> nics() {
        return rows("SELECT * FROM nics ORDER BY vm_id, idx", Store::nicRow);
    }

    public synchronized List<NetRows.NicRow> nics(String vmId) {
        return nics().stream().filter(n -> n.vmId().equals(vmId)).toList();
    }

    private static NetRows.NicRow nicRow(ResultSet rs) throws SQLException {
        String imp = rs.getString("impair");
        return new NetRows.NicRow(rs.getString("vm_id"), rs.getInt("idx"), rs.getString("network_id"), rs.getString("mac"),
                rs.getString("ip"), rs.getInt("link_up") != 0, imp == null ? null : fromJson(imp), rs.getLong("rate_kbit"));
    }

    private static String toJson(dev.vmctl.model.Impairment i) {
        try {
            return JSON.writeValueAsString(i);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static dev.vmctl.model.Impairment fromJson(String s) {
        try {
            return JSON.readValue(s, dev.vmctl.model.Impairment.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Maps one row of a result set. */
    public interface RowMapper<T> { T map(ResultSet rs) throws SQLException; }

    /** The rows of one query with positional arguments ({@code what} names the action in errors). */
    public synchronized <T> List<T> query(String what, String sql, RowMapper<T> mapper, Object... args) {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(mapper.map(rs));
            }
            return out;
        } catch (SQLException e) {
            throw VmctlException.internal(what + ": " + e.getMessage(), e);
        }
    }

    /**
     * One insert, update or delete; the rows changed. A unique or primary-key violation is a 409 "already exists",
     * a foreign-key one a 409 "still in use"; anything else a 500 naming {@code what}.
     */
    public synchronized int update(String what, String sql, Object... args) {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            return ps.executeUpdate();
        } catch (SQLException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("UNIQUE") || m.contains("PRIMARY KEY")) throw VmctlException.conflict(what + ": already exists or already in use", m);
            if (m.contains("FOREIGN KEY")) throw VmctlException.conflict(what + ": still in use", m);
            throw VmctlException.internal(what + ": " + m, e);
        }
    }

    private <T> List<T> rows(String sql, RowMapper<T> mapper, Object... args) {
        return query("query", sql, mapper, args);
    }

    private void exec(String sql, String what, Object... args) {
        update(what, sql, args);
    }

    private static Integer nullableInt(ResultSet rs, String column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
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
        ps.setString(14, r.boot());
        ps.setString(15, r.bootSnapshot());
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
