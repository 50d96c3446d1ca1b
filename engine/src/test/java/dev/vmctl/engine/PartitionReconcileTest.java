package dev.vmctl.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Partitions belong to the server run that made them: a start-up removes those left behind, with or without a fabric to keep. */
class PartitionReconcileTest {
    @TempDir
    Path tmp;

    @Test
    void startUpRemovesPartitionsLeftByAnEarlierRun() {
        try (Store store = new Store(tmp.resolve("vmctl.db"))) {
            FakeHostNet host = new FakeHostNet();
            NetService net = new NetService(store, new EventBus(), host);
            net.createNetwork("front", "198.18.10.0/24", null);
            host.partition("split1", List.of("198.18.10.2"), List.of("198.18.10.3"));
            host.partition("split2", List.of("198.18.10.4"), List.of("198.18.10.5"));
            assertThat(host.partitions()).containsExactly("split1", "split2");

            net.reconcile(Set.of());
            assertThat(host.fabricExists()).as("a network keeps the fabric").isTrue();
            assertThat(host.partitions()).isEmpty();

            host.partition("split3", List.of("198.18.10.2"), List.of("198.18.10.3"));
            net.deleteNetwork("front");
            net.reconcile(Set.of());
            assertThat(host.fabricExists()).as("nothing needs the fabric").isFalse();
            assertThat(host.partitions()).as("gone with the fabric").isEmpty();
        }
    }
}
