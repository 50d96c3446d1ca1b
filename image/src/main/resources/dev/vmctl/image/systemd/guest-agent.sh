#!/bin/sh
# vmctl: runs qemu-ga on the virtio-serial port named org.qemu.guest_agent.0 (no udev needed). vmctl's initramfs
# starts one before systemd (pid in /dev/.vmctl-agent.pid): this waits while it lives, then takes over.
pidf=/dev/.vmctl-agent.pid
if [ -s "$pidf" ] && read -r pid <"$pidf" && [ -d "/proc/$pid" ]; then
    tail --pid="$pid" -f /dev/null
    rm -f "$pidf"
fi
for d in /sys/class/virtio-ports/*; do
    read -r n <"$d/name" 2>/dev/null || continue
    if [ "$n" = org.qemu.guest_agent.0 ]; then
        exec /usr/sbin/qemu-ga -m virtio-serial -p "/dev/${d##*/}" -l /run/qemu-ga.log
    fi
done
echo "vmctl: no virtio-serial port named org.qemu.guest_agent.0 (yet)" >&2
exit 1
