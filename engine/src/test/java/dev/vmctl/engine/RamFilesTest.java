package dev.vmctl.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RamFilesTest {
    @TempDir
    Path tmp;

    private RamFiles ram(long freeBytes) {
        return new RamFiles(tmp.resolve("shm/vmctl-0123abcd"), tmp.resolve("data/vms"), p -> freeBytes);
    }

    @Test
    void aNewBootGoesToTmpfsWhenTheVmsMemoryFits() throws Exception {
        RamFiles r = ram(256L << 20);
        Path p = r.placeFor("a1b2c3d4", 256);
        assertThat(p).isEqualTo(tmp.resolve("shm/vmctl-0123abcd/a1b2c3d4.ram"));
        assertThat(p.getParent()).isDirectory();
        Files.writeString(p, "guest ram");
        assertThat(r.locate("a1b2c3d4")).isEqualTo(p);
    }

    @Test
    void fallsBackToTheDataDiskWhenTmpfsHasLessFreeSpaceThanTheVmsMemory() {
        RamFiles r = ram((256L << 20) - 1);
        assertThat(r.placeFor("a1b2c3d4", 256)).isEqualTo(tmp.resolve("data/vms/a1b2c3d4/ram"));
        assertThat(r.locate("a1b2c3d4")).isEqualTo(tmp.resolve("data/vms/a1b2c3d4/ram"));
    }

    @Test
    void fallsBackToTheDataDiskWhenTmpfsCannotBeUsed() throws Exception {
        Files.createDirectories(tmp.resolve("shm"));
        Files.writeString(tmp.resolve("shm/vmctl-0123abcd"), "a file where the folder should be");
        assertThat(ram(1L << 40).placeFor("a1b2c3d4", 128)).isEqualTo(tmp.resolve("data/vms/a1b2c3d4/ram"));
    }

    @Test
    void aNewPlaceRemovesTheFileLeftAtTheOtherPlace() throws Exception {
        Path disk = tmp.resolve("data/vms/a1b2c3d4/ram");
        Files.createDirectories(disk.getParent());
        Files.writeString(disk, "old");
        Path shm = ram(1L << 30).placeFor("a1b2c3d4", 128);
        assertThat(disk).doesNotExist();
        Files.writeString(shm, "old");
        assertThat(ram(0).placeFor("a1b2c3d4", 128)).isEqualTo(disk);
        assertThat(shm).doesNotExist();
    }

    @Test
    void removeDeletesTheFileWhereverItIs() throws Exception {
        RamFiles r = ram(1L << 30);
        Path shm = r.placeFor("a1b2c3d4", 128);
        Files.writeString(shm, "ram");
        r.remove("a1b2c3d4");
        r.remove("a1b2c3d4"); // idempotent
        assertThat(shm).doesNotExist();
        assertThat(r.locate("a1b2c3d4")).isEqualTo(tmp.resolve("data/vms/a1b2c3d4/ram"));
    }

    @Test
    void reconcileRemovesFilesOfUnknownVmsAndKeepsKnownOnes() throws Exception {
        RamFiles r = ram(1L << 30);
        Path known = r.placeFor("aaaaaaaa", 64);
        Path orphan = r.placeFor("bbbbbbbb", 64);
        Path stray = r.shmDir().resolve("aaaaaaaa.ram.tmp");
        for (Path p : new Path[]{known, orphan, stray}) Files.writeString(p, "x");
        assertThat(r.reconcile(Set.of("aaaaaaaa", "cccccccc"))).containsExactlyInAnyOrder(orphan, stray);
        assertThat(known).exists();
        assertThat(r.shmDir()).isDirectory();
        assertThat(r.reconcile(Set.of())).containsExactly(known);
        assertThat(r.shmDir()).doesNotExist();
        assertThat(r.reconcile(Set.of())).isEmpty(); // no folder: nothing to do
    }

    @Test
    void theTmpfsFolderIsNamedAfterTheDataDirectory() {
        RamFiles r = RamFiles.of(Path.of("/var/lib/vmctl"), Path.of("/var/lib/vmctl/vms"));
        assertThat(r.shmDir()).isEqualTo(RamFiles.SHM.resolve(LinuxHostNet.fabricName(Path.of("/var/lib/vmctl"))));
        assertThat(r.onShm("a1b2c3d4").toString()).matches("/dev/shm/vmctl-[0-9a-f]{8}/a1b2c3d4\\.ram");
        assertThat(r.onDisk("a1b2c3d4")).isEqualTo(Path.of("/var/lib/vmctl/vms/a1b2c3d4/ram"));
    }

    @org.junit.jupiter.api.Test
    void theFolderGoesWhenItIsEmpty(@org.junit.jupiter.api.io.TempDir Path t) throws Exception {
        RamFiles r = new RamFiles(t.resolve("shm"), t.resolve("vms"), p -> Long.MAX_VALUE);
        Path f = r.placeFor("aaaaaaaaaaaa", 64);
        java.nio.file.Files.writeString(f, "ram");
        r.removeFolderIfEmpty();
        org.assertj.core.api.Assertions.assertThat(t.resolve("shm")).exists();
        r.remove("aaaaaaaaaaaa");
        r.removeFolderIfEmpty();
        org.assertj.core.api.Assertions.assertThat(t.resolve("shm")).doesNotExist();
        r.removeFolderIfEmpty(); // idempotent
    }
}
