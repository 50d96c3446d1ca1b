package dev.vmctl.server;

/** The GUI's login page: paste a token; no script, no assets (it is served without a session). */
final class LoginPage {
    private LoginPage() {}

    static String html(String problem) {
        String p = problem == null ? "" : "<p class=\"problem\" data-testid=\"login-problem\">" + escape(problem) + "</p>";
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>vmctl: log in</title>
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <style>
                 body{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d2430}
                 input{width:100%%;font:14px monospace;padding:.5rem;box-sizing:border-box}
                 button{margin-top:.75rem;padding:.45rem 1.2rem;font-size:15px}
                 .problem{color:#b3261e} code{background:#eef1f5;padding:0 .25rem}
                </style></head>
                <body><h1>vmctl</h1>
                %s
                <form method="post" action="/login" data-testid="login-form">
                 <label for="token">API token</label>
                 <input id="token" name="token" type="password" autocomplete="off" placeholder="vmctl_…" autofocus required>
                 <button type="submit" data-testid="login-submit">Log in</button>
                </form>
                <p>The admin's token is in <code>DATA/admin.token</code> on the server (DATA: its <code>--data-dir</code>);
                <code>scripts/run</code> prints a link that logs in by itself. An admin issues tokens for others with
                <code>vmctl user add NAME</code>.</p>
                </body></html>
                """.formatted(p);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
