package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** console, events, image and doctor. */
class StreamsAndHostTest {
    private final FakeServer server;

    StreamsAndHostTest() {
        try {
            server = new FakeServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void consoleFollowCopiesOutputAsItArrives() throws Exception {
        StringWriter out = new StringWriter();
        AtomicBoolean firstChunkShownBeforeTheEnd = new AtomicBoolean();
        server.on("GET", "/api/v1/vms/web1/console", (req, ex) -> {
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(200, 0); // chunked
            OutputStream os = ex.getResponseBody();
            os.write("[    0.000000] Linux version 6.1\n".getBytes(StandardCharsets.UTF_8));
            os.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!out.toString().contains("Linux version") && System.nanoTime() < deadline) Thread.sleep(10);
            firstChunkShownBeforeTheEnd.set(out.toString().contains("Linux version"));
            os.write("vmctl-ready ✓\n".getBytes(StandardCharsets.UTF_8));
            os.close();
        });

        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> VmctlCli.run(
                new String[]{"vm", "console", "web1", "--follow", "--tail", "50"},
                new ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(new StringWriter()),
                Map.of("VMCTL_URL", server.url())));

        assertThat(code.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(firstChunkShownBeforeTheEnd).isTrue();
        assertThat(out.toString()).isEqualTo("[    0.000000] Linux version 6.1\nvmctl-ready ✓\n");
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.query()).isEqualTo("tail=50&follow=true");
        assertThat(req.header("Accept")).isEqualTo("text/plain");
    }

    @Test
    void consoleWithoutFollowPrintsTheTextVerbatim() {
        server.on("GET", "/api/v1/vms/web1/console",
                (req, ex) -> FakeServer.reply(ex, 200, "text/plain", "line 1\nline 2 without newline"));
        CliRun r = CliRun.run(server.url(), "vm", "console", "web1");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("line 1\nline 2 without newline");
        assertThat(server.requests().getFirst().query()).isNull();
    }

    @Test
    void consoleOfAnUnknownVm() {
        server.json("GET", "/api/v1/vms/nope/console", 404, "{\"error\":\"vm not found: nope\"}");
        CliRun r = CliRun.run(server.url(), "vm", "console", "nope", "-f");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: vm not found: nope\n");
    }

