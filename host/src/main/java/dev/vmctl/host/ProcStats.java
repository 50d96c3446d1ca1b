package dev.vmctl.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Parsers for the /proc files the metrics sampler reads (host side: a process's stat and smaps_rollup, a network
 * namespace's net/dev; guest side, read through the agent: meminfo, loadavg, uptime). Pure functions of the file's
 * text plus thin readers that answer empty when the process is gone. No process is spawned.
 */
public final class ProcStats {
    /** USER_HZ: the unit of utime/stime in /proc/PID/stat (100 on every Linux architecture vmctl runs on). */
    public static final int CLOCK_TICKS = 100;

    private ProcStats() {}

    /** CPU time (user + system) of a process in seconds, from the text of /proc/PID/stat (fields 14 and 15). */
    public static double cpuSeconds(String stat) {
        // comm (field 2) may hold spaces and parentheses: the fixed fields start after the last ')'
        String rest = stat.substring(stat.lastIndexOf(')') + 2).trim();
        String[] f = rest.split(" ");
        // rest[0] is field 3 (state): utime is field 14 → index 11, stime field 15 → index 12
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks / (double) CLOCK_TICKS;
    }

    /** Resident and proportional set size of a process, in bytes. */
    public record Memory(long rss, long pss) {}

    /** Rss and Pss from the text of /proc/PID/smaps_rollup (kB in the file). */
    public static Memory smapsRollup(String text) {
        Map<String, Long> kb = kbFields(text);
        return new Memory(kb.getOrDefault("Rss", 0L) * 1024, kb.getOrDefault("Pss", 0L) * 1024);
    }

    /** Resident set size in bytes from the text of /proc/PID/statm (field 2, in pages): no page-table walk, unlike smaps_rollup. */
    public static long statmRss(String statm) {
        return Long.parseLong(statm.trim().split("\\s+")[1]) * PAGE_SIZE;
    }

    public static final long PAGE_SIZE = 4096;

    /** The counters of one interface as /proc/net/dev lists them (host view: rx is what the interface received). */
    public record NetDev(long rxBytes, long rxPackets, long rxDrops, long txBytes, long txPackets, long txDrops) {}

    /** Every interface of /proc/PID/net/dev (the namespace of PID) by name. */
    public static Map<String, NetDev> netDev(String text) {
        Map<String, NetDev> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || line.contains("|")) continue; // the two header lines
            String name = line.substring(0, colon).trim();
            String[] f = line.substring(colon + 1).trim().split("\\s+");
            if (f.length < 16) continue;
            // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs drop …
            out.put(name, new NetDev(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[3]),
                    Long.parseLong(f[8]), Long.parseLong(f[9]), Long.parseLong(f[11])));
        }
        return out;
    }

    /** /proc/meminfo as bytes per field (MemTotal, MemAvailable, …). */
    public static Map<String, Long> meminfo(String text) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : kbFields(text).entrySet()) out.put(e.getKey(), e.getValue() * 1024);
        return out;
    }

    /** The 1-minute load average, the first field of /proc/loadavg. */
    public static double load1(String loadavg) {
        return Double.parseDouble(loadavg.trim().split("\\s+")[0]);
    }

    /** Seconds since boot, the first field of /proc/uptime. */
    public static double uptime(String uptime) {
        return Double.parseDouble(uptime.trim().split("\\s+")[0]);
    }

    /** "Name:   123 kB" lines; a value without a unit is kept as it is. */
    private static Map<String, Long> kbFields(String text) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) continue;
            String[] v = line.substring(colon + 1).trim().split("\\s+");
            if (v.length == 0 || v[0].isEmpty()) continue;
            try {
                out.put(line.substring(0, colon).trim(), Long.parseLong(v[0]));
            } catch (NumberFormatException ignored) {
                // the [rollup] header line of smaps_rollup, or a field this parser does not need
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- readers (empty when the process is gone)

    public static Optional<String> read(long pid, String file) {
        try {
            return Optional.of(Files.readString(Path.of("/proc", Long.toString(pid), file)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
