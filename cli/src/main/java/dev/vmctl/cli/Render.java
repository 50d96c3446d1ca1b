package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Impairment;
import dev.vmctl.model.NetworkView;
import dev.vmctl.model.NicView;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.NodeVm;
import dev.vmctl.model.RouterView;
import dev.vmctl.model.SnapshotView;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.TopologyStep;
import dev.vmctl.model.TopologyView;
import dev.vmctl.model.VmView;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** The human-readable ("table") forms of what the server answers. */
final class Render {
    private Render() {}

    static String memory(int mib) {
        return mib >= 1024 && mib % 1024 == 0 ? (mib / 1024) + "G" : mib + "M";
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** ISO instants to the second ({@code 2026-11-28T23:33:01Z}); anything else as given; null as "-". */
    static String time(String iso) {
        if (iso == null || iso.isBlank()) return "-";
        try {
            return Instant.parse(iso).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    static String state(VmView v) {
        return v.state() == null ? "UNKNOWN" : v.state().name();
    }

    /** {@code key:  value} lines with the values aligned; null values are left out. */
    static void keyValues(PrintWriter out, Map<String, String> fields, String indent) {
        int width = 0;
        for (var e : fields.entrySet()) if (e.getValue() != null) width = Math.max(width, e.getKey().length());
        for (var e : fields.entrySet()) {
            if (e.getValue() == null) continue;
            out.println(indent + e.getKey() + ":" + " ".repeat(width - e.getKey().length() + 2) + e.getValue());
        }
        out.flush();
    }

    /** A VM in full, then its NICs as a table (none when it has none). */
    static void vm(PrintWriter out, VmView v) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", v.name());
        f.put("id", v.id());
        f.put("state", state(v));
        f.put("error", v.error());
        f.put("image", v.image());
        f.put("cpus", String.valueOf(v.cpus()));
        if (v.cpuLimit() != null) f.put("cpuLimit", number(v.cpuLimit()) + " cores");
        f.put("memory", memory(v.memoryMiB()));
        f.put("accel", v.accel());
        f.put("boot", v.boot());
        f.put("pid", v.pid() == null ? null : String.valueOf(v.pid()));
        f.put("created", time(v.createdAt()));
        f.put("updated", time(v.updatedAt()));
        keyValues(out, f, "");
        if (v.nics().isEmpty()) return;
        out.println("nics:");
        nicTable(v.nics()).print(out, "  ");
    }

    /** NAME NETWORK IP MAC LINK IMPAIR, one row per NIC. */
    static Table nicTable(List<NicView> nics) {
        Table t = new Table("NAME", "NETWORK", "IP", "MAC", "LINK", "IMPAIR");
        for (NicView n : nics) {
            t.row(n.name(), n.network(), n.ip(), n.mac(), n.link(), impairAndRate(n));
        }
        return t;
    }

    /**
     * One NIC in full: {@code nic: eth0 (vm a)}, its network, address, MAC, link, tap and impairments,
     * then the mechanisms the server used to apply them ({@code rate: host tbf on the tap}).
     */
    static void nic(PrintWriter out, String vm, NicView n) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("nic", n.name() + (vm == null ? "" : " (vm " + vm + ")"));
        f.put("network", n.network());
        f.put("ip", address(n));
        f.put("mac", n.mac());
        f.put("link", n.link());
        f.put("tap", n.tap());
        f.put("impair", impair(n.impair()));
        if (n.rateKbit() != null) f.put("rate", rate(n.rateKbit()) + " (the NIC's default, both ways)");
        keyValues(out, f, "");
        mechanisms(out, n, "");
    }

    /** {@code 198.18.10.2/24}, the bare IP without a prefix, or null. */
    static String address(NicView n) {
        if (n.ip() == null || n.ip().isBlank()) return null;
        return n.prefix() == null ? n.ip() : n.ip() + "/" + n.prefix();
    }

    /** {@code mechanisms:} and one aligned line per mechanism the server named; nothing when it named none. */
    static void mechanisms(PrintWriter out, NicView n, String indent) {
        if (n.mechanisms() == null) return;
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : n.mechanisms().entrySet()) {
            if (e.getValue() != null && !e.getValue().isBlank()) m.put(e.getKey(), e.getValue());
        }
        if (m.isEmpty()) return;
        out.println(indent + "mechanisms:");
        keyValues(out, m, indent + "  ");
    }

