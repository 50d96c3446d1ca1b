package dev.vmctl.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Properties;

/**
 * {@code vmctl}: the command line over the REST API. The app module adds {@code serve} to the
 * {@link CommandLine} this returns; everything else is a client of the server at {@code VMCTL_URL}.
 */
@Command(name = "vmctl",
        mixinStandardHelpOptions = true,
        versionProvider = VmctlCli.Version.class,
        synopsisSubcommandLabel = "COMMAND",
        description = "Boot and manage QEMU microVMs through a vmctl server.",
        subcommands = {DoctorCommand.class, ImageCommand.class, VmCommand.class, NetCommand.class,
                RouterCommand.class, SegmentCommand.class, LinkCommand.class, NicCommand.class, UpCommand.class, DownCommand.class,
                TopoCommand.class, NodeCommand.class, SnapshotCommand.class, ArtifactCommand.class, OpCommand.class, ScenarioCommand.class, HealCommand.class, TemplateCommand.class, InvokeCommand.class, EventsCommand.class, UserCommand.class, TokenCommand.class, AuditCommand.class, HelpCommand.class},
        footerHeading = "%nEnvironment:%n",
        footer = {
                "  VMCTL_URL       the server (default " + CliContext.DEFAULT_URL + ")",
                "  VMCTL_TOKEN     the API token (else DATA/admin.token when readable, else ~/.config/vmctl/token)",
                "  VMCTL_DATA_DIR  the server's data dir, where admin.token is (default: /var/lib/vmctl for root,",
                "                  else ~/.local/share/vmctl)",
                "  VMCTL_DEBUG     1 prints stack traces with errors"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success",
                "1:the server refused or failed the request, a wait ended in ERROR or timed out, or a step of"
                        + " up/down failed",
                "2:usage error",
                "3:the server cannot be reached",
                "124:vm exec: the command timed out",
                "*:vm exec: the guest command's exit code"})
public final class VmctlCli implements Runnable {
    @Spec
    private CommandSpec spec;

    private VmctlCli() {}

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** The configured command line, reading stdin from {@link System#in}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env) {
        return commandLine(System.in, out, err, env);
    }

    public static CommandLine commandLine(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return commandLine(new CliContext(in, out, err, env));
    }

    /** Parses and runs {@code args}; returns the exit code (see {@code vmctl --help}). */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return run(args, System.in, out, err, env);
    }

    public static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env) {
        try (CliContext ctx = new CliContext(in, out, err, env)) {
            return commandLine(ctx).execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    public static void main(String[] args) {
        CliContext.stdoutBytes = System.out;
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(run(args, out, err, System.getenv()));
    }

    private static CommandLine commandLine(CliContext ctx) {
        CommandLine cl = new CommandLine(new VmctlCli(), new Factory(ctx));
        cl.setOut(ctx.out());
        cl.setErr(ctx.err());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ctx, ex, parseResult));
        shareVersion(cl);
        // `vm exec NAME ls -l`: options exec does not know belong to the guest command
        cl.getSubcommands().get("vm").getSubcommands().get("exec").setUnmatchedOptionsArePositionalParams(true);
        return cl;
    }

    /** Every verb has -h/-V (mixinStandardHelpOptions); -V prints the same version everywhere. */
    private static void shareVersion(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().versionProvider(new Version());
            shareVersion(sub);
        }
    }

    /** The one place errors are printed: {@code error: <message>}, an indented detail, no stack trace. */
    private static int report(CliContext ctx, Exception ex, ParseResult parseResult) {
        PrintWriter err = ctx.err();
        ctx.out().flush();
        int code;
        if (ex instanceof CliException e) {
            err.println("error: " + e.getMessage());
            if (e.detail() != null && !e.detail().isBlank()) {
                // a detail of several lines (every problem of a topology file) stays indented under the error
                for (String line : e.detail().strip().split("\\R")) err.println(("  " + line).stripTrailing());
            }
            code = e.exitCode();
        } else {
            err.println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            code = CliException.FAILED;
        }
        if (ctx.debug()) ex.printStackTrace(err);
        err.flush();
        return code;
    }

    /** Verbs take the {@link CliContext} in their constructor; everything else is made as picocli would. */
    private record Factory(CliContext ctx) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            if (!cls.isInterface() && !Modifier.isAbstract(cls.getModifiers())) {
                try {
                    Constructor<K> c = cls.getDeclaredConstructor(CliContext.class);
                    c.setAccessible(true);
                    return c.newInstance(ctx);
                } catch (NoSuchMethodException noContext) {
                    // fall through
                }
                try {
                    Constructor<K> c = cls.getDeclaredConstructor();
                    c.setAccessible(true);
                    return c.newInstance();
                } catch (NoSuchMethodException noDefault) {
                    // fall through
                }
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = new Properties();
            try (InputStream in = VmctlCli.class.getResourceAsStream("version.properties")) {
                if (in != null) p.load(in);
            } catch (IOException ignored) {
                // fall back to "unknown"
            }
            return new String[]{"vmctl " + p.getProperty("version", "unknown"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "?") + ")"};
        }
    }
}
