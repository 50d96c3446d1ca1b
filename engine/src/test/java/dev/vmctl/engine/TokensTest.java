package dev.vmctl.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokensTest {
    @TempDir
    Path tmp;

    @Test
    void tokensHaveThePrefixAndAreNeverTheSame() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String t = Tokens.generate();
            assertThat(t).startsWith("vmctl_").hasSize(6 + 43);
            assertThat(Tokens.wellFormed(t)).isTrue();
            assertThat(seen.add(t)).isTrue();
        }
    }

    @Test
    void theHashIsSha256InHex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1
        assertThat(Tokens.hash("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void authorizationHeadersAreParsedStrictly() {
        String t = Tokens.generate();
        assertThat(Tokens.fromAuthorization("Bearer " + t)).isEqualTo(t);
        assertThat(Tokens.fromAuthorization("bearer   " + t + " ")).isEqualTo(t);
        assertThat(Tokens.fromAuthorization(null)).isNull();
        assertThat(Tokens.fromAuthorization(t)).isNull();
        assertThat(Tokens.fromAuthorization("Basic " + t)).isNull();
        assertThat(Tokens.fromAuthorization("Bearer " + t + "x")).isNull();
        assertThat(Tokens.fromAuthorization("Bearer vmctl_short")).isNull();
        assertThat(Tokens.fromAuthorization("Bearer " + t.replace('_', '+'))).isNull();
        assertThat(Tokens.wellFormed("other_" + t.substring(6))).isFalse();
    }

    @Test
    void usersKeepOnlyTheHashAndLoseAccessWhenRotatedOrRemoved() {
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            UserStore users = new UserStore(s);
            UserStore.Issued bob = users.add("bob", UserStore.Role.USER);
            assertThat(users.authenticate(bob.token()).orElseThrow().name()).isEqualTo("bob");
            String stored = s.read("hash", db -> {
                try (var rs = db.createStatement().executeQuery("SELECT token_hash FROM users WHERE name='bob'")) {
                    return rs.getString(1);
                }
            });
            assertThat(stored).isEqualTo(Tokens.hash(bob.token())).doesNotContain(bob.token().substring(6));
            assertThat(users.authenticate(Tokens.generate())).isEmpty();
            assertThat(users.authenticate("not a token")).isEmpty();
            assertThat(users.authenticate(null)).isEmpty();
            UserStore.Issued again = users.rotate("bob");
            assertThat(users.authenticate(bob.token())).isEmpty();
            assertThat(users.authenticate(again.token())).isPresent();
            assertThat(users.get("bob").orElseThrow().rotatedAt()).isNotNull();
            users.remove("bob");
            assertThat(users.authenticate(again.token())).isEmpty();
            assertThatThrownBy(() -> users.remove("bob")).hasMessageContaining("user not found: bob");
            assertThatThrownBy(() -> users.add("Bob!", UserStore.Role.USER)).hasMessageContaining("invalid name");
            assertThatThrownBy(() -> UserStore.Role.parse("role", "root")).hasMessageContaining("invalid role");
            users.add(UserStore.ADMIN, UserStore.Role.ADMIN);
            assertThatThrownBy(() -> users.add(UserStore.ADMIN, UserStore.Role.USER)).hasMessageContaining("already exists");
            assertThatThrownBy(() -> users.remove(UserStore.ADMIN)).hasMessageContaining("cannot be removed");
        }
    }

    @Test
    void theAuditLogFiltersByUserAndTimeNewestFirst() {
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            AuditLog log = new AuditLog(s);
            Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
            log.record(t0, "alice", "POST", "/api/v1/vms", "/api/v1/vms", 201);
            log.record(t0.plusSeconds(60), null, "DELETE", "/api/v1/vms/x", "/api/v1/vms/{id}", 401);
            log.record(t0.plusSeconds(120), "alice", "DELETE", "/api/v1/vms/a", "/api/v1/vms/{id}", 200);
            assertThat(log.query(null, null, 10)).extracting(AuditLog.Entry::path)
                    .containsExactly("/api/v1/vms/a", "/api/v1/vms/x", "/api/v1/vms");
            assertThat(log.query("alice", null, 10)).hasSize(2);
            assertThat(log.query(null, t0.plusSeconds(60), 10)).hasSize(2);
            assertThat(log.query(null, null, 1)).hasSize(1);
            assertThat(log.query(null, null, 10).get(1).user()).isNull();
            assertThat(log.query(null, null, 10).get(2).at()).isEqualTo("2026-12-01T10:00:00.000Z");
        }
        try (Store s = new Store(tmp.resolve("vmctl.db"))) {
            assertThat(new AuditLog(s).query(null, null, 10)).as("persisted").hasSize(3);
        }
    }
}
