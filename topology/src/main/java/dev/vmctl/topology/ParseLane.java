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
 * (the CLI, tests) parse where they are.
 */
public final class ParseLane {
    private static final AtomicInteger N = new AtomicInteger();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(
            Integer.getInteger("vmctl.parseThreads", Math.max(1, Runtime.getRuntime().availableProcessors() / 2)),
            r -> Thread.ofPlatform().daemon().name("vmctl-parse-" + N.incrementAndGet()).unstarted(r));

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
