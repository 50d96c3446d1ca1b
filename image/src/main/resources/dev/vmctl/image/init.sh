#!/bin/sh
# PID 1 of the vmctl "tiny" image (busybox sh). Installed as /init by TinyImageBuilder.
#
# Kernel command-line parameters read here (from /proc/cmdline; the kernel ignores "vmctl.*"):
#   vmctl.hostname=NAME   host name (letters, digits, '-', '.'); default: /etc/hostname
#   vmctl.ipN=CIDR        address for ethN (N = 0, 1, ...), e.g. vmctl.ip0=10.0.0.2/24; every ethN is set up anyway
#   vmctl.gw=IP           default route
#   vmctl.probe=1         print VMCTL_PROBE_OK and power off at once (does this accelerator reach userspace?)
# Markers on /dev/console, each on a line of its own: VMCTL_INIT <guest uptime in s> (this script has
# started: boot benchmarks time the kernel with it), VMCTL_READY (modules loaded, network configured,
# acpid, vmctl-identity and qemu-ga running; a clone restored from a snapshot prints "VMCTL_READY identity=…"
# once vmctl-identity has given it its own identity), VMCTL_PROBE_OK (probe mode). Diagnostics start with "vmctl: ".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
umask 022
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
read -r up _ </proc/uptime
printf '\nVMCTL_INIT %s\n' "$up"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp

CMDLINE=$(cat /proc/cmdline)
# param KEY: prints the value of the last KEY=VALUE word of the command line; fails when absent
param() {
    found=1
    set -f   # no globbing while splitting the command line into words
    for w in $CMDLINE; do
        case "$w" in "$1="*) val=${w#*=}; found=0 ;; esac
    done
    set +f
    [ "$found" = 0 ] && printf '%s\n' "$val"
}

if [ "$(param vmctl.probe)" = 1 ]; then
    printf '\nVMCTL_PROBE_OK\n'
    sync
    poweroff -f
    echo "vmctl: poweroff failed"
    while :; do sleep 3600; done
fi

# halt/poweroff/reboot without -f signal PID 1: honour them
trap 'sync; poweroff -f' USR2
trap 'sync; halt -f' USR1
trap 'sync; reboot -f' TERM

# modules, in dependency order (written by the image builder)
if [ -r /lib/modules/load-order ]; then
    while read -r m; do
        [ -n "$m" ] || continue
        insmod "/lib/modules/$m.ko" || echo "vmctl: insmod $m failed"
    done </lib/modules/load-order
fi

# host name
h=$(param vmctl.hostname)
if [ -n "$h" ]; then
    case "$h" in
        *[!A-Za-z0-9.-]* | -* | .*) echo "vmctl: ignoring invalid host name '$h'" ;;
        *) echo "$h" >/etc/hostname ;;
    esac
fi
[ -s /etc/hostname ] && hostname -F /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost\n' "$(hostname)" >/etc/hosts

# network: lo, every ethN up, then the addresses and the default route
ip link set lo up
for d in /sys/class/net/eth*; do
    [ -e "$d" ] && ip link set "${d##*/}" up
done
set -f
for w in $CMDLINE; do
    case "$w" in
        vmctl.ip*=*)
            k=${w%%=*}; n=${k#vmctl.ip}; v=${w#*=}
            case "$n" in '' | *[!0-9]*) continue ;; esac
            if [ -e "/sys/class/net/eth$n" ]; then
                ip addr add "$v" dev "eth$n" || echo "vmctl: cannot set address $v on eth$n"
            else
                echo "vmctl: no eth$n for vmctl.ip$n=$v"
            fi
            ;;
    esac
done
set +f
gw=$(param vmctl.gw)
if [ -n "$gw" ]; then
    ip route add default via "$gw" || echo "vmctl: cannot add default route via $gw"
fi

# ACPI power button (QMP system_powerdown) -> /etc/acpi/PWRF/00000080 -> poweroff
acpid -c /etc/acpi -l /run/acpid.log || echo "vmctl: acpid did not start"

# vmctl-identity waits for the identity of a clone restored from a snapshot of this VM (boot snapshots are taken
# once the agent answers, so it must run before qemu-ga): one request per restore through the FIFO
if [ -x /usr/sbin/vmctl-identity ] && mkfifo -m 600 /run/vmctl-identity; then
    /usr/sbin/vmctl-identity --serve /run/vmctl-identity </dev/null >/dev/null 2>&1 &
fi

# qemu-guest-agent on the virtio-serial port named org.qemu.guest_agent.0, respawned when it dies
has_console_dev() {
    for d in /sys/bus/virtio/devices/*; do
        [ "$(cat "$d/device" 2>/dev/null)" = 0x0003 ] && return 0
    done
    return 1
}
qga_port() {
    for d in /sys/class/virtio-ports/*; do
        [ "$(cat "$d/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && { echo "/dev/${d##*/}"; return 0; }
    done
    return 1
}
port=
if has_console_dev; then
    i=0
    # ports and their names arrive asynchronously after virtio_console loads
    while ! port=$(qga_port) && [ $i -lt 300 ]; do usleep 10000; i=$((i + 1)); done
fi
if [ -n "$port" ]; then
    (
        while :; do
            /usr/sbin/qemu-ga -m virtio-serial -p "$port" -l /run/qemu-ga.log &
            echo $! >/run/qemu-ga.pid
            wait $!
            echo "vmctl: qemu-ga exited with status $?, restarting"
            sleep 1
        done
    ) </dev/null >/dev/console 2>&1 &
    # VMCTL_READY promises a listening agent: wait (at most 3 s) until qemu-ga holds the port open.
    # (one fork per poll: under TCG the guest has one slow CPU, which qemu-ga needs to start)
    i=0
    pid=
    while [ $i -lt 150 ]; do
        [ -z "$pid" ] && [ -s /run/qemu-ga.pid ] && read -r pid </run/qemu-ga.pid
        case "$(ls -l "/proc/$pid/fd" 2>/dev/null)" in *"-> $port"*) break ;; esac
        usleep 20000; i=$((i + 1))
    done
    [ $i -ge 150 ] && echo "vmctl: qemu-ga has not opened $port"
else
    echo "vmctl: no virtio-serial port named org.qemu.guest_agent.0; no guest agent"
fi

printf '\nVMCTL_READY\n'

# stay alive as PID 1 and reap orphans: a blocking wait collects every child that exits
while :; do
    sleep 86400 &
    wait
done
