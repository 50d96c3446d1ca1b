package dev.vmctl.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Runs vmctl in-process and captures what it printed and its exit code. */
record CliRun(int code, String out, String err) {
    static CliRun run(String url, String... args) {
        return runWithStdin(url, "", args);
    }

    static CliRun runWithStdin(String url, String stdin, String... args) {
        Map<String, String> env = new HashMap<>();
        if (url != null) env.put("VMCTL_URL", url);
        return runWithEnv(env, stdin, args);
    }

    static CliRun runWithEnv(Map<String, String> env, String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = VmctlCli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintWriter(out), new PrintWriter(err), env);
        return new CliRun(code, out.toString(), err.toString());
    }
}
