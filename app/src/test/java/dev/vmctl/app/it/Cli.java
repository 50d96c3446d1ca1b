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

    private final String url;

    Cli(String url) { this.url = url; }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = VmctlCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), Map.of("VMCTL_URL", url));
        return new Result(code, out.toString(), err.toString());
    }
}
