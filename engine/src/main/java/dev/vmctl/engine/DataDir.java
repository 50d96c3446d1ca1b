package dev.vmctl.engine;

import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.VmFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The data directory: vmctl.db, images/, vms/ID/. */
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
    public VmFiles vm(String id) { return new VmFiles(vmsDir().resolve(id)); }
}
