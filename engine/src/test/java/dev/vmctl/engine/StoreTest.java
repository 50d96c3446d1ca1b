package dev.vmctl.engine;

import dev.vmctl.model.VmState;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreTest {
    @TempDir
    Path tmp;

    private static VmRow row(String id, String name) {
        return new VmRow(id, name, VmState.REQUESTED, "tiny", 1, 128, "auto", null, "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:00Z", null, null, null);
    }

    @Test
    void migratesAFreshFileAndSurvivesReopen() {
        Path db = tmp.resolve("vmctl.db");
        try (Store s = new Store(db)) {
            assertThat(s.schemaVersion()).isEqualTo(Store.SCHEMA_VERSION);
            s.insert(row("a1", "web1"));
            s.update(s.byIdOrName("web1").orElseThrow().withState(VmState.PREPARING, null, "2026-01-01T00:00:01Z")
                    .withProcess(1234L, 99L, "tcg"));
        }
        try (Store s = new Store(db)) {
            assertThat(s.schemaVersion()).isEqualTo(Store.SCHEMA_VERSION);
            VmRow r = s.byIdOrName("a1").orElseThrow();
            assertThat(r.state()).isEqualTo(VmState.PREPARING);
            assertThat(r.pid()).isEqualTo(1234L);
            assertThat(r.pidStart()).isEqualTo(99L);
            assertThat(r.runAccel()).isEqualTo("tcg");
        }
    }

    @Test
    void nicsGoWithTheirVmAndKeepNetworksInUse() {
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            s.insertNetwork(new NetRows.NetRow("n1", "front", "198.18.10.0/24", "198.18.10.1", 20, "vbn1", "t"));
            s.insert(row("a1", "web1"));
            s.upsertNic(new NetRows.NicRow("a1", 0, "n1", "52:54:00:00:00:01", "198.18.10.2", false,
                    new dev.vmctl.model.Impairment(50, 5, 2.0, 10_000, 0, 0)));
            NetRows.NicRow back = s.nics("a1").getFirst();
            assertThat(back.linkUp()).isFalse();
            assertThat(back.impair().delayMs()).isEqualTo(50);
            assertThat(s.network("front").orElseThrow().vlan()).isEqualTo(20);
            // the same address twice on one network is refused by the database itself
            s.insert(row("a2", "web2"));
            assertThatThrownBy(() -> s.upsertNic(new NetRows.NicRow("a2", 0, "n1", "52:54:00:00:00:02", "198.18.10.2", true, null)))
                    .isInstanceOf(VmctlException.class);
            // a network with NICs cannot go; deleting the VM takes its NICs along
            assertThatThrownBy(() -> s.deleteNetwork("n1")).isInstanceOf(VmctlException.class);
            s.delete("a1");
            assertThat(s.nics()).isEmpty();
            s.deleteNetwork("n1");
            assertThat(s.networks()).isEmpty();
        }
    }

    @Test
    void namesAreUnique() {
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            s.insert(row("a1", "web1"));
            assertThatThrownBy(() -> s.insert(row("a2", "web1")))
                    .isInstanceOf(VmctlException.class)
                    .hasMessageContaining("already in use");
            assertThat(s.all()).hasSize(1);
        }
    }

    @Test
    void deleteRemovesTheRow() {
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            s.insert(row("a1", "web1"));
            s.delete("a1");
            assertThat(s.byIdOrName("web1")).isEmpty();
        }
    }

    @Test
    void refusesADatabaseFromTheFuture() throws Exception {
        Path db = tmp.resolve("vmctl.db");
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db); var st = c.createStatement()) {
            st.execute("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> new Store(db)).hasMessageContaining("newer than this vmctl");
    }

    @Test
    void queryAndUpdateMapConstraintViolationsToConflicts() {
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            s.insert(row("a1", "web1"));
            assertThat(s.query("names", "SELECT name FROM vms WHERE id=?", rs -> rs.getString(1), "a1")).containsExactly("web1");
            assertThat(s.update("rename", "UPDATE vms SET name=? WHERE id=?", "web9", "a1")).isEqualTo(1);
            assertThat(s.update("rename", "UPDATE vms SET name=? WHERE id=?", "x", "nope")).isZero();
            assertThatThrownBy(() -> s.update("insert vm b1", "INSERT INTO vms (id, name, state, image, cpus, memory_mib, accel,"
                    + " created_at, updated_at) VALUES ('a1','w','REQUESTED','tiny',1,128,'auto','t','t')"))
                    .isInstanceOf(VmctlException.class).hasMessageContaining("insert vm b1: already exists")
                    .extracting(e -> ((VmctlException) e).kind()).isEqualTo(VmctlException.Kind.CONFLICT);
            assertThatThrownBy(() -> s.query("bad", "SELECT nope FROM vms", rs -> 1))
                    .isInstanceOf(VmctlException.class).hasMessageStartingWith("bad: ");
        }
    }
}
