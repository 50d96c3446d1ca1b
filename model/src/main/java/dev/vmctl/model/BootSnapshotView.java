package dev.vmctl.model;

import java.util.List;

/**
 * One boot snapshot of an image (GET /api/v1/images/{name}): the state of a VM of one shape right after its guest
 * agent first answered, recorded by that VM's cold boot and restored by later creates of the same shape ("warm").
 *
 * @param name      the boot snapshot's name ({@code IMAGE-KEY}: the key covers image build, shape, QEMU and device layout)
 * @param vm        the VM whose first cold boot recorded it
 * @param nics      NICs at boot (numbered 0..nics-1)
 * @param sizeBytes total size of its files (apparent: the RAM file is sparse)
 * @param warmVms   VMs running from it now (they hold links to its files)
 */
public record BootSnapshotView(String name, String image, String vm, int cpus, int memoryMiB, String accel, int nics,
                               long sizeBytes, String createdAt, List<String> warmVms) {
    public BootSnapshotView {
        warmVms = warmVms == null ? List.of() : List.copyOf(warmVms);
    }
}
