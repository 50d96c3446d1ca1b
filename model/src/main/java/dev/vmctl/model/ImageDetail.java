package dev.vmctl.model;

import java.util.List;

/** One image and its boot snapshots (GET /api/v1/images/{name}). */
public record ImageDetail(ImageInfo image, List<BootSnapshotView> bootSnapshots) {
    public ImageDetail {
        bootSnapshots = bootSnapshots == null ? List.of() : List.copyOf(bootSnapshots);
    }
}
