package dev.vmctl.engine;

import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.VmFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The data directory: vmctl.db, images/, vms/ID/; VMs' RAM files on tmpfs where there is room ({@link RamFiles}). */
public record DataDir(Path root) {
    public DataDir {
        root = root.toAbsolutePath().normalize();
        if (root.toString().contains(",")) {
            // QEMU's option syntax uses commas; a path with one cannot be passed safely
            throw VmctlException.invalid("data-dir", "'" + root + "' contains a comma", "a path without commas");
        }
    }

    public static Path defaultRoot() {
        String env = System.getenv("VMCTL_DATA_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        boolean root = "root".equals(System.getProperty("user.name"));
        return root ? Path.of("/var/lib/vmctl") : Path.of(System.getProperty("user.home"), ".local/share/vmctl");
    }

    public DataDir create() {
        try {
            Files.createDirectories(vmsDir());
            Files.createDirectories(imagesDir());
        } catch (IOException e) {
            throw new UncheckedIOException("data dir " + root + ": " + e.getMessage(), e);
        }
        return this;
    }

    public Path database() { return root.resolve("vmctl.db"); }
    public Path imagesDir() { return root.resolve("images"); }
    public Path vmsDir() { return root.resolve("vms"); }
    public Path hostProbe() { return root.resolve("host-probe.json"); }
    public RamFiles ramFiles() { return RamFiles.of(root, vmsDir()); }

    /** The files of a VM that exists (running, stopped, re-attached): its RAM file where it is. */
    public VmFiles vm(String id) { return new VmFiles(vmsDir().resolve(id), ramFiles().locate(id)); }

    /** The files for a new boot of a VM with {@code memoryMiB} of RAM: its RAM file on tmpfs when it fits there. */
    public VmFiles vmForBoot(String id, long memoryMiB) {
        return new VmFiles(vmsDir().resolve(id), ramFiles().placeFor(id, memoryMiB));
    }
}
