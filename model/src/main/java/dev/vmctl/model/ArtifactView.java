package dev.vmctl.model;

import java.util.List;

/**
 * One entry of the host's artifact cache (GET /api/v1/artifacts): content addressed by {@code sha256} (of the file,
 * or of a directory's canonical listing), fetched once and reused. {@code type} is {@code file} or {@code directory};
 * {@code name} is the file name it keeps under a {@code dest} ending in '/'; {@code size} counts every byte (all files
 * of a directory); {@code files} is 1 for a file; {@code sources} are the sources that gave this content
 * ({@link ArtifactSpec#describe()}); {@code commit} is the git commit for a git source, else null.
 */
public record ArtifactView(String sha256, String type, String name, long size, int files, List<String> sources,
                           String commit, String fetchedAt) {
    public ArtifactView {
        sources = sources == null ? List.of() : List.copyOf(sources);
    }
}
