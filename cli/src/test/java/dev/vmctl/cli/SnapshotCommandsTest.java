package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.vmctl.cli.Snapshots.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

/** snapshot create, ls, show, rm, export and import against a fake server. */
class SnapshotCommandsTest {
    private final FakeServer server;

    @TempDir
    Path dir;

    SnapshotCommandsTest() {
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

    private static JsonNode parse(String json) {
        try {
            return Json.parse(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String created(String name, String vm) {
        String s = snapshot(name, vm, 46_137_344, "file");
        return s.substring(0, s.length() - 1) + ",\"pausedMillis\":60,\"totalMillis\":412}";
    }

    // --- create --------------------------------------------------------------------------------------

    @Test
    void createSendsVmAndNameAndSummarises() {
        server.json("POST", "/api/v1/snapshots", 201, created("web1-warm", "web1"));
        CliRun r = CliRun.run(server.url(), "snapshot", "create", "web1", "--name", "web1-warm");
        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).isEqualTo("snapshot web1-warm of web1: 44.0 MiB, VM paused 60 ms (took 0.4 s)\n");
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.path()).isEqualTo("/api/v1/snapshots");
        assertThat(req.query()).isNull();
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        assertThat(req.body()).isEqualTo("{\"vm\":\"web1\",\"name\":\"web1-warm\"}");
    }

    @Test
    void createJsonPrintsTheServersAnswer() {
        server.json("POST", "/api/v1/snapshots", 201, created("web1-warm", "web1"));
        CliRun r = CliRun.run(server.url(), "snapshot", "create", "web1", "--name", "web1-warm", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(Json.pretty(parse(created("web1-warm", "web1"))) + "\n");
    }

    @Test
    void createNeedsAName() {
        CliRun r = CliRun.run(server.url(), "snapshot", "create", "web1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--name=NAME'");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void createOfAStoppedVmIsRefused() {
        server.json("POST", "/api/v1/snapshots", 409,
                "{\"error\":\"snapshot: vm web1 is STOPPED\",\"detail\":\"current state: STOPPED; snapshot is allowed in: [RUNNING]\"}");
        CliRun r = CliRun.run(server.url(), "snapshot", "create", "web1", "--name", "w");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("error: snapshot: vm web1 is STOPPED\n"
                + "  current state: STOPPED; snapshot is allowed in: [RUNNING]\n");
    }

    // --- ls / show -----------------------------------------------------------------------------------

    @Test
    void lsTable() {
        String stream = snapshot("db-cold", "db", 2_500_000_000L, "stream").replace("\"compressed\":false", "\"compressed\":true");
        server.json("GET", "/api/v1/snapshots", 200,
                "[" + snapshot("web1-warm", "web1", 46_137_344, "file", "web-1", "web-2") + "," + stream + "]");
        CliRun r = CliRun.run(server.url(), "snapshot", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME       VM    IMAGE  MEMORY  RAM          SIZE      CLONES  CREATED
                web1-warm  web1  tiny   128M    file         44.0 MiB  2       2026-11-28T10:00:00Z
                db-cold    db    tiny   128M    stream+zstd  2.3 GiB   0       2026-11-28T10:00:00Z
                """);
    }

    @Test
    void lsEmptyPrintsTheHeader() {
        server.json("GET", "/api/v1/snapshots", 200, "[]");
        CliRun r = CliRun.run(server.url(), "snapshot", "list");
        assertThat(r.out()).isEqualTo("NAME  VM  IMAGE  MEMORY  RAM  SIZE  CLONES  CREATED\n");
    }

    @Test
    void lsJsonEqualsTheServersJson() {
        String body = "[" + snapshot("a", "web1", 10, "file") + ", " + snapshot("b", "web1", 20, "stream", "c-1") + "]";
        server.json("GET", "/api/v1/snapshots", 200, body);
        CliRun r = CliRun.run(server.url(), "snapshot", "ls", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(Json.pretty(parse(body)) + "\n");
        assertThat(r.out()).contains("\"futureField\": {");
    }

    @Test
    void showTable() {
        server.json("GET", "/api/v1/snapshots/web1-warm", 200, snapshot("web1-warm", "web1", 46_137_344, "file", "web-1", "web-2"));
        CliRun r = CliRun.run(server.url(), "snapshot", "show", "web1-warm");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                name:     web1-warm
                vm:       web1
                image:    tiny
                cpus:     1
                memory:   128M
                accel:    tcg
                ram:      file
                size:     44.0 MiB
                created:  2026-11-28T10:00:00Z
                format:   1
                clones:   web-1,web-2
                nics:
                  INDEX  MAC
                  0      52:54:00:12:34:56
                files:
                  PATH        SIZE      SHA256
                  state       1.0 MiB   ab12
                  disk.qcow2  43.0 MiB  cd34
                """);
    }

    @Test
    void showJsonAndNameEncoding() {
        server.json("GET", "/api/v1/snapshots/a b", 200, snapshot("a b", "web1", 10, "file"));
        CliRun r = CliRun.run(server.url(), "snapshot", "show", "a b", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(snapshot("a b", "web1", 10, "file")));
    }

    @Test
    void showOfAnUnknownSnapshot() {
        server.json("GET", "/api/v1/snapshots/nope", 404, "{\"error\":\"snapshot not found: nope\"}");
        CliRun r = CliRun.run(server.url(), "snapshot", "show", "nope");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: snapshot not found: nope\n");
    }

    // --- rm ------------------------------------------------------------------------------------------

    @Test
    void rmDeletesAndSaysSo() {
        server.json("DELETE", "/api/v1/snapshots/web1-warm", 200, snapshot("web1-warm", "web1", 10, "file"));
        CliRun r = CliRun.run(server.url(), "snapshot", "rm", "web1-warm");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("removed snapshot web1-warm\n");
        assertThat(server.requests()).singleElement().satisfies(q -> {
            assertThat(q.method()).isEqualTo("DELETE");
            assertThat(q.query()).isNull();
        });
    }

    @Test
    void rmOfASnapshotWithClonesPrintsTheServersError() {
        server.json("DELETE", "/api/v1/snapshots/web1-warm", 409,
                "{\"error\":\"snapshot web1-warm is in use by 2 clone(s)\",\"detail\":\"remove the VMs web-1, web-2 first\"}");
        CliRun r = CliRun.run(server.url(), "snapshot", "rm", "web1-warm");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("error: snapshot web1-warm is in use by 2 clone(s)\n  remove the VMs web-1, web-2 first\n");
    }

    @Test
    void rmJson() {
        server.json("DELETE", "/api/v1/snapshots/a", 200, snapshot("a", "web1", 10, "file"));
        CliRun r = CliRun.run(server.url(), "snapshot", "remove", "a", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse(snapshot("a", "web1", 10, "file")));
    }

    // --- export --------------------------------------------------------------------------------------

    private static byte[] archive(int size) {
        byte[] b = new byte[size];
        new Random(42).nextBytes(b);
        return b;
    }

    /** Streams {@code data} chunked, as the server does (no Content-Length). */
    private void serveArchive(byte[] data) {
        server.on("GET", "/api/v1/snapshots/web1-warm/export", (req, ex) -> {
            ex.getResponseHeaders().set("Content-Type", "application/zstd");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream os = ex.getResponseBody()) {
                for (int off = 0; off < data.length; off += 100_000) {
                    os.write(data, off, Math.min(100_000, data.length - off));
                    os.flush();
                }
            }
        });
    }

    @Test
    void exportWritesTheArchive() throws IOException {
        byte[] data = archive(3_000_000);
        serveArchive(data);
        Path file = dir.resolve("web1-warm.tar.zst");
        CliRun r = CliRun.run(server.url(), "snapshot", "export", "web1-warm", "-o", file.toString());
        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).isEqualTo("exported snapshot web1-warm to " + file + ": 3000000 bytes (2.9 MiB)\n");
        assertThat(Files.readAllBytes(file)).isEqualTo(data);
        assertThat(dir.resolve("web1-warm.tar.zst.part")).doesNotExist();
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.method()).isEqualTo("GET");
        assertThat(req.header("Accept")).isEqualTo("application/zstd");
    }

    @Test
    void exportRefusesToOverwrite() throws IOException {
        serveArchive(archive(10));
        Path file = dir.resolve("x.tar.zst");
        Files.writeString(file, "keep me");
        CliRun r = CliRun.run(server.url(), "snapshot", "export", "web1-warm", "-o", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: " + file + " already exists\n  use --force to overwrite it\n");
        assertThat(Files.readString(file)).isEqualTo("keep me");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void exportForceOverwrites() throws IOException {
        byte[] data = archive(1000);
        serveArchive(data);
        Path file = dir.resolve("x.tar.zst");
        Files.writeString(file, "old");
        CliRun r = CliRun.run(server.url(), "snapshot", "export", "web1-warm", "--output", file.toString(), "--force");
        assertThat(r.code()).isZero();
        assertThat(Files.readAllBytes(file)).isEqualTo(data);
        assertThat(r.out()).endsWith(": 1000 bytes (1000 B)\n");
    }

    @Test
    void exportOfAnUnknownSnapshotLeavesNoFile() {
        server.json("GET", "/api/v1/snapshots/nope/export", 404, "{\"error\":\"snapshot not found: nope\"}");
        Path file = dir.resolve("nope.tar.zst");
        CliRun r = CliRun.run(server.url(), "snapshot", "export", "nope", "-o", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: snapshot not found: nope\n");
        assertThat(file).doesNotExist();
        assertThat(dir.resolve("nope.tar.zst.part")).doesNotExist();
    }

    @Test
    void exportThatBreaksOffLeavesNeitherFileNorPart() {
        server.on("GET", "/api/v1/snapshots/web1-warm/export", (req, ex) -> {
            ex.getResponseHeaders().set("Content-Type", "application/zstd");
            ex.sendResponseHeaders(200, 1_000_000);
            OutputStream os = ex.getResponseBody();
            os.write(archive(400_000));
            os.flush();
            ex.getHttpContext().getServer().stop(0);
        });
        Path file = dir.resolve("web1-warm.tar.zst");
        CliRun r = CliRun.run(server.url(), "snapshot", "export", "web1-warm", "-o", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: GET /api/v1/snapshots/web1-warm/export: the transfer broke off after ");
        assertThat(file).doesNotExist();
        assertThat(dir.resolve("web1-warm.tar.zst.part")).doesNotExist();
    }

    @Test
    void exportNeedsAFile() {
        CliRun r = CliRun.run(server.url(), "snapshot", "export", "web1-warm");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--output=FILE'");
    }

    // --- import --------------------------------------------------------------------------------------

    @Test
    void importSendsTheFilesBytes() throws IOException {
        byte[] data = archive(2_000_000);
        Path file = dir.resolve("web1-warm.tar.zst");
        Files.write(file, data);
        server.json("POST", "/api/v1/snapshots/import", 201, snapshot("web1-warm", "web1", 46_137_344, "file"));
        CliRun r = CliRun.run(server.url(), "snapshot", "import", file.toString());
        assertThat(r.code()).isZero();
        FakeServer.Request req = server.requests().getFirst();
        assertThat(req.query()).isNull();
        assertThat(req.header("Content-Type")).isEqualTo("application/zstd");
        assertThat(req.bytes()).isEqualTo(data);
        assertThat(r.out()).startsWith("imported snapshot web1-warm from " + file + "\nname:     web1-warm\n")
                .contains("size:     44.0 MiB\n");
    }

    @Test
    void importUnderAnotherName() throws IOException {
        Path file = dir.resolve("a.tar.zst");
        Files.write(file, archive(10));
        server.json("POST", "/api/v1/snapshots/import", 201, snapshot("web1 copy", "web1", 10, "file"));
        CliRun r = CliRun.run(server.url(), "snapshot", "import", file.toString(), "--name", "web1 copy", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(server.requests().getFirst().query()).isEqualTo("name=web1%20copy");
        assertThat(r.out()).isEqualTo(Json.pretty(parse(snapshot("web1 copy", "web1", 10, "file"))) + "\n");
    }

    @Test
    void importOfAMissingFileSendsNothing() {
        Path file = dir.resolve("missing.tar.zst");
        CliRun r = CliRun.run(server.url(), "snapshot", "import", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: cannot read " + file + ": no such file\n");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void importOfATamperedArchiveShowsTheServersError() throws IOException {
        Path file = dir.resolve("bad.tar.zst");
        Files.write(file, archive(100));
        server.json("POST", "/api/v1/snapshots/import", 400,
                "{\"error\":\"snapshot web1-warm is corrupt: state: SHA-256 mismatch\",\"detail\":\"the archive was changed after export\"}");
        CliRun r = CliRun.run(server.url(), "snapshot", "import", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: snapshot web1-warm is corrupt: state: SHA-256 mismatch\n"
                + "  the archive was changed after export\n");
    }

    // --- the command group ---------------------------------------------------------------------------

    @Test
    void snapshotAloneIsAUsageErrorListingTheVerbs() {
        CliRun r = CliRun.run(server.url(), "snapshot");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required subcommand", "create", "export", "import");
    }

    @Test
    void unreachableServerExits3() throws IOException {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = CliRun.run("http://127.0.0.1:" + port, "snapshot", "ls");
        assertThat(r.code()).isEqualTo(3);
    }
}
