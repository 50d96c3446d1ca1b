package dev.vmctl.image;

import dev.vmctl.model.VmctlException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Which kernel an image boots ({@code vmctl image build NAME --kernel vmctl|debian}). */
public enum KernelFlavor {
    /** The vmctl guest kernel built from Debian's linux-source-6.1 (see {@link KernelBuilder}); everything built in. */
    VMCTL,
    /** Debian's linux-image-cloud-amd64 from the host's /boot, virtio and friends loaded as modules by /init. */
    DEBIAN;

    /** "vmctl" or "debian" (any case); INVALID otherwise. */
    public static KernelFlavor parse(String s) {
        for (KernelFlavor f : values()) {
            if (f.name().equalsIgnoreCase(s == null ? "" : s.strip())) return f;
        }
        throw VmctlException.invalid("kernel", "unknown kernel '" + s + "'",
                Arrays.stream(values()).map(KernelFlavor::id).collect(Collectors.joining(", ")));
    }

    /** The lower-case name used on the command line: "vmctl", "debian". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
