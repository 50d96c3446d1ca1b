package dev.vmctl.app;

import dev.vmctl.cli.VmctlCli;
import picocli.CommandLine;

import java.io.PrintWriter;

/** One artefact for both sides: `vmctl serve` runs the server, every other verb is a REST client. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        CommandLine cli = VmctlCli.commandLine(out, err, System.getenv());
        cli.addSubcommand("serve", new ServeCommand());
        int code = cli.execute(args);
        out.flush();
        err.flush();
        if (args.length > 0 && args[0].equals("serve") && code == 0) return;
        System.exit(code);
    }
}