    /** {@code delay 50ms, jitter 5ms, loss 2%, rate 10mbit} (+ {@code direction ingress|both}); "-" when nothing is impaired. */
    /** The impairment, and the NIC's default rate where the impairment sets none. */
    static String impairAndRate(NicView n) {
        String imp = impair(n.impair());
        if (n.rateKbit() == null || (n.impair() != null && n.impair().hasRate())) return imp;
        String def = "default rate " + rate(n.rateKbit());
        return "-".equals(imp) ? def : imp + ", " + def;
    }

    static String impair(Impairment i) {
        if (i == null) return "-";
        List<String> parts = new ArrayList<>();
        if (nonZero(i.delayMs())) parts.add("delay " + number(i.delayMs()) + "ms");
        if (nonZero(i.jitterMs())) parts.add("jitter " + number(i.jitterMs()) + "ms");
        if (nonZero(i.lossPercent())) parts.add("loss " + number(i.lossPercent()) + "%");
        if (nonZero(i.rateKbit())) parts.add("rate " + rate(i.rateKbit()));
        if (nonZero(i.corruptPercent())) parts.add("corrupt " + number(i.corruptPercent()) + "%");
        if (nonZero(i.duplicatePercent())) parts.add("duplicate " + number(i.duplicatePercent()) + "%");
        if (i.hasNetem() && i.dir() != Impairment.Direction.EGRESS) parts.add("direction " + i.direction());
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    /** kbit/s as tc writes them: {@code 10mbit}, {@code 1gbit}, {@code 1500kbit}. */
    static String rate(double kbit) {
        if (kbit >= 1_000_000 && kbit % 1_000_000 == 0) return number(kbit / 1_000_000) + "gbit";
        if (kbit >= 1_000 && kbit % 1_000 == 0) return number(kbit / 1_000) + "mbit";
        return number(kbit) + "kbit";
    }

    private static boolean nonZero(double d) {
        return d != 0;
    }

    /** 2.0 → {@code 2}, 0.10 → {@code 0.1}. */
    private static String number(double d) {
        return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    static void network(PrintWriter out, NetworkView n) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", n.name());
        f.put("id", n.id());
        f.put("subnet", n.subnet());
        f.put("gateway", n.gateway());
        f.put("vlan", n.vlan() == null ? "none" : String.valueOf(n.vlan()));
        f.put("bridge", n.bridge());
        f.put("vlan mechanism", n.vlanMechanism());
        f.put("routers", joined(n.routers()));
        f.put("segment", n.segment()); // only for a network inside an isolated segment
        f.put("created", time(n.createdAt()));
        if (n.attachments().isEmpty()) f.put("attachments", "none");
        keyValues(out, f, "");
        if (n.attachments().isEmpty()) return;
        out.println("attachments:");
        Table t = new Table("VM", "NIC", "IP", "MAC");
        for (NetworkView.Attachment a : n.attachments()) t.row(a.vm(), a.nic(), a.ip(), a.mac());
        t.print(out, "  ");
    }

    static void router(PrintWriter out, RouterView r) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", r.name());
        f.put("id", r.id());
        f.put("netns", r.netns());
        f.put("created", time(r.createdAt()));
        if (r.networks().isEmpty()) f.put("networks", "none");
        if (r.routes().isEmpty()) f.put("routes", "none");
        keyValues(out, f, "");
        if (!r.networks().isEmpty()) {
            out.println("networks:");
            Table t = new Table("NETWORK", "ADDRESS");
            for (RouterView.Leg p : r.networks()) t.row(p.network(), p.address());
            t.print(out, "  ");
        }
        if (!r.routes().isEmpty()) {
            out.println("routes:");
            Table t = new Table("TO", "VIA");
            for (RouterView.Route rt : r.routes()) t.row(rt.to(), rt.via());
            t.print(out, "  ");
        }
    }

