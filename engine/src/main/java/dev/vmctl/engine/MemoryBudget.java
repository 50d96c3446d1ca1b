package dev.vmctl.engine;

import dev.vmctl.host.ProcStats;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Admission control for guest memory: a boot (create with start, start, restore, clone, warm create, a template's
 * copy, a topology deploy) is admitted only when the VM's memory fits in
 * <pre>
 *   free = MemAvailable (/proc/meminfo) − reserve − Σ over vmctl's VMs (running, or admitted and booting) of
 *          max(0, configured memory − what its QEMU already uses (RSS))
 * </pre>
 * — what the host has now, minus what vmctl keeps back for the host itself, minus what the VMs that run may still
 * grow to (MemAvailable already counts what they use). A refusal is a 409 that names {@code memory}, the requested
 * and the available amounts; the caller has created nothing yet.
 *
 * <p>An admitted VM holds a <em>reservation</em> (its configured memory, counted as above with what its QEMU already
 * uses) from the admission until its boot operation has ended, so that two creates at once cannot both pass on the
 * same free memory. Calls that boot several VMs (a clone of N, a topology deploy, a template's copy of a node) admit
 * the sum up front as one {@link Group} and {@link Group#assign} it to each VM as it gets its id; a VM that holds a
 * reservation is not checked again when its boot is submitted. A VM created without {@code start} uses no memory and
 * is checked when it starts.
 */
public final class MemoryBudget {
    /** Default reserve: the larger of 512 MiB and 5 % of MemTotal. */
    public static final String DEFAULT_RESERVE = "512M,5%";
    private static final Pattern PART = Pattern.compile("(\\d{1,7})\\s*(%|m|mb|mib|g|gb|gib)?");

    /** A running (or booting) VM as the budget sees it: its configured memory and its QEMU's pid (0: no process yet). */
    public record Vm(String id, long configuredMiB, long pid) {}

    /** What {@code GET /api/v1/host} shows (MiB). */
    public record View(long totalMiB, long availableMiB, String reserve, long reserveMiB, long committedMiB, long reservedMiB,
                       long freeMiB, String source) {}

    /** The reserve as configured: fixed MiB and/or a percentage of MemTotal; the larger applies. */
    public record Reserve(String text, long mib, double percent) {
        /** "512M", "1G", "5%", or both "512M,5%" (the larger of the two). */
        public static Reserve parse(String text) {
            String allowed = "a size (512M, 1G), a share of MemTotal (5%), or both (512M,5%: the larger)";
            if (text == null || text.isBlank()) throw VmctlException.invalid("memory-reserve", "empty", allowed);
            long mib = 0;
            double pct = 0;
            for (String p : text.split(",", -1)) {
                Matcher m = PART.matcher(p.trim().toLowerCase(Locale.ROOT));
                if (!m.matches()) throw VmctlException.invalid("memory-reserve", "'" + text + "' is not a size or a percentage", allowed);
                long n = Long.parseLong(m.group(1));
                String unit = m.group(2);
                if ("%".equals(unit)) {
                    if (n > 90) throw VmctlException.invalid("memory-reserve", n + "% is out of range", "0%..90%");
                    pct = Math.max(pct, n);
                } else {
                    mib = Math.max(mib, unit != null && unit.startsWith("g") ? n * 1024 : n);
                }
            }
            return new Reserve(text.trim(), mib, pct);
        }

        long of(long totalMiB) {
            return Math.max(mib, (long) Math.floor(totalMiB * percent / 100.0));
        }
    }

    private final Supplier<String> meminfo;
    private final Supplier<List<Vm>> running;
    private final RssReader rss;
    private volatile Reserve reserve = Reserve.parse(DEFAULT_RESERVE);
    /**
     * For tests (AdmissionIT): {@code -Dvmctl.memory.available=SIZE} takes the host's available memory as at most this
     * much besides what vmctl's own VMs use (a host of that size, as far as vmctl is concerned).
     */
    private volatile Long availableCapMiB;
    /** VM id → reserved MiB, from admission until its boot operation ends. */
    private final Map<String, Long> reservations = new HashMap<>();
    /** Sums admitted up front and not yet assigned to VMs. */
    private final Set<Group> groups = new LinkedHashSet<>();

    /** Reads a process's RSS in bytes (0 when it is gone). */
    interface RssReader {
        long rssBytes(long pid);
    }

    MemoryBudget(Supplier<String> meminfo, Supplier<List<Vm>> running, RssReader rss) {
        this.meminfo = meminfo;
        this.running = running;
        this.rss = rss;
        String cap = System.getProperty("vmctl.memory.available");
        if (cap != null && !cap.isBlank()) availableCapMiB = dev.vmctl.model.Sizes.parseMiB(cap);
    }

    static MemoryBudget forHost(Supplier<List<Vm>> running) {
        return new MemoryBudget(MemoryBudget::procMeminfo, running,
                pid -> pid <= 0 ? 0 : ProcStats.read(pid, "statm").map(ProcStats::statmRss).orElse(0L));
    }

    private static String procMeminfo() {
        try {
            return Files.readString(Path.of("/proc/meminfo"));
        } catch (IOException e) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "memory budget: read /proc/meminfo: " + e.getMessage(), null);
        }
    }

    /** Sets the reserve ({@code vmctl serve --memory-reserve}). */
    public void reserve(String text) {
        this.reserve = Reserve.parse(text);
    }

    void availableCap(Long mib) {
        this.availableCapMiB = mib;
    }

    // ---------------------------------------------------------------- the arithmetic

    private record Sums(long totalMiB, long availableMiB, long reserveMiB, long committedMiB, long reservedMiB, long freeMiB,
                        long creditMiB) {}

    /** The budget now, leaving out the VMs in {@code exclude} (a restore replaces the VM's QEMU: what it uses comes back). */
    private Sums sums(Set<String> exclude) {
        Map<String, Long> info = ProcStats.meminfo(meminfo.get());
        long total = info.getOrDefault("MemTotal", 0L) >> 20;
        Long availB = info.get("MemAvailable");
        if (availB == null) availB = info.getOrDefault("MemFree", 0L) + info.getOrDefault("Cached", 0L); // pre-3.14 kernels
        long avail = availB >> 20;
        Map<String, Vm> vms = new HashMap<>();
        for (Vm v : running.get()) vms.put(v.id(), v);
        long committed = 0;
        long reserved = 0;
        long ownRss = 0;
        long credit = 0;
        Set<String> ids = new LinkedHashSet<>(vms.keySet());
        ids.addAll(reservations.keySet());
        for (String id : ids) {
            Vm v = vms.get(id);
            long used = v == null ? 0 : rss.rssBytes(v.pid()) >> 20;
            ownRss += used;
            if (exclude.contains(id)) {
                credit += used;
                continue;
            }
            Long r = reservations.get(id);
            long configured = r != null ? r : v.configuredMiB();
            long grow = Math.max(0, configured - used);
            if (r != null) reserved += grow;
            else committed += grow;
        }
        for (Group g : groups) reserved += g.left;
        Long cap = availableCapMiB;
        if (cap != null) avail = Math.min(avail, Math.max(0, cap - ownRss));
        long res = reserve.of(total);
        long free = avail + credit - res - committed - reserved;
        return new Sums(total, avail, res, committed, reserved, free, credit);
    }

    /** The budget as {@code GET /api/v1/host} shows it. */
    public synchronized View view() {
        Sums s = sums(Set.of());
        return new View(s.totalMiB, s.availableMiB, reserve.text(), s.reserveMiB, s.committedMiB, s.reservedMiB, Math.max(0, s.freeMiB),
                availableCapMiB == null ? "/proc/meminfo" : "/proc/meminfo, capped at " + availableCapMiB + " MiB besides vmctl's VMs (-Dvmctl.memory.available)");
    }

    private VmctlException refusal(String what, long requestedMiB, Sums s) {
        return VmctlException.conflict(what + ": not enough memory: requested " + requestedMiB + " MiB, available " + Math.max(0, s.freeMiB)
                        + " MiB (host MemAvailable " + s.availableMiB + (s.creditMiB > 0 ? " + " + s.creditMiB + " the VM's own" : "")
                        + " − reserve " + s.reserveMiB + " − " + (s.committedMiB + s.reservedMiB) + " the VMs that run or boot may still use)",
                "stop or remove VMs, ask for less memory, or lower the reserve (vmctl serve --memory-reserve, now " + reserve.text() + ")");
    }

    // ---------------------------------------------------------------- admission

    /** True when the VM holds a reservation (admitted, boot not ended): its boot is not checked again. */
    public synchronized boolean holds(String vmId) {
        return reservations.containsKey(vmId);
    }

    /**
     * Admits the boot of one VM ({@code mib} of memory) or throws a 409 naming memory, requested and available; the VM
     * holds the reservation until {@link #release}. A VM that holds one already (assigned from a {@link Group}) is not
     * checked again. {@code exclude}: VMs whose QEMU this boot replaces (a restore: the VM itself).
     */
    public synchronized void admit(String what, String vmId, long mib, Set<String> exclude) {
        if (reservations.containsKey(vmId)) return;
        Sums s = sums(exclude);
        if (mib > s.freeMiB) throw refusal(what, mib, s);
        reservations.put(vmId, mib);
    }

    public void admit(String what, String vmId, long mib) {
        admit(what, vmId, mib, Set.of());
    }

    /** The VM's boot has ended (running, failed or cancelled): its QEMU (if any) is counted as a running VM from now on. */
    public synchronized void release(String vmId) {
        reservations.remove(vmId);
    }

    /** Admits {@code mib} for several VMs at once (their ids come later: {@link Group#assign}); throws the 409 as {@link #admit}. */
    public synchronized Group group(String what, long mib, Set<String> exclude) {
        Sums s = sums(exclude);
        if (mib > s.freeMiB) throw refusal(what, mib, s);
        Group g = new Group(mib);
        groups.add(g);
        return g;
    }

    /** Memory admitted for VMs not created yet; closing it gives back what was not assigned. */
    public final class Group implements AutoCloseable {
        private long left;
        private final Set<String> assigned = new LinkedHashSet<>();

        private Group(long mib) {
            this.left = mib;
        }

        /** Memory of the group not assigned to a VM yet. */
        public long left() {
            synchronized (MemoryBudget.this) {
                return left;
            }
        }

        /** The VM {@code vmId} takes {@code mib} of the group as its own reservation (released with its boot). */
        public void assign(String vmId, long mib) {
            synchronized (MemoryBudget.this) {
                if (!groups.contains(this)) return;
                left = Math.max(0, left - mib);
                reservations.merge(vmId, mib, Math::max);
                assigned.add(vmId);
            }
        }

        /** Ends the group: what was not assigned goes back, and so do the reservations of VMs it assigned (their boots have ended). */
        @Override
        public void close() {
            synchronized (MemoryBudget.this) {
                groups.remove(this);
                for (String id : assigned) reservations.remove(id);
                assigned.clear();
            }
        }
    }
}
