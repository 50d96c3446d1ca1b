#!/bin/sh
# PID 1 of vmctl's initramfs for images with a root disk (Debian: systemd). Installed as /init by
# DebianImageBuilder. It mounts the VM's disk read-write, gives the guest its host name (and a machine-id
# when the disk has none yet), prepares vmctl-identity's /run (for clones and warm VMs), starts the disk's guest agent
# (chrooted: it answers while systemd boots), then
# switch_root's to systemd: ~2 s faster under TCG than Debian's own initrd.
#
# Kernel command-line parameters (the kernel ignores "vmctl.*"):
#   vmctl.root=DEV        the root disk (default /dev/vda), ext4
#   vmctl.hostname=NAME   host name (letters, digits, '-', '.'), written to the disk's /etc/hostname
#   vmctl.probe=1         print VMCTL_PROBE_OK and power off at once (the accelerator probe)
# Markers on /dev/console: VMCTL_INIT <guest uptime in s>, VMCTL_SWITCH_ROOT <uptime> (systemd starts next).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
read -r up _ </proc/uptime
printf '\nVMCTL_INIT %s\n' "$up"
CMDLINE=$(cat /proc/cmdline)
param() {
    found=1
    set -f
    for w in $CMDLINE; do
        case "$w" in "$1="*) val=${w#*=}; found=0 ;; esac
    done
    set +f
    [ "$found" = 0 ] && printf '%s\n' "$val"
}
fail() {
    echo "vmctl: $*"
    sync
    sleep 2
    poweroff -f
}
# accelerator probe (AccelProbe): does this accelerator reach userspace with this kernel?
if [ "$(param vmctl.probe)" = 1 ]; then
    printf '\nVMCTL_PROBE_OK\n'
    sync
    poweroff -f
fi
root=$(param vmctl.root) || root=/dev/vda
case "$root" in /dev/[a-z]*) ;; *) fail "vmctl.root=$root is not a device" ;; esac
i=0
while [ ! -b "$root" ] && [ $i -lt 300 ]; do usleep 10000; i=$((i + 1)); done
[ -b "$root" ] || fail "no root disk $root"
mkdir -p /newroot
mount -t ext4 -o rw,noatime "$root" /newroot || fail "cannot mount $root"
[ -x /newroot/sbin/init ] || [ -L /newroot/sbin/init ] || fail "$root has no /sbin/init"

h=$(param vmctl.hostname)
if [ -n "$h" ]; then
    case "$h" in
        *[!A-Za-z0-9.-]* | -* | .*) echo "vmctl: ignoring invalid host name '$h'" ;;
        *)
            printf '%s\n' "$h" >/newroot/etc/hostname
            printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$h" >/newroot/etc/hosts
            ;;
    esac
fi
# a disk that has never booted has an empty machine-id: give it its own now (systemd would otherwise treat the
# boot as a first boot and run its first-boot units)
if [ ! -s /newroot/etc/machine-id ]; then
    read -r uuid </proc/sys/kernel/random/uuid
    printf '%s\n' "$uuid" | tr -d '-' >/newroot/etc/machine-id
fi
# the API file systems move to the disk (systemd takes them as they are)
umount /sys /proc
mount --move /dev /newroot/dev || fail "cannot move /dev"
mount -t proc -o nosuid,nodev,noexec proc /newroot/proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /newroot/sys
[ -s /newroot/etc/hostname ] && hostname "$(cat /newroot/etc/hostname)"
# /run is a tmpfs from here on (systemd keeps a /run it finds mounted), holding a copy of vmctl-identity (a disk need
# not carry it) and its FIFO: before a boot snapshot is recorded vmctl starts it there (GuestProfile.settleArgv), so
# it waits, blocked in read(), in every boot snapshot and a warm VM gets its host name, machine-id, clock, entropy
# and NICs without a fork or exec. (Started from here, before switch_root, it did not survive systemd's start.)
if mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /newroot/run && [ -x /usr/sbin/vmctl-identity ]; then
    cp /usr/sbin/vmctl-identity /newroot/run/.vmctl-identity && mkfifo -m 600 /newroot/run/vmctl-identity
fi
# The disk's guest agent starts now, chrooted into the disk, so that it answers while systemd boots (under TCG
# systemd needs seconds before its units run): vmctl-agent.service takes over when it ends. The port's name arrives
# shortly after virtio_console has probed it; without it (or without qemu-ga) the unit starts the agent.
port=
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
    for d in /newroot/sys/class/virtio-ports/*; do
        read -r n <"$d/name" 2>/newroot/dev/null || continue
        [ "$n" = org.qemu.guest_agent.0 ] && port=/dev/${d##*/}
    done
    [ -n "$port" ] || { usleep 10000; i=$((i + 1)); }
done
if [ -n "$port" ] && [ -x /newroot/usr/sbin/qemu-ga ]; then
    chroot /newroot /usr/sbin/qemu-ga -d -m virtio-serial -p "$port" -f /dev/.vmctl-agent.pid -l /dev/.vmctl-agent.log ||
        echo "vmctl: the early guest agent did not start"
fi
read -r up _ </newroot/proc/uptime
printf 'VMCTL_SWITCH_ROOT %s\n' "$up"
exec switch_root /newroot /sbin/init
