package dev.vmctl.topology;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where topology and scenario files are parsed (and topology plans computed) when the caller is a virtual thread
 * (a request of the server): on a few platform threads of their own, {@code max(1, cores / 2)} unless {@code -Dvmctl.parseThreads=N}.
 *
 * <p>Parsing a large file is pure CPU work. On a virtual thread it would hold one of the few carrier threads (as
 * many as cores) until it ends, and two such requests on a two-core host left every other client of the server,
 * even the one accepting connections, waiting. Here the virtual thread waits for the result without holding a
 * carrier, so at most this many cores are parsing at any time and the others keep answering. Platform threads
 * (the CLI, tests) parse where they are. The parse threads run at nice {@link #NICE} (Linux), so that while a
 * large file is parsed, requests that need a little CPU get it first.
 */
public final class ParseLane {
    private static final AtomicInteger N = new AtomicInteger();
    /** The nice value of the parse threads (Linux; {@code -Dvmctl.parseNice}, 0 leaves them as they are). */
    static final int NICE = Integer.getInteger("vmctl.parseNice", 10);
    private static final ExecutorService POOL = Executors.newFixedThreadPool(
            Integer.getInteger("vmctl.parseThreads", Math.max(1, Runtime.getRuntime().availableProcessors() / 2)),
            r -> Thread.ofPlatform().daemon().name("vmctl-parse-" + N.incrementAndGet()).unstarted(() -> {
                lowerPriority(NICE);
                r.run();
            }));

    /**
     * Gives the calling thread a lower CPU share (Linux: {@code setpriority(PRIO_PROCESS, gettid(), nice)}; threads are
     * tasks of their own there), so that a parse yields the core to requests that are waiting for it. Best effort:
     * where the call is not available the thread keeps its priority.
     */
    static boolean lowerPriority(int nice) {
        if (nice <= 0 || !System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return false;
        try {
            java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            var lookup = linker.defaultLookup();
            var gettid = linker.downcallHandle(lookup.find("gettid").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT));
            var setpriority = linker.downcallHandle(lookup.find("setpriority").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_INT,
                            java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_INT));
            int tid = (int) gettid.invokeExact();
            int rc = (int) setpriority.invokeExact(0 /* PRIO_PROCESS */, tid, nice);
            return rc == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    private ParseLane() {}

    /**
     * Runs {@code work} on the parse threads when called from a virtual thread, else here (also when already on a
     * parse thread); exceptions pass unchanged.
     */
    public static <T> T call(Callable<T> work) {
        try {
            if (!Thread.currentThread().isVirtual()) return work.call();
            Future<T> f = POOL.submit(work);
            try {
                return f.get();
            } catch (InterruptedException e) {
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while parsing", e);
            } catch (ExecutionException e) {
                throw e.getCause();
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
