/*
 * vmctl-identity: gives a VM restored from a snapshot an identity of its own, in the tiny image's guest.
 *
 *   vmctl-identity --reseed
 *       Reads up to 512 bytes of entropy from stdin, credits them to the kernel's input pool (RNDADDENTROPY) and
 *       reseeds the CRNG at once (RNDRESEEDCRNG). Exit status 0, or the errno of the failing call.
 *
 *   vmctl-identity --serve FIFO [ROOT]
 *       Started by the image's /init before VMCTL_READY, so it already runs, blocked in read(), in every boot
 *       snapshot: a restored guest needs no fork or exec to get its identity (under TCG the first fork/exec of a
 *       freshly restored guest costs ~0.2 s of code translation). The host writes one request into FIFO through
 *       the guest agent (guest-file-open/write/close); this sets, in order: the clock, the host name
 *       (/proc/sys/kernel/hostname, /etc/hostname, the 127.0.1.1 line of /etc/hosts), /etc/machine-id, then
 *       credits the entropy and reseeds the CRNG, then configures the NICs (each found by the MAC it has now: its
 *       own MAC, the name ethN, up, its IPv4 address, two gratuitous ARPs; then the default route), and answers on
 *       /dev/console with a line
 *           VMCTL_READY identity=NONCE                      (done)
 *           VMCTL_IDENTITY_FAILED NONCE STEP ERRNO          (STEP: clock hostname etc-hostname hosts machine-id
 *                                                            entropy reseed request nic-find nic-down nic-mac
 *                                                            nic-name nic-up nic-addr nic-mask route)
 *       ROOT (tests) is put before every path it writes.
 *
 * Request (little-endian): "VMCTLID1", u64 nonce, i64 seconds, i64 nanoseconds (seconds 0: leave the clock),
 * then u16 length + bytes for each of: host name, machine-id, entropy (at most 512 bytes), then u8 NIC count (at
 * most 8) and per NIC: u8 N (it becomes ethN), u8[6] its MAC, u8[6] the MAC it has now (all zero: it has its own),
 * u8[4] IPv4 address (all zero: none), u8 prefix length; then u8[4] the default gateway (all zero: none). The host
 * validates the values (CloneIdentity); this program only bounds lengths.
 *
 * No libc: raw Linux x86-64 system calls, so the binary is ~6 KB, static, and loads nothing. Build:
 * image/src/main/c/build.sh (gcc 12, Debian 12), which writes the binary the image builder ships
 * (src/main/resources/dev/vmctl/image/vmctl-identity).
 */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_ioctl 16
#define SYS_socket 41
#define SYS_sendto 44
#define SYS_exit 60
#define SYS_clock_settime 227

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_NOCTTY 0400
#define O_APPEND 02000
#define O_CLOEXEC 02000000

#define AF_INET 2
#define AF_PACKET 17
#define SOCK_DGRAM 2
#define SIOCADDRT 0x890B
#define SIOCDELRT 0x890C
#define SIOCGIFNAME 0x8910
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define SIOCSIFADDR 0x8916
#define SIOCSIFNETMASK 0x891c
#define SIOCSIFNAME 0x8923
#define SIOCSIFHWADDR 0x8924
#define SIOCGIFHWADDR 0x8927
#define IFF_UP 1
#define RTF_UP 1
#define RTF_GATEWAY 2
#define EEXIST 17
#define MAX_NICS 8
#define MAX_IFINDEX 64

#define RNDADDENTROPY 0x40085203
#define RNDRESEEDCRNG 0x5207
#define MAX_ENTROPY 512
#define MAX_FIELD 512
#define MAX_HOSTS 16384

