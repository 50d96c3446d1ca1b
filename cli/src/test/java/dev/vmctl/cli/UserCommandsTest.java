package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Where the CLI finds its token, that it sends it, and user/token/audit against a fake server. */
class UserCommandsTest {
    static final String T1 = "vmctl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    static final String T2 = "vmctl_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    static final String T3 = "vmctl_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";

    @TempDir
    Path tmp;

    private final FakeServer server;

    UserCommandsTest() throws IOException {
        server = new FakeServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Map<String, String> env(String... more) {
        java.util.HashMap<String, String> e = new java.util.HashMap<>(Map.of("VMCTL_URL", server.url(),
                "HOME", tmp.resolve("home").toString(), "VMCTL_DATA_DIR", tmp.resolve("data").toString()));
        for (int i = 0; i < more.length; i += 2) e.put(more[i], more[i + 1]);
        return e;
    }

    @Test
    void theTokenComesFromTheEnvironmentElseAdminTokenElseTheConfigFile() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path config = Files.createDirectories(tmp.resolve("home/.config/vmctl"));
        assertThat(TokenSource.find(env()).token()).isNull();
        Files.writeString(config.resolve("token"), T3 + "\n");
        assertThat(TokenSource.find(env()).token()).isEqualTo(T3);
        Files.writeString(data.resolve("admin.token"), T2 + "\n");
        assertThat(TokenSource.find(env()).token()).isEqualTo(T2);
        assertThat(TokenSource.find(env()).file()).isEqualTo(data.resolve("admin.token"));
        assertThat(TokenSource.find(env("VMCTL_TOKEN", T1)).token()).isEqualTo(T1);
        // without VMCTL_DATA_DIR: the default data dir of vmctl serve
        Map<String, String> noData = env();
        noData.remove("VMCTL_DATA_DIR");
        boolean root = "root".equals(System.getProperty("user.name"));
        assertThat(TokenSource.dataDir(noData)).isEqualTo(root ? Path.of("/var/lib/vmctl") : tmp.resolve("home/.local/share/vmctl"));
    }

    @Test
    void everyRequestCarriesTheTokenAndA401SaysWhereTheCliLooked() {
        server.json("GET", "/api/v1/vms", 200, "[]");
        CliRun ok = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "vm", "ls");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(server.requests().getFirst().header("Authorization")).isEqualTo("Bearer " + T1);

        server.json("GET", "/api/v1/images", 401, "{\"error\":\"missing token: this server answers only requests with an API token\",\"detail\":\"x\"}");
        CliRun none = CliRun.runWithEnv(env(), "", "image", "ls");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("error: missing token").contains("VMCTL_TOKEN (unset)")
                .contains(tmp.resolve("data/admin.token") + " (absent)").contains(".config/vmctl/token");
        assertThat(server.requests("GET", "/api/v1/images").getFirst().header("Authorization")).isNull();
    }

    @Test
    void userAddPrintsTheTokenOnlyOnStdoutLsAndRm() {
        server.json("POST", "/api/v1/users", 201,
                "{\"name\":\"alice\",\"role\":\"user\",\"createdAt\":\"2026-12-01T10:00:00Z\",\"rotatedAt\":null,\"token\":\"" + T2 + "\"}");
        server.json("GET", "/api/v1/users", 200, "[{\"name\":\"admin\",\"role\":\"admin\",\"createdAt\":\"2026-12-01T09:00:00Z\",\"rotatedAt\":null},"
                + "{\"name\":\"alice\",\"role\":\"user\",\"createdAt\":\"2026-12-01T10:00:00Z\",\"rotatedAt\":null,\"maxVms\":3,\"maxMemoryMiB\":1024}]");
        server.json("DELETE", "/api/v1/users/alice", 200, "{\"name\":\"alice\",\"role\":\"user\",\"createdAt\":\"2026-12-01T10:00:00Z\",\"rotatedAt\":null}");
        CliRun add = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "user", "add", "alice", "--role", "user", "--max-vms", "3", "--max-memory", "1G");
        assertThat(add.code()).as(add.err()).isZero();
        assertThat(add.out()).isEqualTo(T2 + "\n");
        assertThat(add.err()).contains("added user alice (role user)");
        assertThat(server.requests("POST", "/api/v1/users").getFirst().json().toString()).isEqualTo("{\"name\":\"alice\",\"role\":\"user\",\"maxVms\":3,\"maxMemory\":\"1G\"}");
        CliRun bad = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "user", "add", "x", "--role", "root");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--role").contains("admin, user");
        CliRun ls = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "user", "ls");
        assertThat(ls.out()).contains("NAME").contains("ROLE").contains("MAX VMS").contains("1G").contains("alice").contains("admin").doesNotContain("vmctl_");
        CliRun rm = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "user", "rm", "alice");
        assertThat(rm.out()).contains("removed user alice");
    }

    @Test
    void rotateRewritesTheConfigFileItCameFrom() throws IOException {
        Path config = Files.createDirectories(tmp.resolve("home/.config/vmctl")).resolve("token");
        Files.writeString(config, T1 + "\n");
        server.json("POST", "/api/v1/token/rotate", 200,
                "{\"name\":\"alice\",\"role\":\"user\",\"createdAt\":\"2026-12-01T10:00:00Z\",\"rotatedAt\":\"2026-12-01T11:00:00Z\",\"token\":\"" + T2 + "\"}");
        CliRun r = CliRun.runWithEnv(env(), "", "token", "rotate");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(T2 + "\n");
        assertThat(server.requests().getFirst().header("Authorization")).isEqualTo("Bearer " + T1);
        assertThat(Files.readString(config).strip()).isEqualTo(T2);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
        assertThat(r.err()).contains("now holds it");
    }

    @Test
    void auditSendsTheFiltersAndPrintsATable() {
        server.json("GET", "/api/v1/audit", 200, "[{\"id\":2,\"at\":\"2026-12-01T10:00:01.000Z\",\"user\":\"alice\",\"method\":\"POST\","
                + "\"path\":\"/api/v1/vms\",\"route\":\"/api/v1/vms\",\"status\":201},{\"id\":1,\"at\":\"2026-12-01T10:00:00.000Z\",\"user\":null,"
                + "\"method\":\"DELETE\",\"path\":\"/api/v1/vms/x\",\"route\":\"/api/v1/vms/{id}\",\"status\":401}]");
        CliRun r = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "audit", "--user", "alice", "--since", "2026-12-01T09:00:00Z", "--limit", "5");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(server.requests().getFirst().query()).isEqualTo("user=alice&since=2026-12-01T09%3A00%3A00Z&limit=5");
        assertThat(r.out()).contains("TIME").contains("USER").contains("STATUS").contains("alice").contains("201").contains("(no token)");
        CliRun json = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "audit", "-o", "json");
        assertThat(json.out()).contains("\"route\": \"/api/v1/vms/{id}\"");
        CliRun recent = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "audit", "--since", "1h");
        assertThat(recent.code()).isZero();
        assertThat(server.requests().getLast().query()).matches("since=\\d{4}-.*Z&limit=100");
        CliRun bad = CliRun.runWithEnv(env("VMCTL_TOKEN", T1), "", "audit", "--since", "yesterday");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--since yesterday");
    }
}
