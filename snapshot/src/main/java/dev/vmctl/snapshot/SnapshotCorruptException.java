package dev.vmctl.snapshot;

import dev.vmctl.model.VmctlException;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A snapshot failed verification: a file is missing, truncated, grown, corrupted (content does not match
 * its SHA-256) or unexpected. Such a snapshot is never restored. Kind INVALID; {@link #problems()} lists
 * every damaged file.
 */
public class SnapshotCorruptException extends VmctlException {
    /** What is wrong with one file. */
    public enum Damage { MISSING, TRUNCATED, GROWN, CORRUPTED, UNEXPECTED, UNREADABLE }

    /** One damaged file: its name in the snapshot directory, the kind of damage, and the details. */
    public record Problem(String file, Damage damage, String detail) {
        @Override
        public String toString() {
            return file + ": " + damage.name().toLowerCase() + " (" + detail + ")";
        }
    }

    private final transient List<Problem> problems;
    private final String snapshot;

    public SnapshotCorruptException(String snapshot, List<Problem> problems) {
        super(Kind.INVALID, "snapshot " + snapshot + " is damaged and will not be restored: "
                        + problems.stream().map(Problem::toString).collect(Collectors.joining("; ")),
                "delete it, or import it again from an export");
        this.snapshot = snapshot;
        this.problems = List.copyOf(problems);
    }

    public String snapshot() { return snapshot; }

    public List<Problem> problems() { return problems; }
}