static i64 sys3(i64 n, i64 a, i64 b, i64 c) {
    i64 r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

void *memset(void *d, int c, u64 n) {
    u8 *p = d;
    while (n--) *p++ = (u8) c;
    return d;
}

void *memcpy(void *d, const void *s, u64 n) {
    u8 *p = d;
    const u8 *q = s;
    while (n--) *p++ = *q++;
    return d;
}

static u64 len(const char *s) {
    u64 n = 0;
    while (s[n]) n++;
    return n;
}

static int eq(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

/* read exactly n bytes (0), or fail (-errno; -1 for end of file) */
static i64 read_full(int fd, void *buf, u64 n) {
    u8 *p = buf;
    while (n) {
        i64 r = sys3(SYS_read, fd, (i64) p, (i64) n);
        if (r == -4) continue; /* EINTR */
        if (r < 0) return r;
        if (r == 0) return -1;
        p += r;
        n -= (u64) r;
    }
    return 0;
}

static i64 write_all(int fd, const void *buf, u64 n) {
    const u8 *p = buf;
    while (n) {
        i64 r = sys3(SYS_write, fd, (i64) p, (i64) n);
        if (r == -4) continue;
        if (r < 0) return r;
        p += r;
        n -= (u64) r;
    }
    return 0;
}

static char root[256];

/* root + rel into out (256 bytes) */
static const char *at(char *out, const char *rel) {
    u64 a = len(root), b = len(rel);
    if (a + b >= 256) b = 255 - a;
    memcpy(out, root, a);
    memcpy(out + a, rel, b);
    out[a + b] = 0;
    return out;
}

/* writes data (+ a newline when nl) to ROOT/rel, created or truncated; 0 or -errno */
static i64 put(const char *rel, const u8 *data, u64 n, int nl) {
    char p[256];
    i64 fd = sys3(SYS_open, (i64) at(p, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fd;
    i64 r = write_all((int) fd, data, n);
    if (r == 0 && nl) r = write_all((int) fd, "\n", 1);
    sys3(SYS_close, fd, 0, 0);
    return r;
}

static int starts_127_0_1_1(const u8 *l, u64 n) {
    const char *k = "127.0.1.1";
    for (int i = 0; i < 9; i++) if ((u64) i >= n || l[i] != (u8) k[i]) return 0;
    return n > 9 && (l[9] == ' ' || l[9] == '\t');
}

static u8 hosts_in[MAX_HOSTS], hosts_out[2 * MAX_HOSTS];
static u64 out;

/* appends to hosts_out; 0, or -E2BIG when it would not fit */
static i64 add(const void *d, u64 n) {
    if (out + n > sizeof hosts_out) return -7;
    memcpy(hosts_out + out, d, n);
    out += n;
    return 0;
}

static i64 add_line(const u8 *name, u64 n) {
    if (add("127.0.1.1\t", 10) || add(name, n) || add("\n", 1)) return -7;
    return 0;
}

/* /etc/hosts with its 127.0.1.1 line(s) replaced by "127.0.1.1<TAB>name" (appended when there is none) */
static i64 hosts(const u8 *name, u64 n) {
    char p[256];
    u64 have = 0;
    out = 0;
    i64 fd = sys3(SYS_open, (i64) at(p, "/etc/hosts"), O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
        for (;;) {
            if (have == MAX_HOSTS) {
                sys3(SYS_close, fd, 0, 0);
                return -27; /* EFBIG: not rewritten rather than cut short */
            }
            i64 r = sys3(SYS_read, fd, (i64) (hosts_in + have), (i64) (MAX_HOSTS - have));
            if (r == -4) continue;
            if (r <= 0) break;
            have += (u64) r;
        }
        sys3(SYS_close, fd, 0, 0);
    }
    int found = 0;
    for (u64 i = 0; i < have;) {
        u64 j = i;
        while (j < have && hosts_in[j] != '\n') j++;
        if (starts_127_0_1_1(hosts_in + i, j - i)) {
            if (add_line(name, n)) return -7;
            found = 1;
        } else if (add(hosts_in + i, j - i) || add("\n", 1)) {
            return -7;
        }
        i = j + 1;
    }
    if (!found && add_line(name, n)) return -7;
    return put("/etc/hosts", hosts_out, out, 0);
}

static struct {
    int entropy_count;
    int buf_size;
    u8 buf[MAX_ENTROPY];
} pool;

/* credits n bytes of pool.buf and reseeds; 0, or -errno with *step naming the call */
static i64 reseed(u64 n, const char **step) {
    char p[256];
    *step = "entropy";
    i64 fd = sys3(SYS_open, (i64) at(p, "/dev/urandom"), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    pool.entropy_count = (int) (n * 8);
    pool.buf_size = (int) n;
    i64 r = sys3(SYS_ioctl, fd, RNDADDENTROPY, (i64) &pool);
    if (r == 0) {
        *step = "reseed";
        r = sys3(SYS_ioctl, fd, RNDRESEEDCRNG, 0);
    }
    sys3(SYS_close, fd, 0, 0);
    return r;
}

static char line[128];

static void say(const char *s) {
    char p[256];
    i64 fd = sys3(SYS_open, (i64) at(p, "/dev/console"), O_WRONLY | O_NOCTTY | O_APPEND | O_CLOEXEC, 0);
    if (fd < 0) return;
    write_all((int) fd, s, len(s));
    sys3(SYS_close, fd, 0, 0);
}

static char *hex(char *o, u64 v) {
    for (int i = 15; i >= 0; i--) {
        int d = (int) ((v >> (i * 4)) & 15);
        *o++ = (char) (d < 10 ? '0' + d : 'a' + d - 10);
    }
    return o;
}

static char *dec(char *o, u64 v) {
    char t[24];
    int k = 0;
    do { t[k++] = (char) ('0' + v % 10); v /= 10; } while (v);
    while (k) *o++ = t[--k];
    return o;
}

static char *str(char *o, const char *s) {
    while (*s) *o++ = *s++;
    return o;
}

static void answer(u64 nonce, const char *step, i64 err) {
    char *o = line;
    if (!step) {
        o = str(o, "\nVMCTL_READY identity=");
        o = hex(o, nonce);
    } else {
        o = str(o, "\nVMCTL_IDENTITY_FAILED ");
        o = hex(o, nonce);
        *o++ = ' ';
        o = str(o, step);
        *o++ = ' ';
        o = dec(o, (u64) (err < 0 ? -err : err));
    }
    *o++ = '\n';
    *o = 0;
    say(line);
}

/* ---- NICs: the classic ioctls (no netlink), like busybox's ip does for these ---- */

struct sockaddr_ {
    u16 family;
    u8 data[14];
};

struct ifreq_ {
    char name[16];
    union {
        struct sockaddr_ addr;
        short flags;
        int ifindex;
        char newname[16];
        u8 pad[24];
    } u;
};

struct rtentry_ {               /* include/uapi/linux/route.h */
    u64 pad1;
    struct sockaddr_ dst, gateway, genmask;
    u16 flags;
    short pad2;
    u64 pad3;
    void *pad4;
    short metric;
    char *dev;
    u64 mtu, window;
    u16 irtt;
};

struct nic {
    u8 n, mac[6], from[6], ip[4], prefix;
};

static struct nic nics[MAX_NICS];
static u8 nnics, gateway[4];

static int zero(const u8 *b, int n) {
    for (int i = 0; i < n; i++) if (b[i]) return 0;
    return 1;
}

static int same(const u8 *a, const u8 *b, int n) {
    for (int i = 0; i < n; i++) if (a[i] != b[i]) return 0;
    return 1;
}

static void name_of(char *out, const char *prefix, u8 n) {
    char *o = str(out, prefix);
    o = dec(o, n);
    *o = 0;
}

static i64 ifr_call(int sk, u64 request, struct ifreq_ *r) {
    return sys3(SYS_ioctl, sk, (i64) request, (i64) r);
}

/* the interface whose MAC is mac: its name into out; 0 or -ENODEV */
static i64 find_by_mac(int sk, const u8 *mac, char *out) {
    for (int i = 1; i <= MAX_IFINDEX; i++) {
        struct ifreq_ r;
        memset(&r, 0, sizeof r);
        r.u.ifindex = i;
        if (ifr_call(sk, SIOCGIFNAME, &r) != 0) continue;
        if (ifr_call(sk, SIOCGIFHWADDR, &r) != 0) continue;
        if (same(r.u.addr.data, mac, 6)) {
            memcpy(out, r.name, 16);
            return 0;
        }
    }
    return -19;
}

static i64 set_flags(int sk, const char *name, int up) {
    struct ifreq_ r;
    memset(&r, 0, sizeof r);
    memcpy(r.name, name, 16);
    i64 e = ifr_call(sk, SIOCGIFFLAGS, &r);
    if (e) return e;
    r.u.flags = (short) (up ? (r.u.flags | IFF_UP) : (r.u.flags & ~IFF_UP));
    return ifr_call(sk, SIOCSIFFLAGS, &r);
}

static i64 rename_if(int sk, const char *from, const char *to) {
    struct ifreq_ r;
    memset(&r, 0, sizeof r);
    memcpy(r.name, from, 16);
    memcpy(r.u.newname, to, len(to) + 1);
    return ifr_call(sk, SIOCSIFNAME, &r);
}

static void inet(struct sockaddr_ *a, const u8 *ip) {
    memset(a, 0, sizeof *a);
    a->family = AF_INET;
    memcpy(a->data + 2, ip, 4);
}

/* two gratuitous ARP requests ("who has IP? tell IP") so that peers that cached IP for another MAC learn this one */
static void announce(const struct nic *c, int ifindex) {
    struct {
        u16 family, protocol;
        int ifindex;
        u16 hatype;
        u8 pkttype, halen, addr[8];
    } to;
    u8 arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(arp + 8, c->mac, 6);
    memcpy(arp + 14, c->ip, 4);
    memcpy(arp + 24, c->ip, 4);
    i64 sk = sys3(SYS_socket, AF_PACKET, SOCK_DGRAM, 0x0608 /* htons(ETH_P_ARP) */);
    if (sk < 0) return;
    memset(&to, 0, sizeof to);
    to.family = AF_PACKET;
    to.protocol = 0x0608;
    to.ifindex = ifindex;
    to.halen = 6;
    memset(to.addr, 0xff, 6);
    for (int k = 0; k < 2; k++) {
        register i64 r10 __asm__("r10") = 0;
        register i64 r8 __asm__("r8") = (i64) &to;
        register i64 r9 __asm__("r9") = sizeof to;
        i64 r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(SYS_sendto), "D"(sk), "S"(arp), "d"(sizeof arp), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    }
    sys3(SYS_close, sk, 0, 0);
}

static int ifindex_of(int sk, const char *name) {
    for (int i = 1; i <= MAX_IFINDEX; i++) {
        struct ifreq_ r;
        memset(&r, 0, sizeof r);
        r.u.ifindex = i;
        if (ifr_call(sk, SIOCGIFNAME, &r) == 0 && eq(r.name, name)) return i;
    }
    return 0;
}

/* every NIC: own MAC, named ethN, up, addressed, announced; then the default route. 0, or -errno with *step */
static i64 configure_nics(const char **step) {
    char cur[MAX_NICS][16];
    i64 sk = sys3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    *step = "nic-find";
    if (sk < 0) return sk;
    i64 e = 0;
    /* pass 1: find each by the MAC it has now, down, its own MAC, out of the way of the names wanted */
    for (int i = 0; i < nnics && !e; i++) {
        struct nic *c = &nics[i];
        *step = "nic-find";
        e = find_by_mac((int) sk, zero(c->from, 6) ? c->mac : c->from, cur[i]);
        if (e) break;
        *step = "nic-down";
        if ((e = set_flags((int) sk, cur[i], 0))) break;
        if (!zero(c->from, 6) && !same(c->from, c->mac, 6)) {
            struct ifreq_ r;
            memset(&r, 0, sizeof r);
            memcpy(r.name, cur[i], 16);
            r.u.addr.family = 1; /* ARPHRD_ETHER */
            memcpy(r.u.addr.data, c->mac, 6);
            *step = "nic-mac";
            if ((e = ifr_call((int) sk, SIOCSIFHWADDR, &r))) break;
        }
        char want[16];
        name_of(want, "eth", c->n);
        if (!eq(cur[i], want)) {
            char tmp[16];
            name_of(tmp, "vmtmp", (u8) i);
            *step = "nic-name";
            if ((e = rename_if((int) sk, cur[i], tmp))) break;
            memcpy(cur[i], tmp, 16);
        }
    }
    /* pass 2: the names, up, the address and its announcement */
    for (int i = 0; i < nnics && !e; i++) {
        struct nic *c = &nics[i];
        char want[16];
        name_of(want, "eth", c->n);
        if (!eq(cur[i], want)) {
            *step = "nic-name";
            if ((e = rename_if((int) sk, cur[i], want))) break;
        }
        *step = "nic-up";
        if ((e = set_flags((int) sk, want, 1))) break;
        if (zero(c->ip, 4)) continue;
        struct ifreq_ r;
        memset(&r, 0, sizeof r);
        memcpy(r.name, want, 16);
        inet(&r.u.addr, c->ip);
        *step = "nic-addr";
        if ((e = ifr_call((int) sk, SIOCSIFADDR, &r))) break;
        u32 m = c->prefix >= 32 ? 0xffffffffu : c->prefix == 0 ? 0 : ~((1u << (32 - c->prefix)) - 1);
        u8 mask[4] = {(u8) (m >> 24), (u8) (m >> 16), (u8) (m >> 8), (u8) m};
        inet(&r.u.addr, mask);
        *step = "nic-mask";
        if ((e = ifr_call((int) sk, SIOCSIFNETMASK, &r))) break;
        announce(c, ifindex_of((int) sk, want));
    }
    if (!e && !zero(gateway, 4)) {
        struct rtentry_ rt;
        memset(&rt, 0, sizeof rt);
        u8 any[4] = {0, 0, 0, 0};
        inet(&rt.dst, any);
        inet(&rt.genmask, any);
        inet(&rt.gateway, gateway);
        rt.flags = RTF_UP | RTF_GATEWAY;
        *step = "route";
        e = sys3(SYS_ioctl, sk, SIOCADDRT, (i64) &rt);
        if (e == -EEXIST) { /* replace: the old default route goes first */
            struct rtentry_ old;
            memset(&old, 0, sizeof old);
            inet(&old.dst, any);
            inet(&old.genmask, any);
            sys3(SYS_ioctl, sk, SIOCDELRT, (i64) &old);
            e = sys3(SYS_ioctl, sk, SIOCADDRT, (i64) &rt);
        }
    }
    sys3(SYS_close, sk, 0, 0);
    return e;
}

static u8 field[3][MAX_FIELD];
static u16 flen[3];

/* one request from fd: 0 done (answered), -1 end of input */
static int serve_one(int fd) {
    struct { char magic[8]; u64 nonce; i64 sec; i64 nsec; } h;
    if (read_full(fd, &h, sizeof h) != 0) return -1;
    const char *m = "VMCTLID1";
    for (int i = 0; i < 8; i++) {
        if (h.magic[i] != m[i]) {
            answer(0, "request", 22); /* EINVAL; the rest of the stream cannot be trusted either */
            return 0;
        }
    }
    int too_long = 0;
    for (int f = 0; f < 3; f++) {
        u16 n;
        if (read_full(fd, &n, 2) != 0) return -1;
        u16 cap = f == 2 ? MAX_ENTROPY : 255;
        flen[f] = n > cap ? cap : n;
        if (read_full(fd, field[f], flen[f]) != 0) return -1;
        for (u16 k = flen[f]; k < n; k++) { /* the rest is read and dropped: the next request starts in step */
            u8 skip;
            if (read_full(fd, &skip, 1) != 0) return -1;
            too_long = 1;
        }
    }
    if (read_full(fd, &nnics, 1) != 0) return -1;
    u8 count = nnics;
    if (nnics > MAX_NICS) nnics = MAX_NICS;
    for (int i = 0; i < count; i++) {
        struct nic skip, *c = i < MAX_NICS ? &nics[i] : &skip;
        if (read_full(fd, &c->n, 1) || read_full(fd, c->mac, 6) || read_full(fd, c->from, 6) || read_full(fd, c->ip, 4)
            || read_full(fd, &c->prefix, 1)) return -1;
        if (i >= MAX_NICS || c->n > 99) too_long = 1;
    }
    if (read_full(fd, gateway, 4) != 0) return -1;
    if (too_long) {
        answer(h.nonce, "request", 7); /* E2BIG */
        return 0;
    }
    i64 r;
    if (h.sec != 0) {
        i64 ts[2] = {h.sec, h.nsec};
        r = sys3(SYS_clock_settime, 0 /* CLOCK_REALTIME */, (i64) ts, 0);
        if (r) { answer(h.nonce, "clock", r); return 0; }
    }
    r = put("/proc/sys/kernel/hostname", field[0], flen[0], 0);
    if (r) { answer(h.nonce, "hostname", r); return 0; }
    r = put("/etc/hostname", field[0], flen[0], 1);
    if (r) { answer(h.nonce, "etc-hostname", r); return 0; }
    r = hosts(field[0], flen[0]);
    if (r) { answer(h.nonce, "hosts", r); return 0; }
    r = put("/etc/machine-id", field[1], flen[1], 1);
    if (r) { answer(h.nonce, "machine-id", r); return 0; }
    memcpy(pool.buf, field[2], flen[2]);
    const char *step;
    r = reseed(flen[2], &step);
    memset(pool.buf, 0, sizeof pool.buf);
    memset(field[2], 0, sizeof field[2]);
    if (r) { answer(h.nonce, step, r); return 0; }
    r = configure_nics(&step);
    if (r) { answer(h.nonce, step, r); return 0; }
    answer(h.nonce, 0, 0);
    return 0;
}

static void exit_(i64 code) {
    sys3(SYS_exit, code, 0, 0);
    for (;;) {}
}

static int start(int argc, char **argv) {
    if (argc >= 2 && eq(argv[1], "--reseed")) {
        u64 n = 0;
        while (n < MAX_ENTROPY) {
            i64 r = sys3(SYS_read, 0, (i64) (pool.buf + n), (i64) (MAX_ENTROPY - n));
            if (r == -4) continue;
            if (r < 0) return (int) -r;
            if (r == 0) break;
            n += (u64) r;
        }
        const char *step;
        i64 r = reseed(n, &step);
        return r < 0 ? (int) -r : 0;
    }
    if (argc >= 3 && eq(argv[1], "--serve")) {
        if (argc >= 4) {
            u64 n = len(argv[3]);
            if (n > 128) return 36; /* ENAMETOOLONG */
            memcpy(root, argv[3], n);
            root[n] = 0;
        }
        /* read and write: open does not wait for a writer, and the last writer's close is no end of file */
        i64 fd = sys3(SYS_open, (i64) argv[2], O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) return (int) -fd;
        while (serve_one((int) fd) == 0) {}
        return 0;
    }
    const char *usage = "usage: vmctl-identity --reseed | --serve FIFO [ROOT]\n";
    write_all(2, usage, len(usage));
    return 22;
}

/* the kernel enters here with the stack pointing at argc, then argv */
__attribute__((used)) static void entry(u64 *sp) {
    exit_(start((int) sp[0], (char **) (sp + 1)));
}

__asm__(".globl _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call entry\n  hlt\n");
