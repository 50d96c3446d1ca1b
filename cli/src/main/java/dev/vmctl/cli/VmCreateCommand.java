package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true, description = "Create a VM; with --start boot it, with --start --wait until it runs.")
final class VmCreateCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "NAME", description = "lower-case letters, digits and '-'")
    String name;

    @Option(names = "--image", paramLabel = "IMAGE", description = "the image to boot, e.g. tiny (server default if omitted)")
    String image;

    @Option(names = "--cpus", paramLabel = "N", description = "virtual CPUs (server default: 1)")
    Integer cpus;

    @Option(names = "--memory", paramLabel = "SIZE", description = "guest memory, e.g. 128M, 1G (server default: 128M)")
    String memory;

    @Option(names = "--accel", paramLabel = "ACCEL", converter = AccelConverter.class,
            completionCandidates = AccelConverter.Candidates.class,
            description = "${COMPLETION-CANDIDATES} (server default: auto, chosen by the host probe)")
    VmSpec.Accel accel;

    @Option(names = "--nic", paramLabel = "net=NET[,ip=IP][,rate=RATE]", converter = NetOptions.NicConverter.class,
            description = "a NIC on network NET (repeatable: eth0, eth1, … in order); the IP comes from the"
                    + " network's subnet unless ip= gives one; rate= (e.g. 10mbit) is its default rate both ways")
    List<NetOptions.NicSpec> nics = new ArrayList<>();

    @Option(names = "--artifact", paramLabel = "SPEC", converter = ArtifactOptions.Converter.class,
            description = {"a file, directory, download, Maven artifact or git checkout put into the guest after every boot"
                    + " from the image, before RUNNING (repeatable): src=PATH | url=URL,sha256=HEX | maven=G:A[:EXT[:CLASSIFIER]]:V"
                    + " | git=URL|PATH[,ref=REF], then dest=/ABS/PATH (ending in '/': into that directory) [,mode=0755][,owner=U[:G]]"})
    List<dev.vmctl.model.ArtifactSpec> artifacts = new ArrayList<>();

    @Option(names = "--maven-repo", paramLabel = "URL", description = "the Maven repository for maven= artifacts (default: Maven Central)")
    String mavenRepo;

    @Option(names = "--disk", paramLabel = "SIZE", description = "size of the VM's own disk, e.g. 4G (images with a root disk:"
            + " debian-12, debian-13; default: the image's root file system size)")
    String disk;

    @Option(names = "--cpu-limit", paramLabel = "CORES", description = "the cores its QEMU may use, a fraction allowed (0.01..64, e.g. 0.5;"
            + " cgroups, see vmctl doctor)")
    Double cpuLimit;

    @Option(names = "--start", description = "boot the VM right away")
    boolean start;

    @Option(names = "--cold", description = "with --start: boot the image's kernel even when a boot snapshot of this shape"
            + " exists (otherwise the VM is restored from it: a warm boot)")
    boolean cold;

    @Option(names = "--wait", description = "with --start: wait until the VM is RUNNING, printing each state")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s", converter = Durations.Converter.class,
            description = "how long --wait waits (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Mixin
    OutputOption output;

    VmCreateCommand(CliContext ctx) { this.ctx = ctx; }

    /** Only what the user gave: the server owns the defaults. */
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        if (image != null) body.put("image", image);
        if (cpus != null) body.put("cpus", cpus);
        if (memory != null) body.put("memory", memory);
        if (accel != null) body.put("accel", accel.cli());
        if (!nics.isEmpty()) body.put("nics", nics.stream().map(NetOptions.NicSpec::json).toList());
        if (!artifacts.isEmpty()) body.put("artifacts", artifacts.stream().map(a -> ArtifactOptions.json(a, mavenRepo)).toList());
        if (start) body.put("start", true);
        if (cold) body.put("cold", true);
        if (disk != null) body.put("disk", disk);
        if (cpuLimit != null) body.put("cpuLimit", cpuLimit);
        return body;
    }

    @Override
    public Integer call() {
        long startNanos = System.nanoTime();
        // artifacts are fetched into the server's cache before it answers (a Maven download, a clone): give it time
        JsonNode json = ctx.api().post("/api/v1/vms", body(), artifacts.isEmpty() ? ApiClient.DEFAULT_TIMEOUT : Duration.ofMinutes(30));
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        if (start && wait) {
            json = new VmWaiter(ctx.api(), progress, CliContext.POLL_INTERVAL)
                    .await(json, VmWaiter.Goal.START, timeout, startNanos, "booting");
            if (output.json()) OutputOption.printJson(ctx.out(), json);
            return 0;
        }
        if (output.json()) {
            OutputOption.printJson(ctx.out(), json);
        } else {
            VmView vm = Json.as(json, VmView.class);
            ctx.out().println("created vm " + vm.name() + " (id " + vm.id() + ")  " + Render.state(vm));
            ctx.out().flush();
        }
        return 0;
    }
}
