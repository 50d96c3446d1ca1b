package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Boot snapshots ("warm" creates) on real QEMU: the first cold boot of a shape records one, later creates of that shape
 * restore it, each with its own identity (host name, machine-id, boot id, MAC, address, random bytes), side by side
 * with a cold VM on one network; a warm VM is a normal VM afterwards (snapshot and roll-back, reboot, stop and start);
 * {@code --cold} forces a cold boot; a topology deploys warm; an image build deletes the boot snapshots without breaking the warm VMs that
 * still run from them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WarmCreateIT {
    static Fixture f;

    @BeforeAll
    static void up() throws Exception {
        f = Fixture.create("vmctl-warm-");
        ok(f.cli.run("net", "create", "warmnet", "--subnet", "198.18.80.0/24"));
    }

    @AfterAll
    static void down() throws Exception {
        if (f != null) f.close();
    }

    static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }

    static String exec(String vm, String script) {
        Api.Response r = f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of("sh", "-c", script)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("exitCode").asInt()).as(vm + ": " + script + " → " + r.body()).isZero();
        return r.json().path("stdout").asText().trim();
    }

    static JsonNode vm(String name) {
        Api.Response r = f.api.get("/api/v1/vms/" + name);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    static JsonNode create(String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("vm", "create", name, "--image", "tiny", "--nic", "net=warmnet", "--start", "--wait"));
        args.addAll(List.of(extra));
        ok(f.cli.run(args.toArray(String[]::new)));
        JsonNode v = vm(name);
        assertThat(v.path("state").asText()).as(v.toString()).isEqualTo("RUNNING");
        return v;
    }

    /** The image's boot snapshots once {@code count} exist (they are committed in the background). */
    static JsonNode bootSnapshots(int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode b = f.api.get("/api/v1/images/tiny").json().path("bootSnapshots");
            if (b.size() == count) return b;
            assertThat(System.nanoTime() - deadline).as("boot snapshots: " + b).isNegative();
            Thread.sleep(100);
        }
    }

    static void pings(String from, String ip) {
        Api.Response p = f.api.post("/api/v1/vms/" + from + "/exec", Map.of("argv", List.of("ping", "-c", "2", "-W", "2", ip)));
        assertThat(p.json().path("exitCode").asInt()).as(from + " → " + ip + ": " + p.body()).isZero();
    }

    static String ip(String name) {
        return vm(name).path("nics").get(0).path("ip").asText();
    }

    @Test
    @Order(1)
    void theFirstColdBootRecordsABootSnapshotAndLaterCreatesRestoreIt() throws Exception {
        JsonNode cold = create("cold1");
        assertThat(cold.path("boot").asText()).isEqualTo("cold");
        JsonNode boots = bootSnapshots(1);
        JsonNode b = boots.get(0);
        assertThat(b.path("name").asText()).startsWith("tiny-");
        assertThat(b.path("vm").asText()).isEqualTo("cold1");
        assertThat(b.path("nics").asInt()).isEqualTo(1);
        assertThat(b.path("cpus").asInt()).isEqualTo(1);
        assertThat(b.path("memoryMiB").asInt()).isEqualTo(128);

        long t0 = System.nanoTime();
        JsonNode w1 = create("warm1");
        double warmSeconds = (System.nanoTime() - t0) / 1e9;
        JsonNode w2 = create("warm2");
        assertThat(w1.path("boot").asText()).isEqualTo("warm");
        assertThat(w2.path("boot").asText()).isEqualTo("warm");
        Cli.Result show = f.cli.run("vm", "show", "warm1", "-o", "json");
        ok(show);
        assertThat(show.out()).contains("\"boot\": \"warm\"");
        show = f.cli.run("vm", "show", "cold1");
        ok(show);
        assertThat(show.out()).containsPattern("boot:\\s+cold");
        assertThat(f.cli.run("vm", "console", "warm1", "--tail", "5").out()).contains("VMCTL_READY identity=");
        System.out.printf("warm create (CLI, incl. its JVM) %.2f s%n", warmSeconds);

        Cli.Result image = f.cli.run("image", "show", "tiny");
        ok(image);
        assertThat(image.out()).contains(b.path("name").asText()).contains("warm1,warm2");
        assertThat(bootSnapshots(1).get(0).path("warmVms").toString()).contains("warm1").contains("warm2");
        assertThat(f.api.get("/api/v1/snapshots").json()).as("boot snapshots are not user snapshots").isEmpty();
    }

    @Test
    @Order(2)
    void eachWarmVmHasItsOwnIdentityAndAllReachEachOther() {
        List<String> vms = List.of("cold1", "warm1", "warm2");
        Set<String> bootIds = new HashSet<>(), macs = new HashSet<>(), ips = new HashSet<>(), random = new HashSet<>(), machineIds = new HashSet<>();
        for (String n : vms) {
            JsonNode nic = vm(n).path("nics").get(0);
            assertThat(exec(n, "hostname")).isEqualTo(n);
            assertThat(exec(n, "cat /etc/hostname")).isEqualTo(n);
            assertThat(exec(n, "grep '^127.0.1.1' /etc/hosts")).isEqualTo("127.0.1.1\t" + n);
            assertThat(exec(n, "cat /sys/class/net/eth0/address")).isEqualTo(nic.path("mac").asText());
            assertThat(exec(n, "ip -4 addr show dev eth0")).contains(nic.path("ip").asText() + "/24");
            bootIds.add(exec(n, "cat /proc/sys/kernel/random/boot_id"));
            macs.add(nic.path("mac").asText());
            ips.add(nic.path("ip").asText());
            random.add(exec(n, "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'"));
            if (!n.startsWith("cold")) machineIds.add(exec(n, "cat /etc/machine-id"));
            // the clock was set from the host's
            long guest = Long.parseLong(exec(n, "date +%s"));
            assertThat(Math.abs(guest - Instant.now().getEpochSecond())).as(n + " clock").isLessThanOrEqualTo(3);
        }
        assertThat(bootIds).as("boot ids").hasSize(3);
        assertThat(macs).as("MACs").hasSize(3);
        assertThat(ips).as("addresses").hasSize(3);
        assertThat(random).as("bytes from /dev/urandom").hasSize(3);
        assertThat(machineIds).as("machine-ids of the warm VMs").hasSize(2).allMatch(m -> m.matches("[0-9a-f]{32}"));
        // the kernel they run was booted by cold1: its command line is the template's (README: what a warm VM shares)
        assertThat(exec("warm1", "cat /proc/cmdline")).contains("vmctl.hostname=cold1");
        for (String from : vms) {
            for (String to : vms) if (!from.equals(to)) pings(from, ip(to));
        }
    }

    @Test
    @Order(3)
    void aWarmVmCanBeSnapshottedAndRolledBack() {
        exec("warm1", "echo kept > /tmp/file");
        ok(f.cli.run("snapshot", "create", "warm1", "--name", "warm1-snap"));
        JsonNode snap = f.api.get("/api/v1/snapshots/warm1-snap").json();
        assertThat(snap.path("vm").asText()).isEqualTo("warm1");
        assertThat(snap.path("ramMode").asText()).as("a warm VM maps its RAM copy-on-write: it goes into the stream").isEqualTo("stream");
        exec("warm1", "rm /tmp/file");
        ok(f.cli.run("vm", "restore", "warm1", "--snapshot", "warm1-snap"));
        assertThat(exec("warm1", "cat /tmp/file")).isEqualTo("kept");
        assertThat(exec("warm1", "hostname")).isEqualTo("warm1");
        assertThat(vm("warm1").path("boot").asText()).isEqualTo("snapshot");
        pings("warm1", ip("cold1"));
        assertThat(f.api.delete("/api/v1/snapshots/warm1-snap").status()).isEqualTo(200);
    }

    @Test
    @Order(4)
    void aWarmVmReboots() {
        String ip = ip("warm2");
        String mac = vm("warm2").path("nics").get(0).path("mac").asText();
        ok(f.cli.run("vm", "reboot", "warm2"));
        JsonNode v = vm("warm2");
        assertThat(v.path("state").asText()).isEqualTo("RUNNING");
        assertThat(v.path("boot").asText()).as("the same QEMU process").isEqualTo("warm");
        assertThat(exec("warm2", "hostname")).isEqualTo("warm2");
        assertThat(exec("warm2", "cat /proc/cmdline")).as("a real boot of its own").contains("vmctl.hostname=warm2");
        assertThat(exec("warm2", "cat /sys/class/net/eth0/address")).isEqualTo(mac);
        assertThat(exec("warm2", "ip -4 addr show dev eth0")).contains(ip + "/24");
        pings("warm2", ip("cold1"));
        pings("cold1", ip);
    }

    @Test
    @Order(5)
    void aWarmVmStopsAndStartsColdFromTheImage() throws Exception {
        String id = vm("warm2").path("id").asText();
        ok(f.cli.run("vm", "stop", "warm2"));
        assertThat(f.dataDir.resolve("vms").resolve(id).resolve("boot-snapshot")).as("its links to the boot snapshot").doesNotExist();
        ok(f.cli.run("vm", "start", "warm2"));
        JsonNode v = vm("warm2");
        assertThat(v.path("state").asText()).isEqualTo("RUNNING");
        assertThat(v.path("boot").asText()).isEqualTo("cold");
        assertThat(exec("warm2", "hostname")).isEqualTo("warm2");
        assertThat(exec("warm2", "cat /proc/cmdline")).contains("vmctl.hostname=warm2");
        assertThat(exec("warm2", "ls /tmp")).as("fresh RAM from the image").isEmpty();
        pings("warm2", ip("warm1"));
        // warm1 was rolled back to a snapshot, warm2 booted the image: neither runs from the boot snapshot now
        assertThat(bootSnapshots(1).get(0).path("warmVms")).isEmpty();
    }

    @Test
    @Order(6)
    void coldForcesAColdBoot() {
        JsonNode v = create("cold2", "--cold");
        assertThat(v.path("boot").asText()).isEqualTo("cold");
        assertThat(exec("cold2", "cat /proc/cmdline")).contains("vmctl.hostname=cold2");
        Api.Response r = f.api.post("/api/v1/vms?wait=true", Map.of("name", "cold3", "image", "tiny", "start", true, "cold", true,
                "nics", List.of(Map.of("network", "warmnet"))));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("boot").asText()).isEqualTo("cold");
        assertThat(f.api.delete("/api/v1/vms/cold3?force=true").status()).isEqualTo(200);
    }

    /** A topology deploy creates its VMs through the same create: a shape with a boot snapshot deploys warm. */
    @Test
    @Order(7)
    void aTopologyDeploysWarm() {
        String topo = """
                apiVersion: vmctl/v1
                kind: Topology
                name: warmtopo
                networks:
                  - {name: lan, subnet: 198.18.82.0/24}
                nodes:
                  - name: n
                    vms:
                      - {name: a, image: tiny, nics: [lan]}
                      - {name: b, image: tiny, nics: [lan]}
                """;
        Api.Response up = f.api.send("POST", "/api/v1/topologies?file=warmtopo.yaml", topo, Duration.ofMinutes(5));
        assertThat(up.status()).as(up.body()).isEqualTo(200);
        assertThat(up.json().path("ok").asBoolean()).as(up.body()).isTrue();
        for (String n : List.of("warmtopo-n-a", "warmtopo-n-b")) {
            JsonNode v = vm(n);
            assertThat(v.path("state").asText()).isEqualTo("RUNNING");
            // the two may boot at once: the first records (cold) only when the shape has no boot snapshot, here it has one
            assertThat(v.path("boot").asText()).as(n).isEqualTo("warm");
            assertThat(exec(n, "hostname")).isEqualTo(n);
        }
        pings("warmtopo-n-a", ip("warmtopo-n-b"));
        assertThat(f.api.delete("/api/v1/topologies/warmtopo").status()).isEqualTo(200);
    }

    @Test
    @Order(8)
    void anImageBuildDeletesTheBootSnapshotsAndTheWarmVmsRunOn() throws Exception {
        String old = bootSnapshots(1).get(0).path("name").asText();
        f.buildImage();
        assertThat(f.api.get("/api/v1/images/tiny").json().path("bootSnapshots")).isEmpty();
        assertThat(Files.exists(f.dataDir.resolve("boot-snapshots").resolve(old))).isFalse();
        JsonNode c4 = create("cold4"); // the new build has no boot snapshot yet: cold, and it records one
        assertThat(c4.path("boot").asText()).isEqualTo("cold");
        String fresh = bootSnapshots(1).get(0).path("name").asText();
        assertThat(fresh).isNotEqualTo(old);
        JsonNode w4 = create("warm4");
        assertThat(w4.path("boot").asText()).isEqualTo("warm");
        Path w4links = f.dataDir.resolve("vms").resolve(w4.path("id").asText()).resolve("boot-snapshot");
        assertThat(w4links.resolve("ram")).exists();

        // warm4 runs from a boot snapshot that the next build deletes: it runs on (its folder links the files)
        f.buildImage();
        assertThat(f.api.get("/api/v1/images/tiny").json().path("bootSnapshots")).isEmpty();
        assertThat(w4links.resolve("ram")).as("warm4's link keeps the RAM file").exists();
        ok(f.cli.run("snapshot", "create", "warm4", "--name", "warm4-after"));
        assertThat(exec("warm4", "hostname")).isEqualTo("warm4");
        pings("warm4", ip("cold1"));
        assertThat(f.api.delete("/api/v1/snapshots/warm4-after").status()).isEqualTo(200);
        ok(f.cli.run("vm", "rm", "warm4", "--force"));
        assertThat(w4links).doesNotExist();
    }
}
