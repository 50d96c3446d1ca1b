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

    @Option(names = "--image", paramLabel = "IMAGE|PATH", description = {"the image to boot, e.g. tiny (server default if omitted);"
            + " or a path: a rootfs file (ext4, raw, qcow2, a rootfs .tar) or a directory holding one and a kernel, imported on the"
            + " fly as image file-HASH (content-addressed: the same files are imported once)"})
    String image;

    @Option(names = "--kernel", paramLabel = "FILE", description = "with --image PATH: the kernel to boot it with (vmlinux or"
            + " bzImage; default: one in the directory, else vmctl's kernel for systemd guests)")
    java.nio.file.Path kernel;

    @Option(names = "--snapshot", paramLabel = "SNAPSHOT", description = "create the VM as a clone of this snapshot (the same as"
            + " 'vmctl vm clone SNAPSHOT --name NAME'): it gets the snapshot's shape and disk and its own identity; --nic net=NET"
            + " names the network its NICs join")
    String snapshot;

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
        if (snapshot != null) return fromSnapshot();
        if (kernel != null && !ImagePath.isPath(image)) throw CliException.usage("--kernel goes with --image PATH (a rootfs file or directory)");
        if (ImagePath.isPath(image)) {
            PrintWriter say = output.json() ? ctx.err() : ctx.out();
            image = ImagePath.ensureImported(ctx.api(), ImagePath.resolve(image, kernel), say);
        }
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

    /** {@code --snapshot}: a clone of the snapshot named NAME (POST /api/v1/snapshots/SNAPSHOT/clone, count 1). */
    private Integer fromSnapshot() {
        List<String> clash = new ArrayList<>();
        if (image != null) clash.add("--image");
        if (kernel != null) clash.add("--kernel");
        if (cpus != null) clash.add("--cpus");
        if (memory != null) clash.add("--memory");
        if (accel != null) clash.add("--accel");
        if (disk != null) clash.add("--disk");
        if (cold) clash.add("--cold");
        if (!artifacts.isEmpty()) clash.add("--artifact");
        if (!clash.isEmpty()) {
            throw CliException.usage("--snapshot takes the snapshot's image, shape and disk: it cannot go with " + String.join(", ", clash));
        }
        if (wait && !start) throw CliException.usage("--wait goes with --start");
        List<String> nets = nics.stream().map(NetOptions.NicSpec::network).distinct().toList();
        if (nets.size() > 1) throw CliException.usage("--snapshot: the clone's NICs join one network (--nic net=NET once), got " + nets);
        if (nics.stream().anyMatch(n -> n.ip() != null)) {
            throw CliException.usage("--snapshot: a clone's addresses come from the network (--nic net=NET without ip=)");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("count", 1);
        body.put("name", name);
        if (!nets.isEmpty()) body.put("network", nets.getFirst());
        body.put("start", start);
        long startNanos = System.nanoTime();
        JsonNode json = ctx.api().post("/api/v1/snapshots/" + ApiClient.seg(snapshot) + "/clone", body, VmCloneCommand.REQUEST_TIMEOUT);
        JsonNode vm = json.isArray() && !json.isEmpty() ? json.get(0) : json;
        PrintWriter progress = output.json() ? ctx.err() : ctx.out();
        if (start && wait) {
            vm = new VmWaiter(ctx.api(), progress, CliContext.POLL_INTERVAL).await(vm, VmWaiter.Goal.START, timeout, startNanos, "cloning");
            if (output.json()) OutputOption.printJson(ctx.out(), vm);
            return 0;
        }
        if (output.json()) {
            OutputOption.printJson(ctx.out(), vm);
        } else {
            VmView v = Json.as(vm, VmView.class);
            ctx.out().println("created vm " + v.name() + " (id " + v.id() + ") from snapshot " + snapshot + "  " + Render.state(v));
            ctx.out().flush();
        }
        return 0;
    }
}
