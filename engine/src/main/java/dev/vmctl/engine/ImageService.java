package dev.vmctl.engine;

import dev.vmctl.image.DebianImageBuilder;
import dev.vmctl.image.DebianRecipe;
import dev.vmctl.image.ImageCatalog;
import dev.vmctl.image.TinyImageBuilder;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.VmctlException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The image catalog and the builders behind `vmctl image build`. */
public final class ImageService {
    /** What {@code vmctl image build NAME} takes: the busybox image and the Debian images. */
    public static final Set<String> BUILDABLE = Set.of("tiny", "debian-12", "debian-13");
    static final String BUILDABLE_NAMES = "tiny, debian-12, debian-13";

    private final DataDir dir;
    private final ImageCatalog catalog;
    private final EventBus events;

    public ImageService(DataDir dir, EventBus events) {
        this.dir = dir;
        this.catalog = new ImageCatalog(dir.imagesDir());
        this.events = events;
    }

    public List<ImageInfo> list() {
        return catalog.list();
    }

    public List<String> names() {
        return list().stream().map(ImageInfo::name).toList();
    }

    public ImageInfo get(String name) {
        return catalog.find(name).orElseThrow(() -> VmctlException.notFound("image", name));
    }

    /** The image's files, checked to exist: a VM never boots from a catalog entry whose files are gone. */
    public ImageInfo usable(String name) {
        ImageInfo i = get(name);
        for (String f : new String[]{i.kernel(), i.initrd(), i.rootfs()}) {
            if (f != null && !Files.isRegularFile(Path.of(f))) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "image " + name + ": file " + f + " is missing",
                        "rebuild it with 'vmctl image build " + name + "'");
            }
        }
        return i;
    }

    /** Checks a build request (400 naming the field) before an operation runs it. */
    public void checkBuildable(String name, String kernel, String packages, String size) {
        if (!BUILDABLE.contains(name)) {
            throw VmctlException.invalid("name", "vmctl cannot build an image called '" + name + "'", BUILDABLE_NAMES);
        }
        if (DebianRecipe.Release.ofImage(name) != null) {
            if (kernel != null && !kernel.isBlank() && !kernel.equals("vmctl")) {
                throw VmctlException.invalid("kernel", "the Debian images boot the vmctl kernel for systemd guests", "vmctl");
            }
            DebianRecipe.parse(name, packages, size, DebianImageBuilder.DEFAULT_MIRROR);
        } else {
            dev.vmctl.image.KernelFlavor.parse(kernel == null ? "vmctl" : kernel);
            if ((packages != null && !packages.isBlank()) || (size != null && !size.isBlank())) {
                throw VmctlException.invalid(packages != null && !packages.isBlank() ? "packages" : "size",
                        "only the Debian images take --packages and --size", "debian-12, debian-13");
            }
        }
    }

    /** Imports a kernel and rootfs (paths on this host) as image {@code name}; see {@link dev.vmctl.image.ImageImporter}. */
    public ImageInfo importImage(String name, String kernel, String rootfs, String initrd, String os,
                                 java.util.function.Consumer<String> progress) {
        if (BUILDABLE.contains(name)) {
            throw VmctlException.invalid("name", "'" + name + "' is the name of an image vmctl builds", "another name");
        }
        Path k = path("kernel", kernel);
        if (k == null) {
            // no kernel given: vmctl's kernel for systemd guests (the Debian images'; from its cache, built once per host)
            if (rootfs == null || rootfs.isBlank()) throw VmctlException.invalid("rootfs", "missing", "the path of an ext4, qcow2 or rootfs .tar");
            k = new dev.vmctl.image.KernelBuilder(dev.vmctl.image.KernelBuilder.defaultCacheDir(), dev.vmctl.image.KernelBuilder.systemdFragment())
                    .build(progress).vmlinux();
        }
        ImageInfo info = new dev.vmctl.image.ImageImporter(dir.imagesDir(), catalog).importImage(new dev.vmctl.image.ImageImporter.Request(
                name, k, path("rootfs", rootfs), initrd == null || initrd.isBlank() ? null : path("initrd", initrd), os),
                progress);
        events.publishData(dev.vmctl.model.EventType.IMAGE_BUILT, null, name, null, null, "imported", info);
        return info;
    }

    private static Path path(String field, String p) {
        if (p == null || p.isBlank()) return null;
        try {
            return Path.of(p);
        } catch (java.nio.file.InvalidPathException e) {
            throw VmctlException.invalid(field, "'" + p + "' is not a path", "an absolute path on the server's host");
        }
    }

    /** Removes the image's catalog entry and its folder (the kernel and rootfs caches stay). */
    public void remove(String name) {
        ImageInfo i = get(name);
        catalog.remove(name);
        Path folder = dir.imagesDir().resolve(i.name());
        try {
            if (Files.isDirectory(folder)) dev.vmctl.host.FileTree.delete(folder);
        } catch (java.io.IOException e) {
            throw new VmctlException(VmctlException.Kind.INTERNAL, "remove image " + name + ": " + folder + ": " + e.getMessage(), null);
        }
    }

    public ImageInfo build(String name) {
        return build(name, "vmctl");
    }

    public ImageInfo build(String name, String kernel) {
        return build(name, kernel, m -> {});
    }

    /** Builds the image; each progress message also goes to {@code progress} (the build operation's). */
    public ImageInfo build(String name, String kernel, java.util.function.Consumer<String> progress) {
        return build(name, kernel, null, null, progress);
    }

    /**
     * Builds the image; each progress message also goes to {@code progress} (the build operation's). Builds of
     * different images run side by side (each image has its own operation lane; the builders serialise builds of one
     * image and share their caches safely).
     */
    public ImageInfo build(String name, String kernel, String packages, String size, java.util.function.Consumer<String> progress) {
        checkBuildable(name, kernel, packages, size);
        events.publish(dev.vmctl.model.EventType.IMAGE_PROGRESS, null, name, null, null, "build started");
        java.util.function.Consumer<String> say = msg -> {
            progress.accept(msg);
            events.publish(dev.vmctl.model.EventType.IMAGE_PROGRESS, null, name, null, null, msg);
        };
        try {
            ImageInfo info;
            if (DebianRecipe.Release.ofImage(name) != null) {
                DebianRecipe recipe = DebianRecipe.parse(name, packages, size, DebianImageBuilder.hostMirror());
                info = new DebianImageBuilder(dir.imagesDir(), catalog).build(recipe, say);
            } else {
                info = new TinyImageBuilder(dir.imagesDir())
                        .build(name, dev.vmctl.image.KernelFlavor.parse(kernel == null ? "vmctl" : kernel), say);
            }
            events.publishData(dev.vmctl.model.EventType.IMAGE_BUILT, null, name, null, null, "built " + info.kernelVersion(), info);
            return info;
        } catch (RuntimeException e) {
            events.publish(dev.vmctl.model.EventType.IMAGE_FAILED, null, name, null, null, String.valueOf(e.getMessage()));
            throw e;
        }
    }
}
