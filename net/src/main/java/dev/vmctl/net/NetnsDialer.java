package dev.vmctl.net;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * TCP connections from the vmctl server into a named network namespace, without a route, a veth or a relay process: a
 * socket belongs to the namespace of the thread that created it, so one platform thread of the server enters the
 * namespace ({@code setns(2)} on its own thread only), creates the socket and returns to the server's namespace; the
 * socket is then connected and used from any thread. The server's other threads never leave its namespace and the
 * segment gets no address of the host's. Needs {@code CAP_SYS_ADMIN} (vmctl runs as root) and the C library through
 * Java's foreign function API; {@link #available()} says whether both are there.
 */
public final class NetnsDialer implements AutoCloseable {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000; // O_RDONLY | O_CLOEXEC
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle SETNS;

    static {
        MethodHandle open = null, close = null, setns = null;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            open = linker.downcallHandle(libc.find("open").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
            close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            setns = linker.downcallHandle(libc.find("setns").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        } catch (RuntimeException | LinkageError e) {
            open = close = setns = null;
        }
        OPEN = open;
        CLOSE = close;
        SETNS = setns;
    }

    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "netns-dialer"); // a platform thread: setns changes this thread only
        t.setDaemon(true);
        return t;
    });
    private final int home;

    /** Opens a handle on the server's own namespace (the one to return to). */
    public NetnsDialer() {
        if (OPEN == null) throw new IllegalStateException("no native access to open/setns (Java's foreign function API)");
        this.home = openFd("/proc/self/ns/net");
        if (home < 0) throw new IllegalStateException("cannot open /proc/self/ns/net");
    }

    /** Whether this JVM can call setns (native access granted, the C library has it). */
    public static boolean available() {
        return SETNS != null && Files.isReadable(Path.of("/proc/self/ns/net"));
    }

    /**
     * A TCP connection from inside namespace {@code netns} (a name under /var/run/netns) to {@code host:port},
     * connected within {@code timeout}; the caller closes it.
     */
    public SocketChannel connect(String netns, String host, int port, Duration timeout) throws IOException {
        SocketChannel ch = open(netns);
        boolean ok = false;
        try {
            ch.socket().connect(new InetSocketAddress(host, port), (int) Math.max(1, timeout.toMillis()));
            ok = true;
            return ch;
        } finally {
            if (!ok) ch.close();
        }
    }

    /** An unconnected IPv4 TCP socket of namespace {@code netns}. */
    public SocketChannel open(String netns) throws IOException {
        NetNames.checkNetns(netns);
        Path p = NetnsFiles.RUN_DIR.resolve(netns);
        if (!Files.exists(p)) throw new IOException("network namespace " + netns + " does not exist");
        Future<SocketChannel> f = thread.submit(() -> {
            int fd = openFd(p.toString());
            if (fd < 0) throw new IOException("cannot open " + p);
            try {
                if (setns(fd) != 0) throw new IOException("setns into " + netns + " failed (needs CAP_SYS_ADMIN)");
                try {
                    return SocketChannel.open(StandardProtocolFamily.INET);
                } finally {
                    if (setns(home) != 0) {
                        // never leave this thread elsewhere: a dialer that cannot go home stops
                        thread.shutdownNow();
                        throw new IOException("setns back to the server's namespace failed: dialer stopped");
                    }
                }
            } finally {
                closeFd(fd);
            }
        });
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw io;
            throw new IOException("socket in " + netns + ": " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("socket in " + netns + ": timed out");
        }
    }

    private static int setns(int fd) {
        try {
            return (int) SETNS.invokeExact(fd, CLONE_NEWNET);
        } catch (Throwable t) {
            return -1;
        }
    }

    private static void closeFd(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable ignored) {
            // nothing to do
        }
    }

    private static int openFd(String path) {
        try (Arena a = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(a.allocateFrom(path), O_RDONLY_CLOEXEC);
        } catch (Throwable t) {
            return -1;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            int ignored = (int) CLOSE.invokeExact(home);
        } catch (Throwable ignored) {
            // closing
        }
    }
}
