package dev.vmctl.vmm;

/**
 * Every shell script vmctl runs inside a guest (through the agent, as {@code /bin/sh -c SCRIPT NAME ARGS…}),
 * in one place. Values are always positional arguments, never spliced into the text. Busybox and iproute2
 * compatible. (Issue 14 turns these into one profile per guest OS.)
 */
public final class GuestScripts {
    private GuestScripts() {}

    /** Renames NICs by MAC to ethN, sets addresses and the default route. Args: GW then (NAME MAC CIDR|-)... */
    public static final String NETWORK = """
            gw="$1"; shift
            set -- "$@"
            args="$*"
            i=0
            while [ $# -ge 3 ]; do
              mac="$2"; cur=""
              for d in /sys/class/net/*; do
                [ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && cur=${d##*/}
              done
              [ -n "$cur" ] || { echo "no interface with MAC $mac" >&2; exit 3; }
              if [ "$cur" != "$1" ]; then ip link set "$cur" down; ip link set "$cur" name "vmtmp$i"; fi
              i=$((i+1)); shift 3
            done
            set -- $args
            i=0
            while [ $# -ge 3 ]; do
              name="$1"; mac="$2"; cidr="$3"
              [ -e "/sys/class/net/$name" ] || ip link set "vmtmp$i" name "$name"
              ip link set "$name" up
              ip -4 addr flush dev "$name"
              if [ "$cidr" != "-" ]; then
                ip addr add "$cidr" dev "$name"
                # gratuitous ARP: peers that cached this address for another MAC (a reused address) learn the new one
                arping -q -U -c 2 -I "$name" "${cidr%/*}" </dev/null >/dev/null 2>&1 &
              fi
              i=$((i+1)); shift 3
            done
            [ "$gw" = "-" ] || ip route replace default via "$gw"
            exit 0
            """;

    /**
     * The tiny image's identity helper (image.IdentityHelper): {@code --reseed} credits the entropy on stdin and
     * reseeds the CRNG (exit 0), {@code --serve FIFO} waits for identity requests (see CloneIdentity).
     */
    public static final String IDENTITY_HELPER = "/usr/sbin/vmctl-identity";

    /**
     * The identity of a restored clone. Arguments: HOSTNAME MACHINE_ID then per NIC: DEVICE MAC ADDRESS|- GATEWAY|-
     * FROM_MAC|- (FROM_MAC: find the interface by the MAC it has now instead of by DEVICE, and leave its name to the
     * network script); stdin: host entropy. With {@link #IDENTITY_HELPER} in the guest the entropy (up to 512 bytes) is
     * credited and the kernel's CRNG reseeded at once (stdout says {@code reseeded}); without it the bytes are only
     * mixed into /dev/urandom. Ends with {@code VMCTL_READY} on the console, as the init of a cold boot does.
     * Host name, /etc/hostname, /etc/hosts and /etc/machine-id are written with shell built-ins only: under TCG every
     * program a freshly restored guest runs for the first time costs tens of milliseconds of code translation.
     * Busybox and iproute2 compatible.
     */
    public static final String IDENTITY = """
            set -e
            h=$1; mid=$2; shift 2
            printf '%s' "$h" >/proc/sys/kernel/hostname
            printf '%s\\n' "$h" >/etc/hostname
            hosts=; found=
            if [ -f /etc/hosts ]; then
                while IFS= read -r line || [ -n "$line" ]; do
                    case "$line" in "127.0.1.1 "* | "127.0.1.1\t"*) line="127.0.1.1\t$h"; found=1 ;; esac
                    hosts="$hosts$line
            "
                done </etc/hosts
            fi
            [ -n "$found" ] || hosts="${hosts}127.0.1.1\t$h
            "
            printf '%s' "$hosts" >/etc/hosts
            printf '%s\\n' "$mid" >/etc/machine-id
            if [ -x /usr/sbin/vmctl-identity ]; then
                /usr/sbin/vmctl-identity --reseed || { echo "vmctl-identity --reseed failed with status $?" >&2; exit 5; }
                echo reseeded
            else
                cat >/dev/urandom
            fi
            while [ $# -ge 5 ]; do
                dev=$1; mac=$2; addr=$3; gw=$4; from=$5; shift 5
                if [ "$from" != - ]; then
                    dev=
                    for d in /sys/class/net/*; do
                        read -r a <"$d/address" 2>/dev/null || a=
                        if [ "$a" = "$from" ]; then dev=${d##*/}; fi
                    done
                    if [ -z "$dev" ]; then echo "no interface with MAC $from" >&2; exit 3; fi
                fi
                ip link set dev "$dev" down
                ip link set dev "$dev" address "$mac"
                ip link set dev "$dev" up
                if [ "$addr" != - ]; then
                    ip addr flush dev "$dev"
                    ip addr add "$addr" dev "$dev"
                    ip neigh flush dev "$dev" || true
                    if [ "$gw" != - ]; then ip route replace default via "$gw" dev "$dev"; fi
                    arping -U -c 1 -w 1 -I "$dev" "${addr%/*}" </dev/null >/dev/null 2>&1 &
                fi
            done
            printf '\\nVMCTL_READY\\n' >/dev/console 2>/dev/null || true
            """;

    /** Removes the root qdisc of interface $1 (guest netem cleared); succeeds when there is none. */
    public static final String CLEAR_QDISC = "/usr/sbin/tc qdisc del dev \"$1\" root 2>/dev/null; exit 0";
}