    /** {@code a,b,c} for table cells and lists; "-" when empty. */
    static String joined(List<String> items) {
        List<String> present = items.stream().filter(Objects::nonNull).filter(s -> !s.isBlank()).toList();
        return present.isEmpty() ? "-" : String.join(",", present);
    }

    /** A snapshot in full: what it was taken of, how its RAM is kept, its files and the VMs cloned from it. */
    static void snapshot(PrintWriter out, SnapshotView s) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", s.name());
        f.put("vm", s.vm());
        f.put("parent", s.parent());
        f.put("image", s.image());
        f.put("cpus", String.valueOf(s.cpus()));
        f.put("memory", memory(s.memoryMiB()));
        f.put("accel", s.accel());
        f.put("ram", ram(s));
        f.put("size", bytes(s.sizeBytes()));
        f.put("created", time(s.createdAt()));
        f.put("format", String.valueOf(s.formatVersion()));
        f.put("clones", s.clones().isEmpty() ? "none" : joined(s.clones()));
        if (s.nics().isEmpty()) f.put("nics", "none");
        keyValues(out, f, "");
        if (!s.nics().isEmpty()) {
            out.println("nics:");
            Table t = new Table("INDEX", "MAC");
            for (SnapshotView.Nic n : s.nics()) t.row(n.index(), n.mac());
            t.print(out, "  ");
        }
        if (!s.files().isEmpty()) {
            out.println("files:");
            Table t = new Table("PATH", "SIZE", "SHA256");
            for (SnapshotView.FileEntry e : s.files()) t.row(e.path(), bytes(e.size()), e.sha256());
            t.print(out, "  ");
        }
        out.flush();
    }

    /** {@code file}, {@code stream}, with {@code +zstd} when the state file is compressed; "-" if unknown. */
    static String ram(SnapshotView s) {
        String mode = s.ramMode() == null || s.ramMode().isBlank() ? "-" : s.ramMode();
        return s.compressed() ? mode + "+zstd" : mode;
    }

    /**
     * A topology report as a diff: one line per step ({@code +} create, {@code -} delete, {@code ~} change, {@code =} keep),
     * its status and time aligned after it (none while only planned), a failed or skipped step's reason
     * indented on the lines below, then the server's summary.
     */
    static void report(PrintWriter out, TopologyReport r) {
        List<String> lefts = new ArrayList<>();
        List<String> statuses = new ArrayList<>();
        int width = 0;
        for (TopologyStep s : r.steps()) {
            String left = sign(s.verb()) + " " + stepText(s);
            String status = stepStatus(s);
            lefts.add(left);
            statuses.add(status);
            if (!status.isEmpty()) width = Math.max(width, left.length());
        }
        for (int i = 0; i < r.steps().size(); i++) {
            String left = lefts.get(i);
            String status = statuses.get(i);
            out.println(status.isEmpty() ? left : left + " ".repeat(width - left.length() + 2) + status);
            String error = r.steps().get(i).error();
            if (error != null && !error.isBlank()) {
                for (String l : error.strip().split("\\R")) out.println(("    " + l).stripTrailing());
            }
        }
        if (r.summary() != null && !r.summary().isBlank()) {
            out.println(r.summary());
        } else {
            out.println("topology " + r.topology() + ": " + (r.ok() ? "done" : "not every step succeeded"));
        }
        out.flush();
    }

    private static String sign(String verb) {
        return switch (verb == null ? "" : verb) {
            case "create" -> "+";
            case "delete" -> "-";
            case "change" -> "~";
            case "keep" -> "=";
            default -> " ";
        };
    }

    /** The server's description ({@code create vm shop-svc-api (api-handler) on public, internal}). */
    private static String stepText(TopologyStep s) {
        if (s.description() != null && !s.description().isBlank()) return s.description().strip().replace('\n', ' ');
        List<String> parts = new ArrayList<>();
        for (String p : new String[]{s.verb(), s.type(), s.name()}) if (p != null && !p.isBlank()) parts.add(p);
        return String.join(" ", parts);
    }

    /** {@code done 2.1s}, {@code failed}, {@code skipped}; empty for planned. */
    private static String stepStatus(TopologyStep s) {
        String status = s.status() == null ? "" : s.status();
        if (status.equals("planned")) return "";
        if (s.millis() != null && !status.isEmpty()) return status + " " + millis(s.millis());
        return status;
    }

    /** {@code 850ms}, {@code 2.1s}. */
    static String millis(long ms) {
        return ms < 1000 ? ms + "ms" : String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
    }

    /** A deployed topology: its file, state, networks and routers, then each node's VMs. */
    static void topology(PrintWriter out, TopologyView t) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", t.name());
        f.put("file", t.file());
        f.put("state", t.state());
        f.put("applied", time(t.appliedAt()));
        f.put("networks", t.networks().isEmpty() ? "none" : joined(t.networks()));
        f.put("routers", t.routers().isEmpty() ? "none" : joined(t.routers()));
        if (t.nodes().isEmpty()) f.put("nodes", "none");
        keyValues(out, f, "");
        for (NodeView n : t.nodes()) {
            out.println("node " + n.name() + ": " + (n.state() == null ? "UNKNOWN" : n.state()));
            nodeVms(out, n, "  ");
        }
        out.flush();
    }

    /** One node: {@code node: shop/svc}, its state, and its VMs as a table. */
    static void node(PrintWriter out, NodeView n) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("node", NodeRef.of(n).toString());
        f.put("state", n.state() == null ? "UNKNOWN" : n.state());
        if (n.vms().isEmpty()) f.put("vms", "none");
        keyValues(out, f, "");
        if (n.vms().isEmpty()) return;
        out.println("vms:");
        nodeVms(out, n, "  ");
    }

    /** VM NAME ROLE STATE IPS, then {@code error (VM): ...} for each VM with an error. */
    private static void nodeVms(PrintWriter out, NodeView n, String indent) {
        Table t = new Table("VM", "NAME", "ROLE", "STATE", "IPS");
        for (NodeVm v : n.vms()) t.row(v.name(), v.vm(), v.role(), v.state(), joined(v.ips()));
        t.print(out, indent);
        for (NodeVm v : n.vms()) {
            if (v.error() != null && !v.error().isBlank()) {
                out.println(indent + "error (" + v.name() + "): " + v.error().strip().replace('\n', ' '));
            }
        }
        out.flush();
    }

    static void image(PrintWriter out, ImageInfo i) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", i.name());
        f.put("os", i.os());
        f.put("kernel", i.kernelVersion());
        f.put("size", bytes(i.sizeBytes()));
        f.put("built", time(i.builtAt()));
        f.put("kernel file", i.kernel());
        f.put("initrd", i.initrd());
        f.put("rootfs", i.rootfs());
        if (i.recipe() != null) f.put("recipe", i.recipe()); // image show adds the checksums
        keyValues(out, f, "");
    }

    /**
     * {@code GET /api/v1/host} for people. The shape belongs to the server, so this walks whatever
     * object comes: scalars as {@code key: value} (aligned per level), objects as indented sections, and
     * a {@code capabilities} object as one line per capability: yes/no and its detail.
     */
    static void host(PrintWriter out, String serverUrl, JsonNode host) {
        out.println(line("", "server", serverUrl, width(host, "server")));
        section(out, host, "", width(host, "server"));
        out.flush();
    }

    private static void section(PrintWriter out, JsonNode obj, String indent, int width) {
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            JsonNode v = e.getValue();
            if (isScalarLine(v)) {
                out.println(line(indent, words(e.getKey()), v.isArray() ? joined(v) : scalar(v), width));
                continue;
            }
            out.println(indent + words(e.getKey()) + ":");
            if (v.isArray()) {
                for (JsonNode el : v) {
                    if (el.isObject()) {
                        out.println(indent + "  -");
                        section(out, el, indent + "    ", width(el));
                    } else {
                        out.println(indent + "  - " + scalar(el));
                    }
                }
            } else if (isCapabilities(e.getKey(), v)) {
                capabilities(out, v, indent + "  ");
            } else {
                section(out, v, indent + "  ", width(v));
            }
        }
    }

    private static boolean isScalarLine(JsonNode v) {
        return !v.isObject() && !(v.isArray() && hasContainers(v));
    }

    /** The widest label among an object's scalar lines (and any extra labels printed with them). */
    private static int width(JsonNode obj, String... extra) {
        int w = 0;
        for (String x : extra) w = Math.max(w, x.length());
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            if (isScalarLine(e.getValue())) w = Math.max(w, words(e.getKey()).length());
        }
        return w;
    }

    private static String line(String indent, String label, String value, int width) {
        return (indent + label + ":" + " ".repeat(width - label.length() + 2) + value).stripTrailing();
    }

    private static boolean isCapabilities(String key, JsonNode v) {
        return key.toLowerCase(Locale.ROOT).contains("capabilit") && v.isObject();
    }

    /** {@code name  yes  mechanism} — the first boolean of each entry is the verdict, its strings the how/why. */
    private static void capabilities(PrintWriter out, JsonNode caps, String indent) {
        List<String[]> lines = new ArrayList<>();
        int width = 0;
        for (Map.Entry<String, JsonNode> e : caps.properties()) {
            JsonNode v = e.getValue();
            String verdict;
            List<String> notes = new ArrayList<>();
            if (v.isBoolean()) {
                verdict = yesNo(v.asBoolean());
            } else if (v.isObject()) {
                verdict = null;
                for (Map.Entry<String, JsonNode> f : v.properties()) {
                    JsonNode fv = f.getValue();
                    if (fv.isBoolean() && verdict == null) verdict = yesNo(fv.asBoolean());
                    else if (fv.isValueNode() && !fv.isNull() && !fv.asText().isBlank()) {
                        notes.add(fv.isTextual() ? fv.asText() : words(f.getKey()) + " " + scalar(fv));
                    } else if (fv.isContainerNode()) {
                        notes.add(words(f.getKey()) + " " + fv);
                    }
                }
                if (verdict == null) verdict = "?";
            } else {
                verdict = scalar(v);
            }
            lines.add(new String[]{e.getKey(), verdict, String.join("; ", notes)});
            width = Math.max(width, e.getKey().length());
        }
        for (String[] l : lines) {
            String line = indent + l[0] + " ".repeat(width - l[0].length() + 2) + String.format("%-3s", l[1])
                    + (l[2].isEmpty() ? "" : "  " + l[2]);
            out.println(line.stripTrailing());
        }
    }

    private static boolean hasContainers(JsonNode array) {
        for (JsonNode el : array) if (el.isContainerNode()) return true;
        return false;
    }

    private static String joined(JsonNode array) {
        List<String> parts = new ArrayList<>();
        for (JsonNode el : array) parts.add(scalar(el));
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    private static String scalar(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return "-";
        if (v.isBoolean()) return yesNo(v.asBoolean());
        return v.asText();
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    /** {@code dataDir} → {@code data dir}, {@code qemu_version} → {@code qemu version}. */
    static String words(String key) {
        if (key.endsWith("MiB") && key.length() > 3) return words(key.substring(0, key.length() - 3)) + " MiB"; // freeMiB → free MiB
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '_' || c == '-') {
                b.append(' ');
            } else if (Character.isUpperCase(c) && i > 0 && Character.isLowerCase(key.charAt(i - 1))) {
                b.append(' ').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
