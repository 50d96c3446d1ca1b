package dev.vmctl.artifact;

import dev.vmctl.model.ArtifactSpec;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.errors.RevisionSyntaxException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.treewalk.TreeWalk;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A git repository (a URL JGit can fetch from, or a local path) at {@code ref} — a tag, a branch or a commit id,
 * HEAD when none is given — checked out without its {@code .git} into the cache as a directory; the commit is
 * recorded. Each source has a bare mirror under {@code DATA/artifacts/git/}, fetched again on every use (a branch
 * moves); a commit once checked out is not checked out again.
 */
final class GitSource {
    private final ArtifactCache cache;

    GitSource(ArtifactCache cache) {
        this.cache = cache;
    }

    ArtifactCache.Cached fetch(ArtifactSpec spec) {
        String url = spec.git();
        String ref = spec.ref() == null ? Constants.HEAD : spec.ref();
        String source = "git=" + url + "@" + ref;
        Path mirror = cache.gitDir().resolve(Digests.ofText(url).substring(0, 24) + ".git");
        synchronized (this) {
            try (Git git = open(spec, url, mirror)) {
                Repository repo = git.getRepository();
                ObjectId commitId = resolve(repo, ref);
                if (commitId == null) {
                    throw ArtifactFetcher.fail(spec, "ref '" + ref + "' not found" + known(repo), "a tag, branch or commit id of " + url);
                }
                String commit = commitId.name();
                String key = "git|" + url + "|" + commit;
                var known = cache.byKey(key);
                if (known.isPresent()) return cache.addSource(known.get(), source, key);
                Path staged = cache.staging(name(url));
                try {
                    checkout(repo, commitId, staged);
                    return cache.putTree(staged, name(url), source, key, commit);
                } catch (IOException e) {
                    ArtifactFetcher.deleteQuietly(staged);
                    throw ArtifactFetcher.fail(spec, "cannot check out " + commit + ": " + e.getMessage(), null);
                }
            }
        }
    }

    private static Git open(ArtifactSpec spec, String url, Path mirror) {
        try {
            if (Files.isDirectory(mirror.resolve("objects"))) {
                Git git = Git.open(mirror.toFile());
                try {
                    git.fetch().setRemote("origin").setRemoveDeletedRefs(true)
                            .setRefSpecs(new RefSpec("+refs/heads/*:refs/heads/*"), new RefSpec("+refs/tags/*:refs/tags/*"))
                            .setTagOpt(org.eclipse.jgit.transport.TagOpt.FETCH_TAGS).call();
                } catch (GitAPIException | RuntimeException e) {
                    git.close();
                    throw ArtifactFetcher.fail(spec, "unreachable: " + message(e), "a git URL or path that can be fetched");
                }
                return git;
            }
            ArtifactFetcher.deleteQuietly(mirror);
            return Git.cloneRepository().setURI(url).setDirectory(mirror.toFile()).setBare(true).setMirror(true).call();
        } catch (GitAPIException | RuntimeException e) {
            if (e instanceof dev.vmctl.model.VmctlException v) throw v;
            ArtifactFetcher.deleteQuietly(mirror);
            throw ArtifactFetcher.fail(spec, "cannot clone: " + message(e), "a git URL or path that can be cloned");
        } catch (IOException e) {
            throw ArtifactFetcher.fail(spec, "cannot open the mirror " + mirror + ": " + e.getMessage(), null);
        }
    }

    private static String message(Throwable e) {
        Throwable t = e;
        String m = e.getMessage();
        while (t.getCause() != null) {
            t = t.getCause();
            if (t.getMessage() != null) m = t.getMessage();
        }
        return m == null ? e.toString() : m;
    }

    private static ObjectId resolve(Repository repo, String ref) {
        try {
            for (String candidate : List.of(ref, "refs/tags/" + ref, "refs/heads/" + ref)) {
                ObjectId id = repo.resolve(candidate + "^{commit}");
                if (id != null) return id;
            }
            return null;
        } catch (RevisionSyntaxException | IOException e) {
            return null;
        }
    }

    private static String known(Repository repo) {
        try {
            List<Ref> tags = repo.getRefDatabase().getRefsByPrefix(Constants.R_TAGS);
            List<Ref> heads = repo.getRefDatabase().getRefsByPrefix(Constants.R_HEADS);
            String t = tags.stream().limit(10).map(r -> Repository.shortenRefName(r.getName())).collect(Collectors.joining(", "));
            String h = heads.stream().limit(10).map(r -> Repository.shortenRefName(r.getName())).collect(Collectors.joining(", "));
            return " (tags: " + (t.isEmpty() ? "none" : t) + "; branches: " + (h.isEmpty() ? "none" : h) + ")";
        } catch (IOException e) {
            return "";
        }
    }

    /** Writes the tree of {@code commitId} under {@code dir}: files (0755 when executable in git, else 0644) and symlinks. */
    static void checkout(Repository repo, ObjectId commitId, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (RevWalk rw = new RevWalk(repo); TreeWalk tw = new TreeWalk(repo)) {
            RevCommit c = rw.parseCommit(commitId);
            tw.addTree(c.getTree());
            tw.setRecursive(true);
            while (tw.next()) {
                FileMode m = tw.getFileMode(0);
                String path = tw.getPathString();
                if (path.startsWith("/") || List.of(path.split("/")).contains("..")) throw new IOException("unsafe path in tree: " + path);
                Path target = dir.resolve(path);
                Files.createDirectories(target.getParent());
                ObjectLoader ol = repo.open(tw.getObjectId(0));
                if (m == FileMode.SYMLINK) {
                    Files.createSymbolicLink(target, Path.of(new String(ol.getBytes(), StandardCharsets.UTF_8)));
                } else if (m == FileMode.REGULAR_FILE || m == FileMode.EXECUTABLE_FILE) {
                    try (OutputStream out = Files.newOutputStream(target)) {
                        ol.copyTo(out);
                    }
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(m == FileMode.EXECUTABLE_FILE ? "rwxr-xr-x" : "rw-r--r--"));
                }
                // submodules (gitlinks) are not followed
            }
        }
    }

    /** The repository's name: the last path segment without ".git". */
    static String name(String url) {
        String u = url.replaceAll("/+$", "");
        String last = u.substring(Math.max(u.lastIndexOf('/'), u.lastIndexOf(':')) + 1);
        if (last.endsWith(".git")) last = last.substring(0, last.length() - 4);
        return last.isBlank() ? "repo" : last;
    }
}
