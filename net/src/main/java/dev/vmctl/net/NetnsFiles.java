package dev.vmctl.net;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Removing a named network namespace without starting a program: exactly what {@code ip netns delete NAME} does —
 * {@code umount2("/var/run/netns/NAME", MNT_DETACH)}, then unlink the file — through the C library (Java's foreign function
 * API). It saves a process start (several milliseconds on a busy host) on the path of a segment's removal; when the C
 * call is not available the caller falls back to {@code ip netns delete}.
 */
final class NetnsFiles {
    /** Where ip netns keeps its names (iproute2's NETNS_RUN_DIR). */
    static final Path RUN_DIR = Path.of("/var/run/netns");
    private static final int MNT_DETACH = 2;
    private static final MethodHandle UMOUNT2 = umount2();

    private NetnsFiles() {}

    private static MethodHandle umount2() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("umount2")
                    .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null; // no native access: the caller runs ip netns delete
        }
    }

    /**
     * Deletes namespace {@code name} (checked to be one of vmctl's) as ip netns delete does. True when it is gone (or
     * was never there), false when this way cannot do it (the caller then runs ip).
     */
    static boolean delete(String name) {
        NetNames.checkNetns(name);
        Path p = RUN_DIR.resolve(name);
        if (UMOUNT2 == null) return false;
        if (!Files.exists(p)) return true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment path = a.allocateFrom(p.toString());
            int rc = (int) UMOUNT2.invokeExact(path, MNT_DETACH);
            if (rc != 0) return false;
            Files.deleteIfExists(p);
            return true;
        } catch (IOException e) {
            return false;
        } catch (Throwable t) {
            return false;
        }
    }
}
