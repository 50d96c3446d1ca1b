package dev.vmctl.server;

import dev.vmctl.engine.AuditLog;
import dev.vmctl.engine.Tokens;
import dev.vmctl.engine.UserStore;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * Tokens, always: every request but the GUI's shell, its assets and the login page carries a valid token, as
 * {@code Authorization: Bearer vmctl_…} or as the GUI's session cookie ({@value #COOKIE}, HttpOnly, SameSite=Strict,
 * set by opening {@code /?token=…} once or by the login page). Without one the answer is 401 in the API's error shape.
 * At the first start the admin's token is written to {@code DATA/admin.token} (0600); a start that finds the file
 * missing, or holding a token that is no longer the admin's, issues a new one there.
 * <p>Every state-changing request (anything but GET, HEAD, OPTIONS) is written to the {@link AuditLog} with its
 * user (null without a valid token), route and status.
 */
final class Auth {
    private static final Logger log = LoggerFactory.getLogger(Auth.class);
    static final String COOKIE = "vmctl_session";
    static final String TOKEN_FILE = "admin.token";
    private static final String USER = "vmctl.user";
    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS");

    private final UserStore users;
    private final AuditLog audit;
    private final Path tokenFile;

    Auth(UserStore users, AuditLog audit, Path dataDir) {
        this.users = users;
        this.audit = audit;
        this.tokenFile = dataDir.resolve(TOKEN_FILE);
    }

    UserStore users() { return users; }
    AuditLog audit() { return audit; }

    /** At start: the admin exists and {@code DATA/admin.token} holds its token. */
    void bootstrap() {
        if (users.get(UserStore.ADMIN).isEmpty()) {
            writeTokenFile(users.add(UserStore.ADMIN, UserStore.Role.ADMIN).token());
            log.info("created user {}; its token is in {}", UserStore.ADMIN, tokenFile);
            return;
        }
        String held = null;
        try {
            if (Files.isRegularFile(tokenFile)) held = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            held = null;
        }
        boolean valid = held != null && users.authenticate(held).map(u -> u.name().equals(UserStore.ADMIN)).orElse(false);
        if (!valid) {
            writeTokenFile(users.rotate(UserStore.ADMIN).token());
            log.info("{} was missing or stale: issued a new token for {} there", tokenFile, UserStore.ADMIN);
        }
    }

