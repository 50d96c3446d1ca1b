package dev.vmctl.engine;

import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The admission arithmetic on a fake /proc/meminfo, fake running VMs and fake RSS readings. */
class MemoryBudgetTest {
    private long totalMiB = 8192;
    private long availableMiB = 4096;
    private final List<MemoryBudget.Vm> running = new ArrayList<>();
    private final Map<Long, Long> rssMiB = new HashMap<>();

    private String meminfo() {
        return "MemTotal:       " + (totalMiB << 10) + " kB\nMemFree:        1000 kB\nMemAvailable:   " + (availableMiB << 10) + " kB\n";
    }

    private MemoryBudget budget(String reserve) {
        MemoryBudget b = new MemoryBudget(this::meminfo, () -> List.copyOf(running), pid -> rssMiB.getOrDefault(pid, 0L) << 20);
        b.availableCap(null);
        b.reserve(reserve);
        return b;
    }

    @Test
    void freeIsAvailableMinusReserveMinusWhatRunningVmsMayStillUse() {
        MemoryBudget b = budget("512M");
        running.add(new MemoryBudget.Vm("a", 1024, 11)); // uses 300 of 1024: may still take 724
        rssMiB.put(11L, 300L);
        running.add(new MemoryBudget.Vm("b", 128, 12)); // uses more than configured (QEMU's own): 0 to come
        rssMiB.put(12L, 200L);
        MemoryBudget.View v = b.view();
        assertThat(v.availableMiB()).isEqualTo(4096);
        assertThat(v.reserveMiB()).isEqualTo(512);
        assertThat(v.committedMiB()).isEqualTo(724);
        assertThat(v.freeMiB()).isEqualTo(4096 - 512 - 724);
        b.admit("create vm c", "c", 2860); // exactly what is free
        assertThatThrownBy(() -> b.admit("create vm d", "d", 1))
                .isInstanceOf(VmctlException.class)
                .satisfies(e -> assertThat(((VmctlException) e).kind()).isEqualTo(VmctlException.Kind.CONFLICT))
                .hasMessageContaining("create vm d: not enough memory: requested 1 MiB, available 0 MiB");
    }

