package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Artifacts end to end on real QEMU: all four sources (a local file and a directory, HTTP from a server of this
 * test on 127.0.0.1, Maven Central, a local git repository at a tag with a later commit) into one VM through the
 * CLI, checked in the guest (content, mode, owner) and in {@code vm artifacts}; a wrong checksum refused with
 * nothing created; a topology whose server VM gets its site as an artifact and starts busybox httpd with
 * {@code run:}, fetched by the other VM.
 */
@ExtendWith(Fixture.class)
class ArtifactsIT {
    static Path work;
    static HttpServer http;
    static String base;
    static final byte[] TOOL = "tool archive, served over HTTP\n".getBytes(StandardCharsets.UTF_8);
    static String tagged;

    @BeforeAll
    static void sources() throws Exception {
        work = Files.createTempDirectory("vmctl-artifacts-it-");
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/tool.tar.gz", ex -> {
            ex.sendResponseHeaders(200, TOOL.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(TOOL);
            }
        });
        http.start();
        base = "http://127.0.0.1:" + http.getAddress().getPort();
        // a local file, a directory
        Files.writeString(work.resolve("app"), "#!/bin/sh\necho app\n");
        Files.createDirectories(work.resolve("site/css"));
        Files.writeString(work.resolve("site/index.html"), "<h1>served by vmctl</h1>\n");
        Files.writeString(work.resolve("site/css/a.css"), "h1{}\n");
        // a git repository with a tag and a later commit
        Path repo = work.resolve("cfg");
        try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
            Files.writeString(repo.resolve("app.conf"), "version=1.2\n");
            git.add().addFilepattern(".").call();
            tagged = git.commit().setMessage("1.2").setAuthor("it", "it@example.invalid").setCommitter("it", "it@example.invalid").call().name();
            git.tag().setName("v1.2").call();
            Files.writeString(repo.resolve("app.conf"), "version=2.0\n");
            git.add().addFilepattern(".").call();
            git.commit().setMessage("later").setAuthor("it", "it@example.invalid").setCommitter("it", "it@example.invalid").call();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) http.stop(0);
        Fixture.deleteTree(work);
    }

    static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static String exec(Fixture f, String vm, String... argv) {
        Api.Response r = f.api.post("/api/v1/vms/" + vm + "/exec", Map.of("argv", List.of(argv)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("exitCode").asInt()).as(r.body()).isZero();
        return r.json().path("stdout").asText();
    }

    @Test
    void allFourSourcesIntoOneVm(Fixture f) throws Exception {
        String toolSha = sha(TOOL);
        Cli.Result r = f.cli.run("vm", "create", "art1", "--image", "tiny", "--start", "--wait",
                "--artifact", "src=" + work.resolve("app") + ",dest=/opt/app,mode=0755",
                "--artifact", "src=" + work.resolve("site") + ",dest=/srv/www,owner=1000:1000",
                "--artifact", "url=" + base + "/tool.tar.gz,sha256=" + toolSha + ",dest=/opt/tool.tar.gz",
                "--artifact", "maven=org.apache.commons:commons-lang3:3.17.0,dest=/opt/lib/",
                "--artifact", "git=" + work.resolve("cfg") + ",ref=v1.2,dest=/etc/app");
        try {
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(r.out()).contains("RUNNING");
            // contents, modes, owners in the guest
            assertThat(exec(f, "art1", "/opt/app")).isEqualTo("app\n");
            assertThat(exec(f, "art1", "stat", "-c", "%a %u", "/opt/app", "/opt/tool.tar.gz", "/srv/www", "/srv/www/css/a.css"))
                    .isEqualTo("755 0\n644 0\n755 1000\n644 1000\n");
            assertThat(exec(f, "art1", "cat", "/srv/www/index.html")).isEqualTo("<h1>served by vmctl</h1>\n");
            assertThat(exec(f, "art1", "sha256sum", "/opt/tool.tar.gz")).startsWith(toolSha);
            assertThat(exec(f, "art1", "cat", "/etc/app/app.conf")).isEqualTo("version=1.2\n");
            assertThat(exec(f, "art1", "ls", "-A", "/etc/app")).isEqualTo("app.conf\n");
            String jarSha = exec(f, "art1", "sha256sum", "/opt/lib/commons-lang3-3.17.0.jar").split(" ")[0];
            // nothing left behind by the deliveries: no temporary names, the share unmounted
            assertThat(exec(f, "art1", "sh", "-c", "ls -A /opt /srv /etc | grep vmctl-; grep -c 9p /proc/mounts; true"))
                    .isEqualTo("0\n");

            // what the VM holds, with digests
            r = f.cli.run("vm", "artifacts", "art1", "-o", "json");
            assertThat(r.code()).as(r.toString()).isZero();
            JsonNode a = Api.JSON.readTree(r.out());
            assertThat(a).hasSize(5);
            assertThat(a.get(0).path("path").asText()).isEqualTo("/opt/app");
            assertThat(a.get(0).path("mode").asText()).isEqualTo("0755");
            assertThat(a.get(0).path("sha256").asText()).isEqualTo(sha(Files.readAllBytes(work.resolve("app"))));
            assertThat(a.get(1).path("type").asText()).isEqualTo("directory");
            assertThat(a.get(1).path("via").asText()).isEqualTo("9p");
            assertThat(a.get(2).path("sha256").asText()).isEqualTo(toolSha);
            assertThat(a.get(2).path("via").asText()).isEqualTo("agent");
            assertThat(a.get(3).path("path").asText()).isEqualTo("/opt/lib/commons-lang3-3.17.0.jar");
            assertThat(a.get(3).path("sha256").asText()).isEqualTo(jarSha);
            assertThat(a.get(3).path("via").asText()).isEqualTo("9p");
            assertThat(a.get(4).path("commit").asText()).isEqualTo(tagged);
            for (JsonNode x : a) assertThat(x.path("deliveredAt").isNull()).as(x.toString()).isFalse();
            r = f.cli.run("vm", "artifacts", "art1");
            assertThat(r.out()).contains("/opt/lib/commons-lang3-3.17.0.jar").contains("maven=org.apache.commons:commons-lang3:3.17.0");

            // the cache holds each once; a fetch of a cached source is not fetched again
            r = f.cli.run("artifact", "ls", "-o", "json");
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(Api.JSON.readTree(r.out())).hasSize(5);
            r = f.cli.run("artifact", "fetch", "maven=org.apache.commons:commons-lang3:3.17.0");
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(r.out()).contains(jarSha);
            assertThat(f.api.get("/api/v1/artifacts").json()).hasSize(5);

            // a reboot starts from the image: the artifacts are delivered again
            r = f.cli.run("vm", "reboot", "art1");
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(exec(f, "art1", "cat", "/etc/app/app.conf")).isEqualTo("version=1.2\n");

            // vm cp of a file larger than the agent's share goes the bulk path, byte for byte
            byte[] blob = new byte[3 << 20];
            new java.util.Random(7).nextBytes(blob);
            Path local = work.resolve("blob.bin");
            Files.write(local, blob);
            r = f.cli.run("vm", "cp", local.toString(), "art1:/tmp/blob.bin");
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(exec(f, "art1", "sha256sum", "/tmp/blob.bin")).startsWith(sha(blob));
        } finally {
            f.destroyQuietly("art1");
        }
    }

    @Test
    void badArtifactsCreateNothing(Fixture f) throws Exception {
        Cli.Result r = f.cli.run("vm", "create", "art-bad", "--image", "tiny", "--start", "--wait",
                "--artifact", "url=" + base + "/tool.tar.gz,sha256=" + "0".repeat(64) + ",dest=/opt/tool.tar.gz");
        assertThat(r.code()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("artifacts[0]").contains("url=" + base + "/tool.tar.gz").contains("checksum mismatch");
        assertThat(f.api.get("/api/v1/vms/art-bad").status()).isEqualTo(404);

        for (String[] bad : List.of(
                new String[]{"git=" + work.resolve("cfg") + ",ref=v9,dest=/etc/app", "ref 'v9' not found"},
                new String[]{"src=" + work.resolve("nothing") + ",dest=/x", "no such file"},
                new String[]{"maven=org.apache.commons:commons-lang3:0.0.0-no-such,dest=/opt/", "not found in"},
                new String[]{"url=http://127.0.0.1:1/x,sha256=" + "1".repeat(64) + ",dest=/x", "unreachable"})) {
            Api.Response res = f.api.post("/api/v1/vms", Map.of("name", "art-bad", "image", "tiny", "start", true,
                    "artifacts", List.of(specOf(bad[0]))));
            assertThat(res.status()).as(res.body()).isEqualTo(400);
            assertThat(res.json().path("error").asText()).as(res.body()).contains(bad[1]);
            assertThat(f.api.get("/api/v1/vms/art-bad").status()).isEqualTo(404);
        }
        // the form is checked before anything is fetched: the field is named
        r = f.cli.run("vm", "create", "art-bad", "--artifact", "src=/etc/hostname,dest=relative");
        assertThat(r.code()).isEqualTo(2);
        Api.Response res = f.api.post("/api/v1/vms", Map.of("name", "art-bad", "image", "tiny",
                "artifacts", List.of(Map.of("src", "/etc/hostname", "dest", "/x", "mode", "999"))));
        assertThat(res.status()).isEqualTo(400);
        assertThat(res.json().path("error").asText()).contains("artifacts[0].mode");
    }

    static Map<String, String> specOf(String cli) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (String kv : cli.split(",")) {
            int i = kv.indexOf('=');
            m.put(kv.substring(0, i), kv.substring(i + 1));
        }
        return m;
    }

    @Test
    void topologyWithArtifactsAndRunServesAFileToAnotherVm(Fixture f) throws Exception {
        Path file = work.resolve("web.yaml");
        Files.writeString(file, """
                apiVersion: vmctl/v1
                kind: Topology
                name: artweb
                networks:
                  - {name: lan, subnet: 198.18.77.0/24}
                nodes:
                  - name: web
                    vms:
                      - name: srv
                        image: tiny
                        nics: [{network: lan, ip: 198.18.77.10}]
                        artifacts:
                          - {src: site, dest: /www/}
                        run: [httpd, -f, -p, "8080", -h, /www/site]
                        startBefore: [cli]
                      - name: cli
                        image: tiny
                        nics: [{network: lan, ip: 198.18.77.11}]
                """);
        try {
            Cli.Result r = f.cli.run("up", "-f", file.toString());
            assertThat(r.code()).as(r.toString()).isZero();
            // relative src: next to the topology file; httpd was started before the VM was RUNNING
            String page = exec(f, "artweb-web-cli", "wget", "-q", "-O", "-", "http://198.18.77.10:8080/index.html");
            assertThat(page).isEqualTo("<h1>served by vmctl</h1>\n");
            JsonNode a = f.api.get("/api/v1/vms/artweb-web-srv/artifacts").json();
            assertThat(a).hasSize(1);
            assertThat(a.get(0).path("path").asText()).isEqualTo("/www/site");
            assertThat(a.get(0).path("source").asText()).isEqualTo("src=" + work.resolve("site"));
        } finally {
            f.cli.run("down", "artweb");
        }
    }
}
