package dev.vmctl.snapshot;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmctlException;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The description of one snapshot, stored as {@code manifest.json} in its directory and written last:
 * a directory without a readable manifest is not a snapshot. Format version 1.
 *
 * <pre>{@code
 * {"formatVersion":1, "name":"web1-warm", "createdAt":"2025-05-01T10:00:00Z", "parent":null,
 *  "vm":{"name":"web1", "image":"tiny", "kernel":"/data/images/tiny/vmlinux", "kernelSha256":"…",
 *        "initrd":"/data/images/tiny/initrd.cpio", "initrdSha256":"…", "cpus":1, "memoryMiB":256,
 *        "accel":"tcg", "extraCmdline":"vmctl.ip0=10.0.0.2/24", "nics":[{"index":0,"mac":"52:54:00:12:34:56"}]},
 *  "state":{"file":"state", "compressed":false, "ramMode":"file", "ramFile":"ram"},
 *  "disk":null,
 *  "files":[{"path":"initrd","size":…,"sha256":"…"}, {"path":"ram",…}, {"path":"state",…}, {"path":"vmlinux",…}]}
 * }</pre>
 *
 * <p>{@code vm.kernel}/{@code vm.initrd} name the image files the VM was booted from; the snapshot keeps
 * its own copies ({@code vmlinux}, {@code initrd}: hard links where possible), so an image rebuild does not
 * break it. Every file of the directory except the manifest is listed in {@code files} with its size and
 * SHA-256; {@link SnapshotStore#verify} checks them all before any restore.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"formatVersion", "name", "createdAt", "parent", "vm", "state", "disk", "files"})
public record SnapshotManifest(int formatVersion, String name, String createdAt, String parent, Vm vm, State state,
                               Disk disk, List<FileEntry> files) {
    public static final int FORMAT_VERSION = 1;
    /** File names inside a snapshot directory. */
    public static final String MANIFEST_FILE = "manifest.json";
    public static final String STATE_FILE = "state";
    public static final String STATE_FILE_ZSTD = "state.zst";
    public static final String RAM_FILE = "ram";
    public static final String KERNEL_FILE = "vmlinux";
    public static final String INITRD_FILE = "initrd";
    public static final String DISK_FILE = "disk.qcow2";

    static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** Where guest RAM is: in its own file of the snapshot (x-ignore-shared), or inside the state stream. */
    public enum RamMode {
        @JsonProperty("file") FILE,
        @JsonProperty("stream") STREAM
    }

    /** What the VM was, as far as a restore into a new QEMU needs it (the device layout follows from it). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @JsonPropertyOrder({"name", "image", "kernel", "kernelSha256", "initrd", "initrdSha256", "cpus", "memoryMiB", "accel",
            "extraCmdline", "nics"})
    public record Vm(String name, String image, String kernel, String kernelSha256, String initrd, String initrdSha256,
                     int cpus, int memoryMiB, String accel, String extraCmdline, List<Nic> nics) {
        public Vm {
            nics = nics == null ? List.of() : List.copyOf(nics);
        }

        public boolean kvm() {
            return "kvm".equals(accel);
        }
    }

    /** A NIC of the VM: its number (root port rpN, see {@code QemuCommand.Nic}) and the MAC it had. */
    public record Nic(int index, String mac) {}

    /** The state file and where RAM is ({@code ramFile} is null for {@link RamMode#STREAM}). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @JsonPropertyOrder({"file", "compressed", "ramMode", "ramFile"})
    public record State(String file, boolean compressed, RamMode ramMode, String ramFile) {
        /** True when the state was saved with x-ignore-shared and must be loaded with it. */
        public boolean ignoreShared() {
            return ramMode == RamMode.FILE;
        }
    }

    /** The VM's disk overlay as of the snapshot (qcow2 whose backing file stays shared, outside the snapshot). */
    @JsonPropertyOrder({"file", "backing", "backingFormat"})
    public record Disk(String file, String backing, String backingFormat) {}

    /** One file of the snapshot directory: name relative to it, size in bytes, SHA-256 (hex). */
    @JsonPropertyOrder({"path", "size", "sha256"})
    public record FileEntry(String path, long size, String sha256) {}

    public SnapshotManifest {
        files = files == null ? List.of() : List.copyOf(files);
    }

    public SnapshotManifest withName(String newName) {
        return new SnapshotManifest(formatVersion, newName, createdAt, parent, vm, state, disk, files);
    }

    public SnapshotManifest withFiles(List<FileEntry> newFiles) {
        return new SnapshotManifest(formatVersion, name, createdAt, parent, vm, state, disk, newFiles);
    }

    /** Total size of the snapshot's files (apparent sizes). */
    public long totalBytes() {
        return files.stream().mapToLong(FileEntry::size).sum();
    }

    public FileEntry file(String path) {
        return files.stream().filter(f -> f.path().equals(path)).findFirst().orElse(null);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("manifest to JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Parses and checks a manifest: the format version first (a newer vmctl's snapshot is refused by name),
     * then fields, then {@link #validate()}.
     *
     * @throws VmctlException INVALID naming what is wrong
     */
    public static SnapshotManifest fromJson(byte[] json) {
        JsonNode tree;
        try {
            tree = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad("manifest is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw bad("manifest unreadable: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) throw bad("manifest is not a JSON object");
        JsonNode v = tree.get("formatVersion");
        if (v == null || !v.canConvertToInt()) throw bad("manifest has no formatVersion");
        if (v.asInt() != FORMAT_VERSION) {
            throw bad("manifest format version " + v.asInt() + " is not supported (this vmctl reads version " + FORMAT_VERSION + ")");
        }
        SnapshotManifest m;
        try {
            m = JSON.treeToValue(tree, SnapshotManifest.class);
        } catch (JsonProcessingException e) {
            throw bad("manifest does not match format version 1: " + e.getOriginalMessage());
        }
        m.validate();
        return m;
    }

    /** Checks the fields that paths, QEMU arguments and restores are built from. */
    public void validate() {
        if (formatVersion != FORMAT_VERSION) throw bad("format version " + formatVersion);
        try {
            Names.check("snapshot name", name);
            if (parent != null) Names.check("parent snapshot name", parent);
        } catch (VmctlException e) {
            throw bad(e.getMessage());
        }
        if (createdAt == null || createdAt.isBlank()) throw bad("createdAt missing");
        if (vm == null) throw bad("vm missing");
        if (vm.cpus() < 1 || vm.memoryMiB() < 16) throw bad("vm cpus/memoryMiB out of range");
        if (!"tcg".equals(vm.accel()) && !"kvm".equals(vm.accel())) throw bad("vm accel must be tcg or kvm, not " + vm.accel());
        Set<Integer> indexes = new HashSet<>();
        for (Nic n : vm.nics()) {
            if (n == null || n.index() < 0 || n.index() > 63 || !indexes.add(n.index())) throw bad("bad or repeated NIC index");
            if (n.mac() == null || !MAC.matcher(n.mac()).matches()) throw bad("bad NIC mac " + (n == null ? null : n.mac()));
        }
        Set<String> names = new HashSet<>();
        for (FileEntry f : files) {
            if (f == null || f.path() == null || !FILE_NAME.matcher(f.path()).matches() || f.path().equals(MANIFEST_FILE)) {
                throw bad("bad file name " + (f == null ? null : f.path()));
            }
            if (!names.add(f.path())) throw bad("file " + f.path() + " listed twice");
            if (f.size() < 0) throw bad("file " + f.path() + ": negative size");
            if (f.sha256() == null || !SHA256.matcher(f.sha256()).matches()) throw bad("file " + f.path() + ": bad sha256");
        }
        if (state == null || state.file() == null || state.ramMode() == null) throw bad("state missing");
        require(names, state.file(), "state file");
        if (state.ramMode() == RamMode.FILE) {
            if (state.ramFile() == null) throw bad("state.ramFile missing for ramMode file");
            require(names, state.ramFile(), "RAM file");
        } else if (state.ramFile() != null) {
            throw bad("state.ramFile set for ramMode stream");
        }
        require(names, KERNEL_FILE, "kernel");
        require(names, INITRD_FILE, "initrd");
        if (disk != null) {
            require(names, disk.file(), "disk overlay");
            if (disk.backing() != null && !disk.backing().startsWith("/")) throw bad("disk backing must be an absolute path");
            if (disk.backingFormat() != null && !DiskOverlay.FORMATS.contains(disk.backingFormat())) {
                throw bad("disk backing format must be one of " + DiskOverlay.FORMATS);
            }
        }
    }

    private void require(Set<String> names, String file, String what) {
        if (!names.contains(file)) throw bad(what + " '" + file + "' is not in the file list");
    }

    private static VmctlException bad(String msg) {
        return new VmctlException(VmctlException.Kind.INVALID, "snapshot manifest: " + msg, null);
    }
}
