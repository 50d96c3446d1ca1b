package dev.vmctl.engine;

import dev.vmctl.host.Cmd;
import dev.vmctl.host.CmdResult;
import dev.vmctl.host.FileTree;
import dev.vmctl.model.ExecResult;
import dev.vmctl.model.VmctlException;
import dev.vmctl.vmm.GuestAgentClient;
import dev.vmctl.vmm.GuestScripts;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Puts host files and directories into a running guest, at literal absolute paths (arguments of one fixed
 * script, {@link GuestScripts#DELIVER}, never shell text), each under a temporary name first, then renamed, with
 * mode and owner applied. Two ways in: small files ({@link #AGENT_MAX_BYTES} or less) through the guest agent's
 * file calls (base64 over virtio-serial, ~3 round trips), everything else through the VM's read-only 9p share
 * (hard links of the cache's files in {@code DATA/vms/ID/xfer/TOKEN/}, the guest mounts the share, copies, unmounts;
 * bench/artifacts: 200 MB at 130-275 MB/s under TCG, the agent's base64 ~0.7 MB/s). A guest without 9p (a kernel without it) gets
 * everything through the agent, directories as a tar.
 */
final class GuestDelivery {
    /**
     * Files up to this size go through the agent (bench/artifacts: 4 KiB 26 ms by the agent against 117 ms by 9p, 64 KiB
     * 80 against 114 ms, 256 KiB 377 against 182 ms: the mount and unmount cost ~100 ms, base64 ~1.3 ms per KiB).
     */
    static final long AGENT_MAX_BYTES = Long.getLong("vmctl.artifacts.agentMaxBytes", 128 * 1024);
    static final String VIA_AGENT = "agent";
    static final String VIA_9P = "9p";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One thing to deliver: a host file or directory, to {@code dest} (final path, absolute), mode/owner or null. */
    record Item(Path host, boolean directory, String dest, String mode, String owner, String label) {}

    private GuestDelivery() {}

    /**
     * Delivers every item (in order) and answers how each went ({@link #VIA_AGENT} or {@link #VIA_9P}).
     *
     * @param shareDir the VM's share folder, or null when it has no share (then all goes through the agent)
     * @throws VmctlException naming the item and the guest's message when one cannot be put in place
     */
    static List<String> deliver(GuestAgentClient agent, Path shareDir, List<Item> items, Duration timeout) {
        if (items.isEmpty()) return List.of();
        boolean share = shareDir != null && Files.isDirectory(shareDir);
        try {
            return attempt(agent, share ? shareDir : null, items, timeout);
        } catch (NoShare e) {
            return attempt(agent, null, items, timeout);
        }
    }

    /** The share could not be mounted in the guest (exit 10): try again through the agent. */
    private static final class NoShare extends RuntimeException {
        NoShare() {
            super("9p share not mountable", null, false, false);
        }
    }

    private static List<String> attempt(GuestAgentClient agent, Path shareDir, List<Item> items, Duration timeout) {
        String token = token();
        Path stage = shareDir == null ? null : shareDir.resolve(token);
        List<String> via = new ArrayList<>();
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", GuestScripts.DELIVER, "vmctl-deliver"));
        argv.add(shareDir == null ? "-" : "/run/vmctl-xfer-" + token);
        boolean usesShare = false;
        List<String> staged = new ArrayList<>(); // guest paths the agent wrote (removed by the script, or below on failure)
        try {
            for (int i = 0; i < items.size(); i++) {
                Item it = items.get(i);
                long size = it.directory() ? Long.MAX_VALUE : Files.size(it.host());
                boolean viaShare = stage != null && (it.directory() || size > AGENT_MAX_BYTES);
                String src;
                String kind;
                if (viaShare) {
                    Files.createDirectories(stage);
                    Path link = stage.resolve(String.valueOf(i));
                    linkTree(it.host(), link);
                    src = token + "/" + i;
                    kind = it.directory() ? "dir" : "file";
                    usesShare = true;
                } else {
                    String guestTmp = "/tmp/.vmctl-xfer-" + token + "-" + i;
                    byte[] data;
                    if (it.directory()) {
                        data = tarOf(it.host());
                        kind = "tar";
                    } else {
                        data = Files.readAllBytes(it.host());
                        kind = "file";
                    }
                    agent.writeFile(guestTmp, data);
                    staged.add(guestTmp);
                    src = guestTmp;
                }
                via.add(viaShare ? VIA_9P : VIA_AGENT);
                argv.addAll(List.of(kind, src, it.dest(), it.mode() == null ? "-" : it.mode(), it.owner() == null ? "-" : it.owner()));
            }
            if (!usesShare) argv.set(4, "-");
            ExecResult r = agent.exec(argv, null, timeout);
            if (r.exitCode() == 10 && usesShare) throw new NoShare();
            if (r.exitCode() != 0) {
                String msg = (r.stderr() + r.stdout()).strip();
                Item failed = failedItem(items, msg);
                throw new VmctlException(VmctlException.Kind.INTERNAL, "deliver " + (failed == null ? "artifacts" : failed.label()
                        + " to " + failed.dest()) + ": " + (r.timedOut() ? "timed out" : "exit " + r.exitCode() + (msg.isEmpty() ? "" : ": " + msg)), null);
            }
            staged.clear();
            return via;
        } catch (IOException e) {
            throw VmctlException.internal("deliver into the guest: " + e.getMessage(), e);
        } finally {
            if (stage != null) {
                try {
                    if (Files.exists(stage)) FileTree.delete(stage);
                } catch (IOException ignored) {
                    // emptied at the VM's next boot
                }
            }
            for (String g : staged) {
                try {
                    agent.exec(List.of("rm", "-f", g), null, Duration.ofSeconds(10));
                } catch (RuntimeException ignored) {
                    // /tmp of a guest that went away
                }
            }
        }
    }

    private static Item failedItem(List<Item> items, String stderr) {
        for (Item it : items) if (stderr.startsWith(it.dest() + ":")) return it;
        return null;
    }

    /** Starts the VM's run command detached (output on its console). */
    static void run(GuestAgentClient agent, List<String> argv) {
        List<String> a = new ArrayList<>(List.of("/bin/sh", "-c", GuestScripts.RUN, "vmctl-run"));
        a.addAll(argv);
        ExecResult r = agent.exec(a, null, Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "run " + String.join(" ", argv) + ": exit " + r.exitCode()
                    + ": " + (r.stderr() + r.stdout()).strip(), null);
        }
    }

    /** Hard links of a file or every file of a tree (a copy where a link cannot be made), symlinks as they are. */
    static void linkTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
            linkOrCopy(from, to);
            return;
        }
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path t = to.resolve(from.relativize(file).toString());
                if (attrs.isSymbolicLink()) Files.createSymbolicLink(t, Files.readSymbolicLink(file));
                else if (attrs.isRegularFile()) linkOrCopy(file, t);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void linkOrCopy(Path from, Path to) throws IOException {
        dev.vmctl.vmm.QemuConfinement c = dev.vmctl.vmm.QemuConfinement.active();
        if (c.user() != null && !Files.getPosixFilePermissions(from).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)) {
            // QEMU serves the share as its own user (QemuConfinement): a file only root may read goes in as a copy of its own
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
            Files.setAttribute(to, "unix:uid", c.uid(), LinkOption.NOFOLLOW_LINKS);
            return;
        }
        try {
            Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    /** A tar of a directory's content (for a guest without 9p), through the host's tar. */
    private static byte[] tarOf(Path dir) throws IOException {
        Path out = Files.createTempFile("vmctl-artifact-", ".tar");
        try {
            CmdResult r = Cmd.run(List.of("tar", "-cf", out.toString(), "--owner=0", "--group=0", "-C", dir.toString(), "."), null, null,
                    Duration.ofMinutes(5));
            if (r.exitCode() != 0) throw new IOException("tar " + dir + ": exit " + r.exitCode() + ": " + r.stderr().strip());
            return Files.readAllBytes(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String token() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
