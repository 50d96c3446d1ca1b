package dev.vmctl.vmm;

/**
 * Every shell script vmctl runs inside a guest (through the agent, as {@code /bin/sh -c SCRIPT NAME ARGS…}),
 * in one place. Values are always positional arguments, never spliced into the text. Busybox and iproute2
 * compatible: they run on both guest profiles ({@link GuestProfile}: busybox and systemd); what differs per OS is there.
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

    /**
     * netem inside the guest, per direction. Args: DEV IFB EGRESS INGRESS then netem's parameters (delay 50ms …
     * limit N). EGRESS=1: netem at DEV's root (what the guest sends), else DEV's root qdisc is removed.
     * INGRESS=1: an ifb named IFB, netem at its root, and DEV's ingress redirected to it (ingress qdisc +
     * matchall + mirred: what the guest receives), else DEV's ingress qdisc and IFB are removed. 0 0 clears
     * everything; running it twice changes nothing. Exit 4–7 name the step that failed.
     */
    public static final String IMPAIR = """
            dev="$1"; ifb="$2"; egress="$3"; ingress="$4"; shift 4
            tc=/usr/sbin/tc
            [ -x "$tc" ] || tc=/sbin/tc
            if [ "$egress" = 1 ]; then
              "$tc" qdisc replace dev "$dev" root netem "$@" || exit 4
            else
              "$tc" qdisc del dev "$dev" root 2>/dev/null
            fi
            if [ "$ingress" = 1 ]; then
              [ -e "/sys/class/net/$ifb" ] || ip link add "$ifb" type ifb || exit 5
              ip link set "$ifb" up || exit 5
              "$tc" qdisc replace dev "$ifb" root netem "$@" || exit 6
              "$tc" qdisc replace dev "$dev" handle ffff: ingress || exit 7
              # matchall has no "change" (replace answers File exists): add it once, keep it while it is there
              "$tc" filter show dev "$dev" parent ffff: | grep -qF "$ifb" ||
                "$tc" filter add dev "$dev" parent ffff: protocol all pref 1 handle 1 matchall \\
                    action mirred egress redirect dev "$ifb" || exit 7
            else
              "$tc" qdisc del dev "$dev" ingress 2>/dev/null
              if [ -e "/sys/class/net/$ifb" ]; then ip link del "$ifb" || exit 5; fi
            fi
            exit 0
            """;

    /**
     * Puts files and directories in place (artifacts, large {@code vm cp}). Args: MOUNT (where to mount the 9p
     * file-transfer share, tag {@link QemuCommand#SHARE_TAG}, or "-" when no item comes from it), then per item:
     * KIND (file, dir, or tar: a tar to unpack as a directory) SRC (relative: inside the share; absolute: staged in
     * the guest by the agent, removed afterwards) DEST MODE OWNER ("-": files 0644, directories as their tree, root).
     * Files are copied with {@code dd bs=4M} (busybox cp moves 4 KiB at a time: half the speed from 9p under TCG).
     * Each item is copied next to DEST under a temporary name, given its mode and owner, then renamed over DEST (a
     * directory that is there is swapped out and removed): DEST is either the old or the new content, never half.
     * Exit 10: the share cannot be mounted (no 9p in this guest); 11–13 name the step that failed, for the item
     * printed on stderr.
     */
    public static final String DELIVER = """
            mnt=$1; shift
            if [ "$mnt" != - ]; then
              mkdir -p "$mnt" || exit 10
              if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro vmctl-xfer "$mnt" 2>/dev/null; then
                rmdir "$mnt" 2>/dev/null; exit 10
              fi
              trap 'umount "$mnt" 2>/dev/null; rmdir "$mnt" 2>/dev/null' EXIT
            fi
            n=0
            while [ $# -ge 5 ]; do
              kind=$1; src=$2; dest=$3; mode=$4; owner=$5; shift 5
              n=$((n+1))
              case "$src" in /*) staged=$src ;; *) staged=; src="$mnt/$src" ;; esac
              dir=${dest%/*}; [ -n "$dir" ] || dir=/
              base=${dest##*/}
              tmp="$dir/.vmctl-tmp-$$-$n-$base"
              mkdir -p "$dir" || { echo "$dest: cannot create $dir" >&2; exit 11; }
              rm -rf "$tmp"
              case "$kind" in
                file) dd if="$src" of="$tmp" bs=4M && chmod 644 "$tmp" ;;
                dir) cp -R "$src" "$tmp" ;;
                tar) mkdir "$tmp" && tar -xf "$src" -C "$tmp" ;;
                *) false ;;
              esac || { rm -rf "$tmp"; echo "$dest: cannot copy" >&2; exit 12; }
              [ -z "$staged" ] || rm -f "$staged"
              if [ "$mode" != - ]; then chmod "$mode" "$tmp" || { rm -rf "$tmp"; echo "$dest: chmod $mode failed" >&2; exit 13; }; fi
              if [ "$owner" != - ]; then chown -R "$owner" "$tmp" || { rm -rf "$tmp"; echo "$dest: chown $owner failed" >&2; exit 13; }; fi
              if [ -d "$dest" ] && [ ! -L "$dest" ]; then
                if [ ! -d "$tmp" ]; then rm -rf "$tmp"; echo "$dest: is a directory" >&2; exit 13; fi
                old="$dir/.vmctl-old-$$-$n-$base"
                mv "$dest" "$old" && mv "$tmp" "$dest" && rm -rf "$old" || { rm -rf "$tmp"; echo "$dest: cannot replace" >&2; exit 13; }
              else
                mv -f "$tmp" "$dest" || { rm -rf "$tmp"; echo "$dest: cannot rename into place" >&2; exit 13; }
              fi
            done
            exit 0
            """;

    /**
     * Starts ARGV… detached (a VM's {@code run:} command, once its artifacts are in place): stdin /dev/null, output
     * to the console (the VM's console log); prints its PID. Exit 127 when the program is not found.
     */
    public static final String RUN = """
            command -v "$1" >/dev/null 2>&1 || { echo "$1: not found" >&2; exit 127; }
            "$@" </dev/null >/dev/console 2>&1 &
            echo $!
            """;

    /** The guest's ifb for what NIC {@code nic} (eth0 …) receives: "ifb-" + its name (≤ 15 characters for eth0–eth15). */
    public static String ingressIfb(String nic) {
        return "ifb-" + nic;
    }
}
