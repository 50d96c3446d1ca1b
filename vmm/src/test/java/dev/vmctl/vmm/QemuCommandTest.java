package dev.vmctl.vmm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The file-transfer share in the fixed device layout: there only for a VM whose extra command line names it. */
class QemuCommandTest {
    static QemuCommand.Spec spec(String extra) {
        return new QemuCommand.Spec("abc", "web1", 1, 128, false, "/k", "/i", extra, new VmFiles(Path.of("/data/vms/abc")));
    }

    @Test
    void shareIsSlotTwoWhenTheCommandLineNamesIt() {
        List<String> a = QemuCommand.argv(spec(QemuCommand.SHARE_CMDLINE));
        int rng = a.indexOf("virtio-rng-device,rng=rng0,id=vrng0");
        int fsdev = a.indexOf("-fsdev");
        assertThat(fsdev).isGreaterThan(rng);
        assertThat(a.get(fsdev + 1)).isEqualTo("local,id=xfer0,path=/data/vms/abc/xfer,security_model=none,readonly=on");
        assertThat(a.get(fsdev + 3)).isEqualTo("virtio-9p-device,id=vxfer0,fsdev=xfer0,mount_tag=vmctl-xfer");
        assertThat(a.get(a.indexOf("-append") + 1)).contains(" vmctl.xfer=9p");
        assertThat(a.indexOf("pcie-root-port,id=rp0,slot=0,chassis=1")).isGreaterThan(fsdev);
    }

    @Test
    void noShareWithoutIt() {
        assertThat(QemuCommand.argv(spec(null))).doesNotContain("-fsdev");
        assertThat(QemuCommand.argv(spec("vmctl.ip0=10.0.0.2/24 vmctl.xfer=9pX"))).doesNotContain("-fsdev");
        assertThat(QemuCommand.hasShare("a vmctl.xfer=9p b")).isTrue();
    }

    @Test
    void rootDiskAfterTheShareForSystemdGuestsOnly() {
        List<String> a = QemuCommand.argv(spec(GuestProfile.SYSTEMD.extraCmdline()));
        int fsdev = a.indexOf("-fsdev");
        int drive = a.indexOf("-drive");
        assertThat(drive).isGreaterThan(fsdev);
        assertThat(a.get(drive + 1)).isEqualTo("file=/data/vms/abc/disk.qcow2,if=none,id=disk0,format=qcow2,cache=writeback,discard=unmap");
        assertThat(a.get(drive + 3)).isEqualTo("virtio-blk-device,drive=disk0,id=vdisk0");
        assertThat(a.indexOf("pcie-root-port,id=rp0,slot=0,chassis=1")).isGreaterThan(drive);
        assertThat(a.get(a.indexOf("-append") + 1)).contains(" vmctl.root=/dev/vda").contains(" net.ifnames=0");
        // the busybox profile keeps tiny's layout exactly (its boot snapshots and snapshots stay restorable)
        assertThat(QemuCommand.argv(spec(GuestProfile.BUSYBOX.extraCmdline()))).isEqualTo(QemuCommand.argv(spec(QemuCommand.SHARE_CMDLINE)))
                .doesNotContain("-drive");
        assertThat(GuestProfile.ofCmdline(GuestProfile.SYSTEMD.extraCmdline())).isEqualTo(GuestProfile.SYSTEMD);
        assertThat(GuestProfile.ofCmdline(QemuCommand.SHARE_CMDLINE)).isEqualTo(GuestProfile.BUSYBOX);
        // both profiles have boot snapshots (the systemd one carries the disk and waits for systemd before recording)
        assertThat(GuestProfile.SYSTEMD.noBootSnapshots()).isNull();
        assertThat(GuestProfile.BUSYBOX.noBootSnapshots()).isNull();
        assertThat(GuestProfile.SYSTEMD.settleArgv()).isNotEmpty();
        assertThat(GuestProfile.BUSYBOX.settleArgv()).isEmpty();
    }

    @Test
    void tcgCpuHasNoErmsOrFsrm() {
        List<String> a = QemuCommand.argv(spec(null));
        assertThat(a.get(a.indexOf("-cpu") + 1)).isEqualTo("max,-erms,-fsrm");
    }
}
