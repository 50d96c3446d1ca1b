package dev.vmctl.app.it;

import dev.vmctl.cli.VmctlCli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs `vmctl ...` in-process against a server, capturing stdout, stderr and the exit code. */
final class Cli {
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private final Map<String, String> env;

    /** The CLI as an admin on the server's host runs it: VMCTL_DATA_DIR names the data dir, so it reads DATA/admin.token. */
    Cli(String url, java.nio.file.Path dataDir) {
        this(Map.of("VMCTL_URL", url, "VMCTL_DATA_DIR", dataDir.toString(), "HOME", dataDir.resolve("no-home").toString()));
    }

    private Cli(Map<String, String> env) { this.env = Map.copyOf(env); }

    /** The same server with VMCTL_TOKEN set (another user's token). */
    Cli withToken(String token) {
        java.util.HashMap<String, String> e = new java.util.HashMap<>(env);
        e.put("VMCTL_TOKEN", token);
        return new Cli(e);
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = VmctlCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Result(code, out.toString(), err.toString());
    }
}
