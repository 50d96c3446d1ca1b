package dev.vmctl.model;

import java.util.Collection;
import java.util.Locale;

/**
 * A validated request for a VM. Built only through {@link #validate}; every rejection names the field
 * and the allowed values.
 */
public record VmSpec(String name, String image, int cpus, int memoryMiB, Accel accel) {
    public static final int MIN_CPUS = 1, MAX_CPUS = 16;
    public static final int MIN_MEMORY_MIB = 64, MAX_MEMORY_MIB = 16384;

    public enum Accel {
        AUTO, KVM, TCG;

        public static Accel parse(String field, String s) {
            if (s == null || s.isBlank()) return AUTO;
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw VmctlException.invalid(field, "'" + s + "' is not an accelerator", "auto, kvm, tcg");
            }
        }

        public String cli() { return name().toLowerCase(Locale.ROOT); }
    }

    /**
     * @param memory  "128M", "1G", "256" (MiB) …; null means 128 MiB
     * @param images  names of the images in the catalog
     */
    public static VmSpec validate(String name, String image, Integer cpus, String memory, String accel,
                                  Collection<String> images) {
        Names.check("name", name);
        if (image == null || image.isBlank()) {
            throw VmctlException.invalid("image", "missing", images.isEmpty()
                    ? "no image is built yet; run 'vmctl image build tiny'" : String.join(", ", images));
        }
        if (!images.contains(image)) {
            throw VmctlException.invalid("image", "unknown image '" + image + "'", images.isEmpty()
                    ? "no image is built yet; run 'vmctl image build tiny'" : String.join(", ", images));
        }
        int c = cpus == null ? 1 : cpus;
        if (c < MIN_CPUS || c > MAX_CPUS) {
            throw VmctlException.invalid("cpus", c + " is out of range", MIN_CPUS + ".." + MAX_CPUS);
        }
        long mem = memory == null ? 128 : Sizes.parseMiB(memory);
        String allowedMem = MIN_MEMORY_MIB + "M.." + MAX_MEMORY_MIB + "M (e.g. 128M, 1G; bare numbers are MiB)";
        if (mem < 0) {
            throw VmctlException.invalid("memory", "'" + memory + "' is not a size", allowedMem);
        }
        if (mem < MIN_MEMORY_MIB || mem > MAX_MEMORY_MIB) {
            throw VmctlException.invalid("memory", mem + " MiB is out of range", allowedMem);
        }
        return new VmSpec(name, image, c, (int) mem, Accel.parse("accel", accel));
    }
}
