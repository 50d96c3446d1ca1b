package dev.vmctl.server;

import dev.vmctl.engine.AuditLog;
import dev.vmctl.engine.Store;
import dev.vmctl.engine.UserStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

/** DATA/admin.token at start: written once, kept while valid, issued anew when missing or stale; the cookie's attributes. */
class AuthBootstrapTest {
    @TempDir
    Path dir;

    @Test
    void theAdminTokenIsWrittenAtTheFirstStartKeptAfterAndReissuedWhenMissingOrStale() throws Exception {
        Path file = dir.resolve("admin.token");
        try (Store s = new Store(dir.resolve("vmctl.db"))) {
            Auth auth = new Auth(new UserStore(s), new AuditLog(s), dir);
            auth.bootstrap();
            String first = Files.readString(file).strip();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            assertThat(auth.users().authenticate(first).orElseThrow().role()).isEqualTo(UserStore.Role.ADMIN);

            auth.bootstrap(); // a restart keeps it
            assertThat(Files.readString(file).strip()).isEqualTo(first);

            Files.delete(file); // lost: a new one, the old one invalid
            auth.bootstrap();
            String second = Files.readString(file).strip();
            assertThat(second).isNotEqualTo(first);
            assertThat(auth.users().authenticate(first)).isEmpty();

            Files.writeString(file, "vmctl_edited\n"); // stale or edited: replaced
            auth.bootstrap();
            assertThat(auth.users().authenticate(Files.readString(file).strip())).isPresent();
            assertThat(auth.users().authenticate(second)).isEmpty();
            assertThat(auth.users().list()).extracting(UserStore.User::name).containsExactly("admin");
        }
    }

    @Test
    void theSessionCookieIsHttpOnlyStrictAndSecureOnlyOverTls() {
        assertThat(Auth.sessionCookie("vmctl_x", false)).isEqualTo("vmctl_session=vmctl_x; Path=/; HttpOnly; SameSite=Strict");
        assertThat(Auth.sessionCookie("vmctl_x", true)).endsWith("; Secure");
        assertThat(Auth.open("/")).isTrue();
        assertThat(Auth.open("/assets/index.js")).isTrue();
        assertThat(Auth.open("/login")).isTrue();
        assertThat(Auth.open("/api/v1/vms")).isFalse();
        assertThat(Auth.open("/metrics")).isFalse();
        assertThat(Auth.open("/run/x")).isFalse();
        assertThat(Auth.open("/loginx")).isFalse();
    }
}
