package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmView;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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

    static void vm(PrintWriter out, VmView v) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", v.name());
        f.put("id", v.id());
        f.put("state", state(v));
        f.put("error", v.error());
        f.put("image", v.image());
        f.put("cpus", String.valueOf(v.cpus()));
        f.put("memory", memory(v.memoryMiB()));
        f.put("accel", v.accel());
        f.put("pid", v.pid() == null ? null : String.valueOf(v.pid()));
        f.put("created", time(v.createdAt()));
        f.put("updated", time(v.updatedAt()));
        keyValues(out, f, "");
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
