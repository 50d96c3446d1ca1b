package dev.vmctl.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class FileTreeTest {
    @TempDir
    Path tmp;

    @Test
    void sha256OfAKnownText() throws Exception {
        Path f = Files.writeString(tmp.resolve("abc"), "abc");
        assertThat(FileTree.sha256(f)).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void deleteRemovesATreeButNotWhatALinkPointsTo() throws Exception {
        Path outside = Files.writeString(tmp.resolve("keep"), "x");
        Path root = Files.createDirectories(tmp.resolve("a/b"));
        Files.writeString(root.resolve("f"), "y");
        Files.createSymbolicLink(tmp.resolve("a/link"), outside);
        FileTree.delete(tmp.resolve("a"));
        assertThat(tmp.resolve("a")).doesNotExist();
        assertThat(outside).exists();
        FileTree.delete(tmp.resolve("a")); // absent: nothing to do
    }
}
