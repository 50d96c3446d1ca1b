package dev.vmctl.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.VmArtifactView;
import dev.vmctl.model.VmctlException;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/** Tables {@code vm_artifacts} and {@code vm_run}: what a VM is given and what it starts once that is in place. */
final class VmArtifactStore {
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** One artifact of a VM: the spec as given, the content it resolved to, its last delivery (via null before the first). */
    record Row(String vmId, int index, ArtifactSpec spec, String sha256, String type, String name, long size, String commit,
               String via, String deliveredAt) {
        /** Where it lies in the guest: dest, or dest + name for a dest ending in '/'. */
        String path() {
            return spec.destIsDirectory() ? spec.dest() + name : spec.dest();
        }

        VmArtifactView view() {
            return new VmArtifactView(index, spec.describe(), spec.dest(), path(), name, type, sha256, size, commit, spec.mode(),
                    spec.owner(), via, deliveredAt);
        }
    }

    private final Store store;

    VmArtifactStore(Store store) {
        this.store = store;
    }

    /** Records a new VM's artifacts (in the VM's create transaction). */
    void insert(java.sql.Connection db, List<Row> rows) throws java.sql.SQLException {
        for (Row r : rows) {
            try (PreparedStatement ps = db.prepareStatement("""
                    INSERT INTO vm_artifacts (vm_id, idx, spec, sha256, type, name, size, git_commit, via, delivered_at)
                    VALUES (?,?,?,?,?,?,?,?,?,?)""")) {
                ps.setString(1, r.vmId());
                ps.setInt(2, r.index());
                ps.setString(3, json(r.spec()));
                ps.setString(4, r.sha256());
                ps.setString(5, r.type());
                ps.setString(6, r.name());
                ps.setLong(7, r.size());
                ps.setString(8, r.commit());
                ps.setString(9, r.via());
                ps.setString(10, r.deliveredAt());
                ps.executeUpdate();
            }
        }
    }

    void insertRun(java.sql.Connection db, String vmId, List<String> run) throws java.sql.SQLException {
        if (run == null || run.isEmpty()) return;
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO vm_run (vm_id, argv) VALUES (?,?)")) {
            ps.setString(1, vmId);
            ps.setString(2, json(run));
            ps.executeUpdate();
        }
    }

    List<Row> rows(String vmId) {
        return store.read("read artifacts of vm " + vmId, db -> {
            List<Row> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement("SELECT * FROM vm_artifacts WHERE vm_id=? ORDER BY idx")) {
                ps.setString(1, vmId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Row(rs.getString("vm_id"), rs.getInt("idx"), spec(rs.getString("spec")), rs.getString("sha256"),
                                rs.getString("type"), rs.getString("name"), rs.getLong("size"), rs.getString("git_commit"),
                                rs.getString("via"), rs.getString("delivered_at")));
                    }
                }
            }
            return out;
        });
    }

    List<String> run(String vmId) {
        return store.read("read run command of vm " + vmId, db -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT argv FROM vm_run WHERE vm_id=?")) {
                ps.setString(1, vmId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return null;
                    try {
                        return JSON.readValue(rs.getString(1), new TypeReference<List<String>>() {});
                    } catch (JsonProcessingException e) {
                        throw new java.sql.SQLException("bad argv " + rs.getString(1), e);
                    }
                }
            }
        });
    }

    /** After a delivery: the content it sent (a changed local source gives a new digest) and how. */
    void delivered(Row r, String via, String at) {
        store.tx("record delivery of artifact " + r.index() + " of vm " + r.vmId(), db -> {
            try (PreparedStatement ps = db.prepareStatement("""
                    UPDATE vm_artifacts SET sha256=?, type=?, name=?, size=?, git_commit=?, via=?, delivered_at=? WHERE vm_id=? AND idx=?""")) {
                ps.setString(1, r.sha256());
                ps.setString(2, r.type());
                ps.setString(3, r.name());
                ps.setLong(4, r.size());
                ps.setString(5, r.commit());
                ps.setString(6, via);
                ps.setString(7, at);
                ps.setString(8, r.vmId());
                ps.setInt(9, r.index());
                ps.executeUpdate();
            }
            return null;
        });
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw VmctlException.internal("artifact spec to JSON: " + e.getMessage(), e);
        }
    }

    private static ArtifactSpec spec(String s) throws java.sql.SQLException {
        try {
            return JSON.readValue(s, ArtifactSpec.class);
        } catch (JsonProcessingException e) {
            throw new java.sql.SQLException("bad artifact spec " + s, e);
        }
    }
}
