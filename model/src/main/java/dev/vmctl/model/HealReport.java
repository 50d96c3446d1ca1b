package dev.vmctl.model;

import java.util.List;

/**
 * What {@code vmctl heal} ({@code POST /api/v1/heal}) undid: faults runs still held (from the fault ledger),
 * and with {@code all} also links taken down, impairments and partitions made by hand. {@code aborted}: runs
 * that were still running and were aborted first; {@code failed}: what could not be undone (retry).
 */
public record HealReport(List<String> reverted, List<String> failed, List<String> aborted) {
    public HealReport {
        reverted = reverted == null ? List.of() : List.copyOf(reverted);
        failed = failed == null ? List.of() : List.copyOf(failed);
        aborted = aborted == null ? List.of() : List.copyOf(aborted);
    }
}
