package dev.vmctl.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** segment create/ls/show/rm/vpn and up --segment against a fake server: the requests they send, what they print. */
class SegmentCommandsTest {
    static final String SA = """
            {"id":"0a1b2c3d","name":"sa","owner":"alice","subnet":"198.18.50.0/24","gateway":"198.18.50.1","router":true,\
            "netns":"vmctl-3fa2c1d0-s0a1b2c3d","bridge":"vb0a1b2c3d","ttlSeconds":600,"expiresAt":"2026-12-01T10:10:00Z",\
            "createdAt":"2026-12-01T10:00:00Z","networks":["sa"],"routers":[],"vms":["web"],"topologies":[],\
            "vpn":{"mechanism":"wireguard-go","endpoint":"192.0.2.1:51820","listenPort":51820,"publicKey":"SERVERKEY",\
            "tunnel":"198.19.255.0/24","peers":[{"publicKey":"PEERKEY","address":"198.19.255.2/32"}]}}""";
    static final String VPN = """
            {"segment":"sa","peer":"PEERKEY","clientAddress":"198.19.255.2/32","allowedIps":["198.18.50.0/24"],\
            "endpoint":"192.0.2.1:51820","serverPublicKey":"SERVERKEY","mechanism":"wireguard-go",\
            "config":"[Interface]\\nAddress = 198.19.255.2/32\\n"}""";

    private final FakeServer server;

    SegmentCommandsTest() {
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
    void createSendsWhatWasGivenAndTheOwnerOnlyWhenGiven() {
        // issue 15: the server makes the caller (the token's user) the owner; $USER is no longer sent
        server.json("POST", "/api/v1/segments", 201, SA);
        CliRun mine = CliRun.runWithEnv(Map.of("VMCTL_URL", server.url(), "USER", "root"), "", "segment", "create", "sa");
        assertThat(mine.code()).as(mine.err()).isZero();
        assertThat(server.requests().getFirst().json().toString()).isEqualTo("{\"name\":\"sa\"}");
        CliRun r = CliRun.runWithEnv(Map.of("VMCTL_URL", server.url(), "USER", "root"), "",
                "segment", "create", "sa", "--owner", "alice", "--subnet", "198.18.50.0/24", "--ttl", "10m", "--router");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(server.requests().getLast().json().toString())
                .isEqualTo("{\"name\":\"sa\",\"owner\":\"alice\",\"subnet\":\"198.18.50.0/24\",\"ttl\":\"10m\",\"router\":true}");
        assertThat(r.out()).contains("created segment sa: 198.18.50.0/24, gateway 198.18.50.1, namespace vmctl-3fa2c1d0-s0a1b2c3d");
    }

    @Test
    void listShowAndRemove() {
        server.json("GET", "/api/v1/segments", 200, "[" + SA + "]");
        server.json("GET", "/api/v1/segments/sa", 200, SA);
        server.json("DELETE", "/api/v1/segments/sa", 200, SA);
        CliRun ls = CliRun.run(server.url(), "segment", "ls");
        assertThat(ls.out()).contains("NAME").contains("sa").contains("alice").contains("198.18.50.1").contains("web");
        CliRun show = CliRun.run(server.url(), "segment", "show", "sa");
        assertThat(show.out()).contains("namespace:").contains("vmctl-3fa2c1d0-s0a1b2c3d").contains("wireguard-go on 192.0.2.1:51820")
                .contains("PEERKEY");
        CliRun json = CliRun.run(server.url(), "segment", "show", "sa", "-o", "json");
        assertThat(json.out()).contains("\"netns\": \"vmctl-3fa2c1d0-s0a1b2c3d\"");
        CliRun rm = CliRun.run(server.url(), "segment", "rm", "sa");
        assertThat(rm.out()).contains("removed segment sa with its VMs web");
    }

    @Test
    void vpnPrintsTheClientConfiguration() {
        server.json("POST", "/api/v1/segments/sa/vpn", 200, VPN);
        CliRun r = CliRun.run(server.url(), "segment", "vpn", "sa", "--peer", "PEERKEY");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(server.requests().getFirst().json().toString()).isEqualTo("{\"peer\":\"PEERKEY\"}");
        assertThat(r.out()).isEqualTo("[Interface]\nAddress = 198.19.255.2/32\n");
        assertThat(CliRun.run(server.url(), "segment", "vpn", "sa").code()).as("--peer is required").isEqualTo(2);
    }

    @Test
    void upTakesASegment() throws Exception {
        Path f = Files.createTempFile("topo", ".yaml");
        try {
            Files.writeString(f, "name: t\n");
            server.json("POST", "/api/v1/topologies", 200, """
                    {"topology":"t","dryRun":false,"ok":true,"summary":"done","steps":[],"durationMs":1,"parallelBoots":2,"rolledBack":false}""");
            CliRun r = CliRun.run(server.url(), "up", "-f", f.toString(), "--segment", "sa");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(server.requests("POST", "/api/v1/topologies").getFirst().query()).contains("segment=sa");
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
