package dev.vmctl.app;

import dev.vmctl.engine.DataDir;
import dev.vmctl.model.VmSpec;
import dev.vmctl.server.VmctlServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start the vmctl server (REST API, events and GUI). VMs keep running when it stops.")
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--data-dir", description = "State, images and VM files (default: $VMCTL_DATA_DIR, else /var/lib/vmctl for root)")
    Path dataDir;

    @Option(names = "--listen", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one)")
    int port;

    @Option(names = "--accel", defaultValue = "auto", description = "auto (probe KVM, else TCG), kvm or tcg (default: ${DEFAULT-VALUE})")
    String accel;

    @Option(names = "--print-login-url", description = "Print the GUI's URL with the admin's token (/?token=…; opening it once logs"
            + " the browser in and drops the token from the address bar), as scripts/run does")
    boolean printLoginUrl;

    @Option(names = "--boot-timeout", defaultValue = "120", description = "Seconds a boot may take until the guest agent answers (default: ${DEFAULT-VALUE})")
    int bootTimeout;

    @Option(names = "--memory-reserve", defaultValue = dev.vmctl.engine.MemoryBudget.DEFAULT_RESERVE, description = "Memory admission "
            + "control keeps back for the host: a size (1G), a share of MemTotal (5%%) or both, the larger applying (default: ${DEFAULT-VALUE})")
    String memoryReserve;

    @Option(names = "--no-sandbox", description = "Run QEMU as root without its seccomp filter (default: -sandbox on,… and the user vmctl-qemu)")
    boolean noSandbox;

    @Override
    public Integer call() throws Exception {
        VmSpec.Accel a = VmSpec.Accel.parse("accel", accel);
        Path dir = dataDir != null ? dataDir : DataDir.defaultRoot();
        if (host.matches("[^\\[\\]:]+:\\d+")) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--listen " + host + ": give the address only and the port with --port, e.g. --listen "
                            + host.substring(0, host.lastIndexOf(':')) + " --port " + host.substring(host.lastIndexOf(':') + 1));
        }
        if (!isLoopback(host)) {
            System.err.println("WARNING: listening on " + host + " without TLS: tokens and everything else cross the network in clear"
                    + " text; every host that can reach this address can try them; use --listen 127.0.0.1 unless this network is yours alone");
        }
        if (noSandbox) {
            System.err.println("WARNING: --no-sandbox: QEMU runs as root without a seccomp filter; a guest that escapes QEMU owns the host");
        }
        try {
            dev.vmctl.engine.MemoryBudget.Reserve.parse(memoryReserve);
        } catch (dev.vmctl.model.VmctlException e) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--memory-reserve: " + e.getMessage() + " (" + e.detail() + ")");
        }
        VmctlServer server = new VmctlServer(new VmctlServer.Options(dir, host, port, a, Duration.ofSeconds(bootTimeout)),
                new VmctlServer.HostPolicy(memoryReserve, !noSandbox, dev.vmctl.vmm.QemuConfinement.DEFAULT_USER)).start();
        System.out.println("vmctl server listening on http://" + host + ":" + server.port() + "  (data dir " + dir.toAbsolutePath() + ")");
        Path tokenFile = dir.toAbsolutePath().resolve("admin.token");
        System.out.println("admin token: " + tokenFile + " (the CLI reads it there; other users: vmctl user add NAME)");
        if (printLoginUrl) System.out.println("open the GUI: " + loginUrl(host, server.port(), java.nio.file.Files.readString(tokenFile).strip()));
        System.out.flush();
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            done.countDown();
        }));
        done.await();
        return 0;
    }

    /** The URL that logs a browser in: this server (a wildcard address as 127.0.0.1) with {@code ?token=}. */
    static String loginUrl(String host, int port, String token) {
        String h = host.equals("0.0.0.0") || host.isBlank() ? "127.0.0.1" : host.equals("::") ? "[::1]" : host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "http://" + h + ":" + port + "/?token=" + token;
    }

    static boolean isLoopback(String host) {
        return host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
    }
}
