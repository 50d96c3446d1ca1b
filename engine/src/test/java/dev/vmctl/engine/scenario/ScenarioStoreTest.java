package dev.vmctl.engine.scenario;

import dev.vmctl.engine.Store;
import dev.vmctl.model.ScenarioRun;
import dev.vmctl.scenario.Revert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Saved files, runs newest first and the fault ledger, on a real SQLite file that is reopened. */
class ScenarioStoreTest {
    @TempDir
    Path tmp;

    private static ScenarioRun run(String id, String scenario, String verdict) {
        return new ScenarioRun(id, scenario, "t1", verdict, "2026-12-01T00:00:00Z", null, null, Map.of("a", "1"), 0, null, List.of());
    }

    @Test
    void savedRunsAndLedgerSurviveReopen() {
        Path db = tmp.resolve("vmctl.db");
        long fault;
        try (Store s = new Store(db)) {
            ScenarioStore st = new ScenarioStore(s);
            st.save("b", "text b");
            st.save("a", "text a");
            st.save("a", "text a2"); // saving again replaces
            st.saveRun(run("r1", "a", ScenarioRun.RUNNING), "file 1");
            st.saveRun(run("r2", "b", ScenarioRun.RUNNING), "file 2");
            st.saveRun(run("r1", "a", ScenarioRun.PASS), "ignored on update");
            fault = st.applying("r2", 3, "t1", Revert.none("nothing"));
            st.applying("r2", 4, "t2", Revert.none("other"));
        }
        try (Store s = new Store(db)) {
            ScenarioStore st = new ScenarioStore(s);
            assertThat(st.saved()).extracting(ScenarioStore.Saved::name).containsExactly("a", "b");
            assertThat(st.saved("a").orElseThrow().text()).isEqualTo("text a2");
            assertThat(st.runs(null, 10)).extracting(ScenarioRun::id).containsExactly("r2", "r1");
            assertThat(st.runs("a", 10)).extracting(ScenarioRun::verdict).containsExactly(ScenarioRun.PASS);
            assertThat(st.runs(null, 1)).hasSize(1);
            assertThat(st.unfinishedRuns()).extracting(ScenarioRun::id).containsExactly("r2");
            assertThat(st.runText("r1")).contains("file 1");
            assertThat(st.runText("nope")).isEmpty();
            assertThat(st.run("r2").orElseThrow().vars()).containsEntry("a", "1");

            assertThat(st.openCount("r2")).isEqualTo(2);
            assertThat(st.open("t1")).extracting(ScenarioStore.OpenFault::step).containsExactly(3);
            st.revertFailed(fault, "boom");
            assertThat(st.open(null)).extracting(ScenarioStore.OpenFault::error).containsExactly("boom", null);
            st.reverted(fault);
            assertThat(st.openCount("r2")).isEqualTo(1);
            assertThat(st.open(null)).extracting(ScenarioStore.OpenFault::step).containsExactly(4);

            assertThat(st.delete("b")).isTrue();
            assertThat(st.delete("b")).isFalse();
        }
    }
}
