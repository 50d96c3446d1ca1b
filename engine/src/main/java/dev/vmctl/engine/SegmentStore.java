package dev.vmctl.engine;

import dev.vmctl.model.VmctlException;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Segments in SQLite (tables segments, segment_members, segment_vpns, segment_peers of the last migration in
 * {@link Store}): what a segment is, what lives in it (networks, routers, topologies — its VMs are those with NICs on
 * its networks) and its VPN with the peers it lets in.
 */
final class SegmentStore {
    /** A segment; {@code ttlSeconds}/{@code expiresAt} are null without a TTL; {@code router}: the namespace is the gateway. */
    record SegmentRow(String id, String name, String owner, String subnet, String netns, boolean router, Long ttlSeconds,
                      String expiresAt, String createdAt) {
        SegmentRow withRouter(boolean r) {
            return new SegmentRow(id, name, owner, subnet, netns, r, ttlSeconds, expiresAt, createdAt);
        }
    }

    /** A segment's WireGuard endpoint; pid/pidStart name wireguard-go's process (null with the kernel module). */
    record VpnRow(String segment, String iface, int listenPort, String privateKey, String publicKey, String tunnel,
                  String mechanism, Long pid, Long pidStart) {
        VpnRow withProcess(Long p, Long start) {
            return new VpnRow(segment, iface, listenPort, privateKey, publicKey, tunnel, mechanism, p, start);
        }
    }

    record PeerRow(String segment, String publicKey, String address, String createdAt) {}

    private final Store store;

    SegmentStore(Store store) {
        this.store = store;
    }

    // ---------------------------------------------------------------- segments

    void insert(SegmentRow s) {
        exec("create segment " + s.name(), "INSERT INTO segments (name, id, owner, subnet, netns, router, ttl_sec, expires_at, created_at)"
                + " VALUES (?,?,?,?,?,?,?,?,?)", s.name(), s.id(), s.owner(), s.subnet(), s.netns(), s.router() ? 1 : 0,
                s.ttlSeconds(), s.expiresAt(), s.createdAt());
    }

    void setRouter(String name, boolean router) {
        exec("update segment " + name, "UPDATE segments SET router=? WHERE name=?", router ? 1 : 0, name);
    }

    /** Deletes the segment's rows: members, VPN and peers go with it (ON DELETE CASCADE). */
    void delete(String name) {
        exec("delete segment " + name, "DELETE FROM segments WHERE name=?", name);
    }

    List<SegmentRow> all() {
        return rows("list segments", "SELECT * FROM segments ORDER BY created_at, name", SegmentStore::segment);
    }

    Optional<SegmentRow> get(String nameOrId) {
        return rows("read segment", "SELECT * FROM segments WHERE name=?1 OR id=?1", SegmentStore::segment, nameOrId).stream().findFirst();
    }

    private static SegmentRow segment(ResultSet rs) throws SQLException {
        long ttl = rs.getLong("ttl_sec");
        Long t = rs.wasNull() ? null : ttl;
        return new SegmentRow(rs.getString("id"), rs.getString("name"), rs.getString("owner"), rs.getString("subnet"),
                rs.getString("netns"), rs.getInt("router") != 0, t, rs.getString("expires_at"), rs.getString("created_at"));
    }

    // ---------------------------------------------------------------- members

    /** Puts a network, router or topology (kind) into a segment; a topology's row is replaced (it may have moved). */
    void addMember(String kind, String id, String segment) {
        exec("add " + kind + " " + id + " to segment " + segment, "INSERT INTO segment_members (kind, id, segment) VALUES (?,?,?)"
                + " ON CONFLICT (kind, id) DO UPDATE SET segment=excluded.segment", kind, id, segment);
    }

    void removeMember(String kind, String id) {
        exec("remove " + kind + " " + id + " from its segment", "DELETE FROM segment_members WHERE kind=? AND id=?", kind, id);
    }

    /** The segment a network, router or topology is in (empty: the default fabric). */
    Optional<String> segmentOf(String kind, String id) {
        return rows("read segment of " + kind, "SELECT segment FROM segment_members WHERE kind=? AND id=?", rs -> rs.getString(1), kind, id)
                .stream().findFirst();
    }

    /** The namespace of the segment a network (or router) is in; null for the default fabric. */
    String netnsOf(String kind, String id) {
        return rows("read namespace of " + kind, "SELECT s.netns FROM segment_members m JOIN segments s ON s.name = m.segment"
                + " WHERE m.kind=? AND m.id=?", rs -> rs.getString(1), kind, id).stream().findFirst().orElse(null);
    }

    /** Ids (names for topologies) of the members of one kind, in the order they joined. */
    List<String> members(String segment, String kind) {
        return rows("list members of segment " + segment, "SELECT id FROM segment_members WHERE segment=? AND kind=? ORDER BY rowid",
                rs -> rs.getString(1), segment, kind);
    }

    // ---------------------------------------------------------------- VPN

    void saveVpn(VpnRow v) {
        exec("save vpn of segment " + v.segment(), "INSERT INTO segment_vpns (segment, iface, listen_port, private_key, public_key, tunnel,"
                        + " mechanism, pid, pid_start) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (segment) DO UPDATE SET iface=excluded.iface,"
                        + " listen_port=excluded.listen_port, private_key=excluded.private_key, public_key=excluded.public_key,"
                        + " tunnel=excluded.tunnel, mechanism=excluded.mechanism, pid=excluded.pid, pid_start=excluded.pid_start",
                v.segment(), v.iface(), v.listenPort(), v.privateKey(), v.publicKey(), v.tunnel(), v.mechanism(), v.pid(), v.pidStart());
    }

    Optional<VpnRow> vpn(String segment) {
        return rows("read vpn of segment " + segment, "SELECT * FROM segment_vpns WHERE segment=?", rs -> {
            long pid = rs.getLong("pid");
            Long p = rs.wasNull() ? null : pid;
            long st = rs.getLong("pid_start");
            Long s = rs.wasNull() ? null : st;
            return new VpnRow(rs.getString("segment"), rs.getString("iface"), rs.getInt("listen_port"), rs.getString("private_key"),
                    rs.getString("public_key"), rs.getString("tunnel"), rs.getString("mechanism"), p, s);
        }, segment).stream().findFirst();
    }

    List<Integer> usedPorts() {
        return rows("list vpn ports", "SELECT listen_port FROM segment_vpns", rs -> rs.getInt(1));
    }

    void addPeer(PeerRow p) {
        exec("add vpn peer to segment " + p.segment(), "INSERT INTO segment_peers (segment, public_key, address, created_at) VALUES (?,?,?,?)",
                p.segment(), p.publicKey(), p.address(), p.createdAt());
    }

    List<PeerRow> peers(String segment) {
        return rows("list vpn peers of segment " + segment, "SELECT * FROM segment_peers WHERE segment=? ORDER BY rowid",
                rs -> new PeerRow(rs.getString("segment"), rs.getString("public_key"), rs.getString("address"), rs.getString("created_at")),
                segment);
    }

    // ---------------------------------------------------------------- SQL

    private <T> List<T> rows(String what, String sql, Store.RowMapper<T> m, Object... args) {
        return store.query(what, sql, m, args);
    }

    private void exec(String what, String sql, Object... args) {
        store.update(what, sql, args);
    }
}
