package dev.vmctl.model;

import java.util.List;

/**
 * One image and its boot snapshots (GET /api/v1/images/{name}). {@code os}, {@code kernel}, {@code initrd} and
 * {@code rootfs} (null for images without a root disk) repeat the image's paths at the top level.
 */
public record ImageDetail(ImageInfo image, String os, String kernel, String initrd, String rootfs, String recipe,
                          List<BootSnapshotView> bootSnapshots) {
    public ImageDetail {
        bootSnapshots = bootSnapshots == null ? List.of() : List.copyOf(bootSnapshots);
    }

    public ImageDetail(ImageInfo image, List<BootSnapshotView> bootSnapshots) {
        this(image, image == null ? null : image.os(), image == null ? null : image.kernel(), image == null ? null : image.initrd(),
                image == null ? null : image.rootfs(), image == null ? null : image.recipe(), bootSnapshots);
    }
}
