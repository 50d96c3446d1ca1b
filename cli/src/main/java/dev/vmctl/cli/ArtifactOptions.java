package dev.vmctl.cli;

import dev.vmctl.model.ArtifactSpec;
import dev.vmctl.model.VmctlException;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --artifact key=value,…}: parsed and checked here (exit 2 on a bad one), local paths made absolute. */
final class ArtifactOptions {
    private ArtifactOptions() {}

    static final class Converter implements CommandLine.ITypeConverter<ArtifactSpec> {
        @Override
        public ArtifactSpec convert(String value) {
            try {
                // the form is checked here (exit 2); whether dest is needed is the verb's business
                return absolute(ArtifactSpec.parse(value).check("--artifact", false));
            } catch (VmctlException e) {
                throw new CommandLine.TypeConversionException(e.getMessage() + (e.detail() == null ? "" : " (" + e.detail() + ")"));
            }
        }
    }

    /**
     * The server reads {@code src} (and a {@code git} path) on its host: a relative one is made absolute here, against
     * the directory the CLI runs in.
     */
    static ArtifactSpec absolute(ArtifactSpec s) {
        if (s.src() != null && !s.src().isBlank() && !s.src().startsWith("/")) {
            s = s.withSrc(Path.of(s.src()).toAbsolutePath().normalize().toString());
        }
        if (s.git() != null && isLocalPath(s.git()) && !s.git().startsWith("/")) {
            s = new ArtifactSpec(null, null, null, Path.of(s.git()).toAbsolutePath().normalize().toString(), s.dest(), s.mode(),
                    s.owner(), s.sha256(), s.ref(), s.repo());
        }
        return s;
    }

    /** Not a URL ({@code scheme://…}) nor scp-like ({@code user@host:path}), and there on this host. */
    static boolean isLocalPath(String g) {
        if (g.contains("://") || g.matches("^[^/]+@[^/:]+:.*")) return false;
        return Files.exists(Path.of(g));
    }

    /** The JSON the API takes: only the keys given. */
    static Map<String, Object> json(ArtifactSpec s, String mavenRepo) {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "src", s.src());
        put(m, "url", s.url());
        put(m, "maven", s.maven());
        put(m, "git", s.git());
        put(m, "dest", s.dest());
        put(m, "mode", s.mode());
        put(m, "owner", s.owner());
        put(m, "sha256", s.sha256());
        put(m, "ref", s.ref());
        put(m, "repo", s.repo() != null ? s.repo() : s.maven() != null ? mavenRepo : null);
        return m;
    }

    private static void put(Map<String, Object> m, String k, String v) {
        if (v != null) m.put(k, v);
    }
}
