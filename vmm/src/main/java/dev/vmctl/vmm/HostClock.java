package dev.vmctl.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The host's TSC rate, handed to TCG guests (tsc_early_khz) so that boot never calibrates against the PIT. */
public final class HostClock {
    private static volatile long cachedKhz;

    private HostClock() {}

    public static long tscKhz() {
        long k = cachedKhz;
        if (k > 0) return k;
        k = 2_000_000;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("cpu MHz")) {
                    k = (long) (Double.parseDouble(line.substring(line.indexOf(':') + 1).trim()) * 1000);
                    break;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // keep the default; the guest then calibrates itself
        }
        cachedKhz = k;
        return k;
    }
}
