package dev.vmctl.topology;

/**
 * One thing wrong with a topology file. {@code line}/{@code column} are 1-based (0 when unknown, e.g. a
 * spec built in code); {@code path} is the field, e.g. {@code nodes[0].vms[1].memory} (empty for the
 * document itself); {@code allowed} says what would be accepted (null when there is nothing to list).
 */
public record Problem(String file, int line, int column, String path, String message, String allowed) {

    /** {@code shop.yaml:12:18: nodes[0].vms[1].memory: '12X' is not a size (allowed: 64M..16384M, e.g. 128M)} */
    public String format() {
        StringBuilder b = new StringBuilder(file);
        if (line > 0) b.append(':').append(line).append(':').append(column);
        b.append(": ");
        if (path != null && !path.isEmpty()) b.append(path).append(": ");
        b.append(message);
        if (allowed != null && !allowed.isEmpty()) b.append(" (allowed: ").append(allowed).append(')');
        return b.toString();
    }

    @Override
    public String toString() { return format(); }
}
