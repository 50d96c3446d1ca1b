package dev.vmctl.server;

import dev.vmctl.engine.AuditLog;
import dev.vmctl.engine.UserStore;
import dev.vmctl.model.VmctlException;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpStatus;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * Users, tokens, the audit log and the GUI's login: {@code /api/v1/users} (admins only), {@code /api/v1/token}
 * (the caller's own), {@code /api/v1/audit} (admins: everyone's; users: their own), {@code /login}, {@code /logout}.
 */
final class AuthRoutes {
    /** A user as the API shows it (never its token's hash). */
    record UserView(String name, String role, String createdAt, String rotatedAt, Integer maxVms, Integer maxMemoryMiB) {
        static UserView of(UserStore.User u) {
            return new UserView(u.name(), u.role().json(), u.createdAt(), u.rotatedAt(), u.maxVms(), u.maxMemoryMiB());
        }
    }

    /** A user with the token just issued (shown once). */
    record IssuedToken(String name, String role, String createdAt, String rotatedAt, Integer maxVms, Integer maxMemoryMiB, String token) {
        static IssuedToken of(UserStore.Issued i) {
            UserStore.User u = i.user();
            return new IssuedToken(u.name(), u.role().json(), u.createdAt(), u.rotatedAt(), u.maxVms(), u.maxMemoryMiB(), i.token());
        }
    }

    /** One state-changing request: who (null: no valid token), when, what, with which status. */
    record AuditEntry(long id, String at, String user, String method, String path, String route, int status) {
        static AuditEntry of(AuditLog.Entry e) {
            return new AuditEntry(e.id(), e.at(), e.user(), e.method(), e.path(), e.route(), e.status());
        }
    }

    /** {@code POST /api/v1/users}. */
    record CreateUser(String name, String role, Integer maxVms, String maxMemory) {}

    private final Auth auth;

    AuthRoutes(Auth auth) {
        this.auth = auth;
    }

    void register(Http.Routes r) {
        r.add(HandlerType.GET, "/api/v1/users", ctx -> {
            Auth.requireAdmin(ctx, "list users");
            Api.json(ctx, 200, auth.users().list().stream().map(UserView::of).toList());
        });
        r.add(HandlerType.POST, "/api/v1/users", ctx -> {
            Auth.requireAdmin(ctx, "add user");
            CreateUser b = Api.body(ctx, CreateUser.class);
            if (b == null) throw VmctlException.invalid("body", "missing", "{\"name\": NAME, \"role\": \"admin\" | \"user\"}");
            UserStore.Role role = b.role() == null ? UserStore.Role.USER : UserStore.Role.parse("role", b.role());
            Integer maxMemory = null;
            if (b.maxMemory() != null) {
                long mib = dev.vmctl.model.Sizes.parseMiB(b.maxMemory());
                if (mib < 0 || mib > Integer.MAX_VALUE) {
                    throw VmctlException.invalid("maxMemory", "'" + b.maxMemory() + "' is not a size", "a size in MiB or GiB, e.g. \"512M\", \"4G\"");
                }
                maxMemory = (int) mib;
            }
            Api.json(ctx, 201, IssuedToken.of(auth.users().add(b.name(), role, new UserStore.Quota(b.maxVms(), maxMemory))));
        });
        r.add(HandlerType.DELETE, "/api/v1/users/{name}", ctx -> {
            Auth.requireAdmin(ctx, "remove user");
            Api.json(ctx, 200, UserView.of(auth.users().remove(ctx.pathParam("name"))));
        });
        r.add(HandlerType.GET, "/api/v1/token", ctx -> Api.json(ctx, 200, UserView.of(Auth.user(ctx))));
        r.add(HandlerType.POST, "/api/v1/token/rotate", ctx -> {
            UserStore.User me = Auth.user(ctx);
            UserStore.Issued issued = auth.users().rotate(me.name());
            if (me.name().equals(UserStore.ADMIN)) auth.writeTokenFile(issued.token()); // DATA/admin.token stays the admin's
            if (Auth.bySession(ctx)) Auth.setSession(ctx, issued.token()); // the GUI that asked stays logged in
            Api.json(ctx, 200, IssuedToken.of(issued));
        });
        r.add(HandlerType.GET, "/api/v1/audit", this::audit);
        r.add(HandlerType.GET, "/login", ctx -> ctx.contentType("text/html; charset=utf-8").header("Cache-Control", "no-store")
                .result(LoginPage.html(null)));
        r.add(HandlerType.POST, "/login", this::login);
        r.add(HandlerType.POST, "/logout", ctx -> {
            Auth.clearSession(ctx);
            ctx.redirect("/login", HttpStatus.SEE_OTHER);
        });
    }

    private void audit(Context ctx) {
        UserStore.User me = Auth.user(ctx);
        String user = ctx.queryParam("user");
        if (user != null && user.isBlank()) user = null;
        if (!me.admin()) {
            if (user != null && !user.equals(me.name())) {
                throw new VmctlException(VmctlException.Kind.FORBIDDEN, "audit of user " + user + ": users see their own entries only",
                        "user " + me.name() + " has role user; leave out ?user= or ask an admin");
            }
            user = me.name();
        }
        Instant since = null;
        String s = ctx.queryParam("since");
        if (s != null && !s.isBlank()) {
            try {
                since = Instant.parse(s.strip());
            } catch (DateTimeParseException e) {
                throw VmctlException.invalid("since", "'" + s + "' is not a time", "an ISO-8601 instant, e.g. 2026-12-01T10:00:00Z");
            }
        }
        int limit = Http.intParam(ctx, "limit", 100, 1, 10_000);
        List<AuditEntry> out = auth.audit().query(user, since, limit).stream().map(AuditEntry::of).toList();
        Api.json(ctx, 200, out);
    }

    /** {@code POST /login} (the login page's form, {@code token=…}): a valid token becomes the session cookie, 303 to the GUI. */
    private void login(Context ctx) {
        String token = null;
        String type = ctx.contentType();
        if (type != null && type.startsWith("application/x-www-form-urlencoded")) token = ctx.formParam("token");
        Optional<UserStore.User> u = token == null ? Optional.empty() : auth.users().authenticate(token.strip());
        if (u.isEmpty()) {
            ctx.status(401).contentType("text/html; charset=utf-8").result(LoginPage.html(token == null || token.isBlank()
                    ? "Paste a token." : "That token is not valid (removed, or rotated since)."));
            return;
        }
        Auth.authenticated(ctx, u.get());
        Auth.setSession(ctx, token.strip());
        ctx.redirect("/", HttpStatus.SEE_OTHER);
    }
}
