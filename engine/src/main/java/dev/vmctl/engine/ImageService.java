package dev.vmctl.engine;

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
    public static final Set<String> BUILDABLE = Set.of("tiny");

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
        for (String f : new String[]{i.kernel(), i.initrd()}) {
            if (f != null && !Files.isRegularFile(Path.of(f))) {
                throw new VmctlException(VmctlException.Kind.UNAVAILABLE, "image " + name + ": file " + f + " is missing",
                        "rebuild it with 'vmctl image build " + name + "'");
            }
        }
        return i;
    }

    public ImageInfo build(String name) {
        return build(name, "vmctl");
    }

    public ImageInfo build(String name, String kernel) {
        return build(name, kernel, m -> {});
    }

    /** Builds the image; each progress message also goes to {@code progress} (the build operation's). */
    public synchronized ImageInfo build(String name, String kernel, java.util.function.Consumer<String> progress) {
        dev.vmctl.image.KernelFlavor flavor = dev.vmctl.image.KernelFlavor.parse(kernel == null ? "vmctl" : kernel);
        if (!BUILDABLE.contains(name)) {
            throw VmctlException.invalid("name", "vmctl cannot build an image called '" + name + "'", String.join(", ", BUILDABLE));
        }
        events.publish(dev.vmctl.model.EventType.IMAGE_PROGRESS, null, name, null, null, "build started");
        try {
            ImageInfo info = new TinyImageBuilder(dir.imagesDir())
                    .build(name, flavor, msg -> {
                        progress.accept(msg);
                        events.publish(dev.vmctl.model.EventType.IMAGE_PROGRESS, null, name, null, null, msg);
                    });
            events.publish(dev.vmctl.model.EventType.IMAGE_BUILT, null, name, null, null, "built " + info.kernelVersion());
            return info;
        } catch (RuntimeException e) {
            events.publish(dev.vmctl.model.EventType.IMAGE_FAILED, null, name, null, null, String.valueOf(e.getMessage()));
            throw e;
        }
    }
}