    @Test
    void eventsPrintsEachEventsData() {
        server.on("GET", "/api/v1/events", (req, ex) -> FakeServer.reply(ex, 200, "text/event-stream", """
                event: vm
                id: 1
                data: {"seq":1,"type":"state","name":"web1","state":"PREPARING"}

                : keep-alive

                data: {"seq":2,
                data: "state":"RUNNING"}

                """));
        CliRun r = CliRun.run(server.url(), "events");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                {"seq":1,"type":"state","name":"web1","state":"PREPARING"}
                {"seq":2,
                "state":"RUNNING"}
                """);
        assertThat(server.requests().getFirst().header("Accept")).isEqualTo("text/event-stream");
    }

    private static final String TINY = """
            {"name":"tiny","os":"busybox","kernelVersion":"6.1.0-28-cloud-amd64","kernel":"/data/images/tiny/vmlinux",
             "kernelSha256":"aa","initrd":"/data/images/tiny/initrd.cpio","initrdSha256":"bb","rootfs":null,
             "rootfsSha256":null,"sizeBytes":52428800,"builtAt":"2026-11-28T10:00:00.5Z","builder":"v2"}""";

    @Test
    void imageBuildSaysWhatItDoesThenSummarises() {
        server.json("POST", "/api/v1/images/tiny/build", 200, TINY);
        CliRun r = CliRun.run(server.url(), "image", "build", "tiny");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("building image tiny…\nbuilt image tiny in ")
                .contains("kernel:       6.1.0-28-cloud-amd64\n", "size:         50.0 MiB\n",
                        "initrd:       /data/images/tiny/initrd.cpio\n")
                .doesNotContain("rootfs:");
    }

    @Test
    void imageShowListsTheBootSnapshots() {
        server.json("GET", "/api/v1/images/tiny", 200, "{\"image\":" + TINY + ",\"bootSnapshots\":[{\"name\":\"tiny-0123456789abcdef\","
                + "\"image\":\"tiny\",\"vm\":\"web1\",\"cpus\":1,\"memoryMiB\":128,\"accel\":\"tcg\",\"nics\":1,\"sizeBytes\":161900000,"
                + "\"createdAt\":\"2026-11-28T10:01:00Z\",\"warmVms\":[\"web2\",\"web3\"]}]}");
        CliRun r = CliRun.run(server.url(), "image", "show", "tiny");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("name:           tiny\n", "kernel sha256:  aa\n", "boot snapshots:\n")
                .containsPattern("tiny-0123456789abcdef +1 +128M +1 +tcg +154\\.4 MiB +2026-11-28T10:01:00Z +web1 +web2,web3");

        server.json("GET", "/api/v1/images/tiny", 200, "{\"image\":" + TINY + ",\"bootSnapshots\":[]}");
        assertThat(CliRun.run(server.url(), "image", "show", "tiny").out()).contains("boot snapshots: none");
    }

    @Test
    void imageBuildFailure() {
        server.json("POST", "/api/v1/images/huge/build", 404,
                "{\"error\":\"image not found: huge\",\"detail\":\"known images: tiny, debian\"}");
        CliRun r = CliRun.run(server.url(), "image", "build", "huge");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("building image huge…\n");
        assertThat(r.err()).isEqualTo("error: image not found: huge\n  known images: tiny, debian\n");
    }

    @Test
    void imageLsTable() {
        server.json("GET", "/api/v1/images", 200, "[" + TINY + "]");
        CliRun r = CliRun.run(server.url(), "image", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME  OS       KERNEL                SIZE      BUILT
                tiny  busybox  6.1.0-28-cloud-amd64  50.0 MiB  2026-11-28T10:00:00Z
                """);
    }

    @Test
    void imageLsJson() throws IOException {
        server.json("GET", "/api/v1/images", 200, "[" + TINY + "]");
        CliRun r = CliRun.run(server.url(), "image", "ls", "-o", "json");
        assertThat(Json.parse(r.out())).isEqualTo(Json.parse("[" + TINY + "]"));
    }

    /** The shape the server sends today (the renderer does not depend on it). */
    private static final String HOST = """
            {"accel":{"mode":"auto","chosen":"tcg","reason":"/dev/kvm is paravirtual (kvm_pvm); stock guests hang",
                      "kvmDevice":true,"probedAt":"2026-11-28T10:00:00Z","probeMillis":1830},
             "qemu":"7.2.0",
             "hostKernel":"6.1.0-28-amd64",
             "cpus":2,
             "dataDir":"/var/lib/vmctl",
             "images":["tiny","debian"],
             "capabilities":{"netem":{"available":false,"detail":"tc qdisc add netem: Operation not supported"},
                             "bridge":{"available":true,"detail":"ip link add type bridge"},
                             "vhostNet":false},
             "vlanMechanism":"one bridge per VLAN id (no bridge VLAN filtering in this kernel)"}""";

    @Test
    void doctorPrintsTheHostReadably() {
        server.json("GET", "/api/v1/host", 200, HOST);
        CliRun r = CliRun.run(server.url(), "doctor");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                server:          %s
                accel:
                  mode:          auto
                  chosen:        tcg
                  reason:        /dev/kvm is paravirtual (kvm_pvm); stock guests hang
                  kvm device:    yes
                  probed at:     2026-11-28T10:00:00Z
                  probe millis:  1830
                qemu:            7.2.0
                host kernel:     6.1.0-28-amd64
                cpus:            2
                data dir:        /var/lib/vmctl
                images:          tiny, debian
                capabilities:
                  netem     no   tc qdisc add netem: Operation not supported
                  bridge    yes  ip link add type bridge
                  vhostNet  no
                vlan mechanism:  one bridge per VLAN id (no bridge VLAN filtering in this kernel)
                """.formatted(server.url()));
    }

    @Test
    void doctorJson() throws IOException {
        server.json("GET", "/api/v1/host", 200, HOST);
        CliRun r = CliRun.run(server.url(), "doctor", "-o", "json");
        assertThat(Json.parse(r.out())).isEqualTo(Json.parse(HOST));
    }
}
