package dev.vmctl.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One artifact a VM is given, as the user wrote it (API, CLI {@code --artifact k=v,…}, topology file): exactly one
 * source — {@code src} (a local file or directory on the server's host), {@code url} (HTTP or HTTPS, with a required
 * {@code sha256}), {@code maven} ({@code group:artifact[:ext[:classifier]]:version}, from Maven Central or {@code repo})
 * or {@code git} (a URL or a local path, at {@code ref}, default HEAD) — and where it goes: {@code dest}, an absolute
 * guest path; one that ends in '/' is a directory the artifact goes into under its own file name. {@code mode}
 * (octal, e.g. 0755) and {@code owner} ({@code user[:group]}, names or numbers) are applied in the guest; without
 * them files are 0644 (directories keep their tree's modes) and owned by root. Paths are taken literally: they
 * reach the guest as arguments, never as shell text. {@link #problems()} checks the form; whether the source can be
 * fetched is the fetcher's business.
 */
public record ArtifactSpec(String src, String url, String maven, String git, String dest, String mode, String owner,
                           String sha256, String ref, String repo) {
    /** The four kinds of source, by the field that names them. */
    public enum Kind {
        SRC("src"), URL("url"), MAVEN("maven"), GIT("git");

        public final String field;

        Kind(String field) {
            this.field = field;
        }
    }

    public static final String FIELDS = "src, url, maven, git, dest, mode, owner, sha256, ref, repo";
    public static final String SOURCES = "exactly one of src (a local file or directory), url (http/https, with sha256),"
            + " maven (group:artifact[:ext[:classifier]]:version), git (a URL or path, with ref)";
    public static final String DEST = "an absolute guest path, e.g. /opt/app or /opt/lib/ (a directory: the artifact keeps its file name)";
    public static final String MODE = "an octal mode of 3 or 4 digits, e.g. 0755 or 644";
    public static final String OWNER = "user or user:group, as names (root, www-data) or numbers (1000:1000)";
    public static final String SHA256 = "64 hexadecimal digits (the SHA-256 of the file)";
    public static final String MAVEN = "group:artifact[:ext[:classifier]]:version, e.g. org.apache.commons:commons-lang3:3.17.0";

    private static final Pattern MODE_RE = Pattern.compile("[0-7]?[0-7]{3}");
    private static final Pattern OWNER_PART = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?|[0-9]{1,10}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Pattern COORD_PART = Pattern.compile("[A-Za-z0-9_.\\-\\[\\](),+]+");

    /** A problem with one field of the spec: field name (src, dest, …), what is wrong, what is allowed. */
    public record Problem(String field, String message, String allowed) {}

    /** The source field that is set (null when none or several are: {@link #problems()} says so). */
    public Kind kind() {
        Kind k = null;
        for (Kind c : Kind.values()) {
            if (value(c) != null) {
                if (k != null) return null;
                k = c;
            }
        }
        return k;
    }

    /** The value of a source field. */
    public String value(Kind k) {
        return switch (k) {
            case SRC -> src;
            case URL -> url;
            case MAVEN -> maven;
            case GIT -> git;
        };
    }

    /** "maven=org.x:y:1.0", "git=/srv/cfg.git@v1.2", … for messages and listings. */
    public String describe() {
        Kind k = kind();
        if (k == null) return "artifact " + (dest == null ? "?" : "for " + dest);
        return k.field + "=" + value(k) + (k == Kind.GIT && ref != null ? "@" + ref : "");
    }

    /** True when {@code dest} names a directory the artifact goes into (it ends in '/'). */
    public boolean destIsDirectory() {
        return dest != null && dest.endsWith("/");
    }

    /** The same spec with another source value (the CLI makes a relative {@code src} absolute). */
    public ArtifactSpec withSrc(String newSrc) {
        return new ArtifactSpec(newSrc, url, maven, git, dest, mode, owner, sha256, ref, repo);
    }

    public ArtifactSpec withRepo(String newRepo) {
        return new ArtifactSpec(src, url, maven, git, dest, mode, owner, sha256, ref, newRepo);
    }

    public ArtifactSpec withDest(String newDest) {
        return new ArtifactSpec(src, url, maven, git, newDest, mode, owner, sha256, ref, repo);
    }

    /**
     * Every problem with the form of the spec (none: it can be fetched and delivered as far as its form goes).
     * With {@code destRequired} false (a fetch into the cache only) {@code dest} may be missing.
     */
    public List<Problem> problems(boolean destRequired) {
        List<Problem> out = new ArrayList<>();
        int sources = 0;
        for (Kind k : Kind.values()) {
            String v = value(k);
            if (v == null) continue;
            sources++;
            if (v.isBlank()) out.add(new Problem(k.field, "empty", SOURCES));
        }
        if (sources == 0) out.add(new Problem("src", "no source: give one of src, url, maven, git", SOURCES));
        if (sources > 1) out.add(new Problem("src", "more than one source", SOURCES));
        Kind k = sources == 1 ? kind() : null;
        if (dest == null) {
            if (destRequired) out.add(new Problem("dest", "missing", DEST));
        } else if (!dest.startsWith("/")) {
            out.add(new Problem("dest", "'" + dest + "' is not an absolute path", DEST));
        } else if (dest.contains("\0") || dest.contains("\n")) {
            out.add(new Problem("dest", "contains a NUL or newline character", DEST));
        } else if (dest.equals("/") || dest.replaceAll("/+$", "").isEmpty()) {
            out.add(new Problem("dest", "'/' is the root directory", DEST));
        } else if (List.of(dest.split("/")).contains("..") || List.of(dest.split("/")).contains(".")) {
            out.add(new Problem("dest", "'" + dest + "' has a '.' or '..' component", DEST + ", without . or .. components"));
        }
        if (mode != null && !MODE_RE.matcher(mode).matches()) out.add(new Problem("mode", "'" + mode + "' is not an octal mode", MODE));
        if (owner != null && !validOwner(owner)) out.add(new Problem("owner", "'" + owner + "' is not an owner", OWNER));
        if (sha256 != null && !HEX64.matcher(sha256).matches()) out.add(new Problem("sha256", "'" + sha256 + "' is not a SHA-256", SHA256));
        if (k == Kind.URL) {
            String u = url.toLowerCase(java.util.Locale.ROOT);
            if (!u.startsWith("http://") && !u.startsWith("https://")) {
                out.add(new Problem("url", "'" + url + "' is not an http or https URL", "http://… or https://…"));
            }
            if (sha256 == null) out.add(new Problem("sha256", "missing: a url artifact needs the SHA-256 of its content", SHA256));
        }
        if (k == Kind.MAVEN && !maven.isBlank() && coordinateProblem(maven) != null) {
            out.add(new Problem("maven", coordinateProblem(maven), MAVEN));
        }
        if (k == Kind.GIT && sha256 != null) {
            out.add(new Problem("sha256", "a git artifact is identified by its commit", "no sha256 with git (give ref)"));
        }
        if (ref != null && k != null && k != Kind.GIT) out.add(new Problem("ref", "only a git artifact has a ref", "ref with git=…"));
        if (ref != null && (ref.isBlank() || ref.startsWith("-"))) out.add(new Problem("ref", "'" + ref + "' is not a ref", "a tag, branch or commit id"));
        if (repo != null) {
            String r = repo.toLowerCase(java.util.Locale.ROOT);
            if (k != null && k != Kind.MAVEN) out.add(new Problem("repo", "only a maven artifact has a repo", "repo with maven=…"));
            else if (!r.startsWith("http://") && !r.startsWith("https://") && !r.startsWith("file:")) {
                out.add(new Problem("repo", "'" + repo + "' is not a repository URL", "https://… (a Maven repository), or file:…"));
            }
        }
        return out;
    }

    /** Throws the first problem as an INVALID error naming {@code where.field} and the artifact. */
    public ArtifactSpec check(String where, boolean destRequired) {
        List<Problem> p = problems(destRequired);
        if (!p.isEmpty()) {
            Problem first = p.getFirst();
            throw VmctlException.invalid(where + "." + first.field(), describe() + ": " + first.message(), first.allowed());
        }
        return this;
    }

    private static boolean validOwner(String o) {
        String[] p = o.split(":", -1);
        if (p.length > 2) return false;
        for (String s : p) if (!OWNER_PART.matcher(s).matches()) return false;
        return true;
    }

    /** Null when {@code c} is a valid {@code group:artifact[:ext[:classifier]]:version}, else what is wrong. */
    public static String coordinateProblem(String c) {
        String[] p = c.split(":", -1);
        if (p.length < 3 || p.length > 5) return "'" + c + "' has " + p.length + " part(s); coordinates have 3 to 5";
        for (String s : p) {
            if (s.isEmpty()) return "'" + c + "' has an empty part";
            if (!COORD_PART.matcher(s).matches()) return "'" + c + "': '" + s + "' has characters coordinates do not allow";
        }
        return null;
    }

    /**
     * Parses the CLI form {@code key=value,key=value} (keys: {@value #FIELDS}). The value of {@code url} and
     * {@code git} may contain ',' only as "%2C". Unknown or repeated keys are INVALID errors.
     */
    public static ArtifactSpec parse(String text) {
        if (text == null || text.isBlank()) throw VmctlException.invalid("artifact", "empty", "key=value,… with " + FIELDS);
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) throw VmctlException.invalid("artifact", "'" + part + "' in '" + text + "' is not key=value", FIELDS);
            String key = part.substring(0, eq).strip();
            if (!List.of(FIELDS.split(", ")).contains(key)) {
                throw VmctlException.invalid("artifact", "unknown key '" + key + "' in '" + text + "'", FIELDS);
            }
            if (kv.put(key, part.substring(eq + 1)) != null) {
                throw VmctlException.invalid("artifact", "key '" + key + "' given twice in '" + text + "'", "each key once");
            }
        }
        return new ArtifactSpec(kv.get("src"), kv.get("url"), kv.get("maven"), kv.get("git"), kv.get("dest"), kv.get("mode"),
                kv.get("owner"), kv.get("sha256"), kv.get("ref"), kv.get("repo"));
    }
}