    @Test
    void theRefusalNamesMemoryTheRequestedAndTheAvailableAmounts() {
        MemoryBudget b = budget("1G");
        assertThatThrownBy(() -> b.admit("create vm big", "x", 4000))
                .hasMessageContaining("memory")
                .hasMessageContaining("requested 4000 MiB")
                .hasMessageContaining("available 3072 MiB")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("--memory-reserve"));
        assertThat(b.holds("x")).isFalse(); // nothing held for a refused boot
    }

    @Test
    void aReservationCountsUntilReleasedAndThenTheRunningVmCountsWhatItMayStillUse() {
        MemoryBudget b = budget("0M");
        b.admit("create vm a", "a", 3000);
        assertThat(b.view().reservedMiB()).isEqualTo(3000);
        assertThatThrownBy(() -> b.admit("create vm b", "b", 1100)).hasMessageContaining("available 1096 MiB");
        // a's QEMU runs and uses 1000 MiB (MemAvailable went down by as much): its reservation counts only what is left
        running.add(new MemoryBudget.Vm("a", 3000, 21));
        rssMiB.put(21L, 1000L);
        availableMiB -= 1000;
        assertThat(b.view().reservedMiB()).isEqualTo(2000);
        assertThat(b.view().freeMiB()).isEqualTo(1096);
        b.release("a");
        assertThat(b.view().reservedMiB()).isZero();
        assertThat(b.view().committedMiB()).isEqualTo(2000);
        assertThat(b.view().freeMiB()).isEqualTo(1096);
    }

    @Test
    void aVmThatHoldsAReservationIsNotCheckedAgain() {
        MemoryBudget b = budget("0M");
        b.admit("create vm a", "a", 4000);
        b.admit("start vm a", "a", 4000); // its boot submitted after admission: no second count
        assertThat(b.view().reservedMiB()).isEqualTo(4000);
    }

    @Test
    void parallelAdmissionsCannotBothPassOnTheSameFreeMemory() throws Exception {
        MemoryBudget b = budget("0M");
        int n = 8;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "vm" + i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    b.admit("create vm " + id, id, 1500); // 4096 free: two fit, not three
                    admitted.incrementAndGet();
                } catch (VmctlException e) {
                    refused.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) t.join();
        assertThat(admitted.get()).isEqualTo(2);
        assertThat(refused.get()).isEqualTo(n - 2);
    }

    @Test
    void aGroupAdmitsTheSumUpFrontAndHandsItToItsVms() {
        MemoryBudget b = budget("0M");
        assertThatThrownBy(() -> b.group("deploy topology big (3 VM(s))", 3 * 1500, Set.of()))
                .hasMessageContaining("deploy topology big (3 VM(s)): not enough memory: requested 4500 MiB, available 4096 MiB");
        MemoryBudget.Group g = b.group("deploy topology lab (2 VM(s))", 2 * 1500, Set.of());
        assertThat(b.view().reservedMiB()).isEqualTo(3000);
        assertThatThrownBy(() -> b.admit("create vm other", "o", 1500)).hasMessageContaining("available 1096 MiB");
        g.assign("v1", 1500);
        assertThat(b.holds("v1")).isTrue();
        assertThat(g.left()).isEqualTo(1500);
        assertThat(b.view().reservedMiB()).isEqualTo(3000); // moved from the group to v1, not counted twice
        b.admit("start vm v1", "v1", 1500); // the deploy's start of v1: already admitted
        g.assign("v2", 1500);
        assertThat(b.view().reservedMiB()).isEqualTo(3000);
        g.close(); // the deploy has ended: its VMs count as running VMs (none here)
        assertThat(b.holds("v1")).isFalse();
        assertThat(b.view().reservedMiB()).isZero();
    }

    @Test
    void aRestoreGetsBackWhatTheVmItReplacesUses() {
        MemoryBudget b = budget("0M");
        running.add(new MemoryBudget.Vm("a", 3000, 31));
        rssMiB.put(31L, 2000L);
        availableMiB = 1500; // what is left with a running
        assertThat(b.view().freeMiB()).isEqualTo(500);
        assertThatThrownBy(() -> b.admit("create vm b", "b", 3000)).hasMessageContaining("available 500 MiB");
        b.admit("restore vm a from s1", "a", 3000, Set.of("a")); // 1500 + 2000 of its own
        assertThat(b.holds("a")).isTrue();
    }

    @Test
    void theReserveIsASizeAPercentageOfMemTotalOrTheLargerOfBoth() {
        assertThat(MemoryBudget.Reserve.parse("512M").of(8192)).isEqualTo(512);
        assertThat(MemoryBudget.Reserve.parse("2G").of(8192)).isEqualTo(2048);
        assertThat(MemoryBudget.Reserve.parse("10%").of(8192)).isEqualTo(819);
        assertThat(MemoryBudget.Reserve.parse(MemoryBudget.DEFAULT_RESERVE).of(8192)).isEqualTo(512); // 5 % is 409
        assertThat(MemoryBudget.Reserve.parse(MemoryBudget.DEFAULT_RESERVE).of(24105)).isEqualTo(1205);
        for (String bad : List.of("", "lots", "-1G", "95%", "5%%", "1T")) {
            assertThatThrownBy(() -> MemoryBudget.Reserve.parse(bad)).isInstanceOf(VmctlException.class)
                    .hasMessageContaining("invalid memory-reserve");
        }
    }

    @Test
    void theTestCapTakesAvailableMemoryAsAtMostTheCapBesidesWhatVmctlsVmsUse() {
        MemoryBudget b = budget("256M");
        b.availableCap(1536L);
        assertThat(b.view().availableMiB()).isEqualTo(1536);
        running.add(new MemoryBudget.Vm("a", 128, 41));
        rssMiB.put(41L, 150L);
        assertThat(b.view().availableMiB()).isEqualTo(1386);
        assertThat(b.view().freeMiB()).isEqualTo(1386 - 256);
        assertThat(b.view().source()).contains("capped at 1536 MiB");
    }
}