    /** Writes the admin's token, readable by the server's user only (0600), replacing the file at once. */
    void writeTokenFile(String token) {
        try {
            Path tmp = Files.createTempFile(tokenFile.getParent(), ".admin.token", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, tokenFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, tokenFile, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("write " + tokenFile + ": " + e.getMessage(), e);
        }
    }

    /** Paths that need no token: the GUI's shell (which sends a visitor without a session to the login page), its assets, login and logout. */
    static boolean open(String path) {
        return path.equals("/") || path.startsWith("/assets/") || path.equals("/login") || path.equals("/logout");
    }

    /** Before every route (after {@link RequestGuard}): the caller's user, or 401. */
    void check(Context ctx) {
        Optional<UserStore.User> user = caller(ctx);
        user.ifPresent(u -> ctx.attribute(USER, u));
        if (user.isPresent() || open(ctx.path())) return;
        ctx.header("WWW-Authenticate", "Bearer realm=\"vmctl\"");
        String given = ctx.header("Authorization");
        if (given != null) {
            throw new VmctlException(VmctlException.Kind.UNAUTHORIZED,
                    Tokens.fromAuthorization(given) == null ? "invalid Authorization header: expected Bearer vmctl_… (a vmctl token)"
                            : "invalid token: no user holds it (removed, or rotated since)", HOW);
        }
        if (ctx.cookie(COOKIE) != null) {
            throw new VmctlException(VmctlException.Kind.UNAUTHORIZED, "session expired: the token of this session is no longer valid",
                    "log in again at /login; " + HOW);
        }
        throw new VmctlException(VmctlException.Kind.UNAUTHORIZED, "missing token: this server answers only requests with an API token", HOW);
    }

    static final String HOW = "send Authorization: Bearer TOKEN. The admin's token is in DATA/admin.token (DATA: the server's"
            + " --data-dir; the CLI reads it there, or from VMCTL_TOKEN, or ~/.config/vmctl/token); an admin issues more with"
            + " 'vmctl user add NAME'. In a browser: open /?token=TOKEN once, or log in at /login";

    /** The user of the request's token (header first, then the session cookie), if it is valid. */
    Optional<UserStore.User> caller(Context ctx) {
        String header = ctx.header("Authorization");
        if (header != null) return users.authenticate(Tokens.fromAuthorization(header));
        String cookie = ctx.cookie(COOKIE);
        return cookie == null ? Optional.empty() : users.authenticate(cookie);
    }

    /** The authenticated user of a route past {@link #check} (never null there). */
    static UserStore.User user(Context ctx) {
        UserStore.User u = ctx.attribute(USER);
        if (u == null) throw new VmctlException(VmctlException.Kind.UNAUTHORIZED, "missing token", HOW);
        return u;
    }

    static void authenticated(Context ctx, UserStore.User u) {
        ctx.attribute(USER, u);
    }

    static void requireAdmin(Context ctx, String what) {
        UserStore.User u = user(ctx);
        if (!u.admin()) {
            throw new VmctlException(VmctlException.Kind.FORBIDDEN, what + ": only admins may do this",
                    "user " + u.name() + " has role " + u.role().json() + "; ask an admin");
        }
    }

    /** Whether the request was authenticated by the session cookie (not by an Authorization header). */
    static boolean bySession(Context ctx) {
        return ctx.header("Authorization") == null && ctx.cookie(COOKIE) != null;
    }

    /** Sets the GUI's session cookie: the token itself, out of reach of scripts (HttpOnly) and of other sites (SameSite=Strict). */
    static void setSession(Context ctx, String token) {
        ctx.header("Set-Cookie", sessionCookie(token, "https".equals(ctx.scheme())));
    }

    static String sessionCookie(String token, boolean secure) {
        return COOKIE + "=" + token + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
    }

    static void clearSession(Context ctx) {
        ctx.header("Set-Cookie", COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    }

    /**
     * {@code GET /}: with {@code ?token=} (the URL {@code scripts/run} prints) a valid token becomes the session cookie
     * and the browser is sent to {@code /}, so the token leaves the address bar and the history; a wrong one gets the
     * login page (401). Without a session, the login page. Returns whether the request was answered here.
     */
    boolean guiEntry(Context ctx) {
        String token = ctx.queryParam("token");
        if (token != null) {
            Optional<UserStore.User> u = users.authenticate(token.strip());
            if (u.isEmpty()) {
                ctx.status(401).contentType("text/html; charset=utf-8").result(LoginPage.html("That token is not valid (removed, or rotated since)."));
                return true;
            }
            setSession(ctx, token.strip());
            ctx.header("Cache-Control", "no-store");
            ctx.redirect("/", io.javalin.http.HttpStatus.FOUND);
            return true;
        }
        if (caller(ctx).isEmpty()) {
            ctx.redirect("/login", io.javalin.http.HttpStatus.FOUND);
            return true;
        }
        return false;
    }

    /** After every route: state-changing requests go to the audit log. */
    void audit(Context ctx) {
        if (SAFE.contains(ctx.method().name())) return;
        UserStore.User u = ctx.attribute(USER);
        String route = null;
        try {
            var e = ctx.endpoints().lastHttpEndpoint();
            if (e != null) route = e.path;
        } catch (RuntimeException none) {
            route = null;
        }
        try {
            audit.record(Instant.now(), u == null ? null : u.name(), ctx.method().name(), ctx.path(), route, ctx.status().getCode());
        } catch (RuntimeException e) {
            log.error("audit: {} {}: {}", ctx.method(), ctx.path(), e.toString());
        }
    }
}
