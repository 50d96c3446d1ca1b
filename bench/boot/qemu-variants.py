#!/usr/bin/env python3
# A/B of bare QEMU command-line variants, interleaved with equal idle gaps: start -> VMCTL_INIT /
# VMCTL_READY on serial / agent answers (medians). Usage (root; an image from `vmctl image build tiny`):
#   bench/boot/qemu-variants.py VMLINUX INITRD RUNS base,pcie,ramdisk,ramshm,netns,vmctl+ramshm+netns
# Features joined by '+': pcie (pcie=on, 8 root ports, pcie_ports=native), portsN, ramdisk/ramshm (RAM
# file on the scratch dir's disk / on /dev/shm), netns (ip netns exec + setsid; namespace vmctl-abtest,
# removed at the end), vmctl (vmctl's extra argv: -name, -qmp, -pidfile, RAM file, root ports), early
# (agent connection + sync before the guest runs), qmp (a QMP client attached), cmd=A~B (extra kernel args).
# Scratch files go to /tmp/ab.
import os, sys, time, socket, subprocess, statistics, json, re, shutil
kernel, initrd = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]); variants = sys.argv[4].split(',')
gap = 1.5
khz = int(float([l for l in open('/proc/cpuinfo') if l.startswith('cpu MHz')][0].split(':')[1]) * 1000)
NS = 'vmctl-abtest'
if 'netns' in ','.join(variants):
    subprocess.run(['ip', 'netns', 'add', NS], stderr=subprocess.DEVNULL)
BASECMD = "console=ttyS0 reboot=t panic=-1 quiet i8042.noaux 8250.nr_uarts=1 tsc=reliable no_timer_check cryptomgr.notests tsc_early_khz=%d vmctl.hostname=bare" % khz

def argv(v, d):
    feats = set(v.split('+'))
    machine = "microvm,x-option-roms=off,rtc=on"
    cmd = BASECMD
    extra = []
    if 'pcie' in feats or 'pcie0' in feats or 'vmctl' in feats:
        machine += ",pcie=on"; cmd += " pcie_ports=native"
    if 'pcie' in feats or 'vmctl' in feats:
        for i in range(8): extra += ['-device', 'pcie-root-port,id=rp%d,slot=%d,chassis=%d' % (i, i, i + 1)]
    for f in feats:
        if f.startswith('ports'):
            n = int(f[5:]); machine += ",pcie=on" if 'pcie=on' not in machine else ''
            if 'pcie_ports' not in cmd: cmd += " pcie_ports=native"
            for i in range(n): extra += ['-device', 'pcie-root-port,id=rp%d,slot=%d,chassis=%d' % (i, i, i + 1)]
        if f.startswith('cmd='): cmd += ' ' + f[4:].replace('~', ' ')
    ram = []
    if 'ramdisk' in feats or 'ramshm' in feats or 'vmctl' in feats:
        path = ('/dev/shm/ab-ram' if 'ramshm' in feats else os.path.join(d, 'ram'))
        if os.path.exists(path): os.unlink(path)
        machine += ",memory-backend=mem0"
        ram = ['-object', 'memory-backend-file,id=mem0,size=128M,mem-path=%s,share=on' % path]
    a = ["qemu-system-x86_64"]
    if 'vmctl' in feats: a += ['-name', 'vmctl-abtest']
    a += ["-machine", machine, "-accel", "tcg", "-cpu", "max", "-m", "128M", "-smp", "1"] + ram + [
         "-nodefaults", "-no-user-config", "-display", "none", "-kernel", kernel, "-initrd", initrd,
         "-append", cmd, "-chardev", "file,id=con0,path=%s/console.log" % d, "-serial", "chardev:con0"]
    if 'vmctl' in feats: a += ['-qmp', 'unix:%s/qmp.sock,server=on,wait=off' % d]
    a += ["-device", "virtio-serial-device,id=vser0",
         "-chardev", "socket,id=qga0,path=%s/qga.sock,server=on,wait=off" % d,
         "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
         "-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-device,rng=rng0"] + extra
    if 'vmctl' in feats: a += ['-pidfile', d + '/qemu.pid']
    if 'netns' in feats: a = ['ip', 'netns', 'exec', NS, 'setsid'] + a
    return a

def agent(sock):
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(0.7); s.connect(sock)
        s.sendall(b'\xff{"execute":"guest-sync-delimited","arguments":{"id":4711}}\n')
        got = b''; dl = time.time() + 0.7
        while time.time() < dl:
            try: b = s.recv(4096)
            except socket.timeout: break
            if not b: break
            got += b
            if b'4711' in got: s.close(); return True
        s.close()
    except OSError: pass
    return False

def boot(v, i):
    os.makedirs('/tmp/ab', exist_ok=True)
    d = '/tmp/ab/run-%s-%d' % (re.sub('[^a-z0-9]', '_', v), i); shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    a = argv(v, d)
    t0 = time.time()
    p = subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=open(d + '/qemu.log', 'w'))
    st = {}; off = 0; txt = ''
    sock = d + '/qga.sock'; con = d + '/console.log'
    feats = set(v.split('+')); early = None; qmp = None
    while True:
        if 'early' in feats and early is None and os.path.exists(sock):
            try:
                early = socket.socket(socket.AF_UNIX); early.connect(sock); early.setblocking(False)
                early.sendall(b'\xff{"execute":"guest-sync-delimited","arguments":{"id":99}}\n')
            except OSError: early = None
        if 'qmp' in feats and qmp is None and os.path.exists(d + '/qmp.sock'):
            try:
                qmp = socket.socket(socket.AF_UNIX); qmp.connect(d + '/qmp.sock'); qmp.settimeout(2); qmp.recv(4096)
                qmp.sendall(b'{"execute":"qmp_capabilities"}\n'); qmp.recv(4096); qmp.setblocking(False)
            except OSError: qmp = None
        if early is not None:
            try:
                b = early.recv(4096)
                if b'99' in b: st['agent'] = time.time() - t0; break
            except BlockingIOError: pass
        if p.poll() is not None: raise SystemExit('qemu exited: ' + open(d + '/qemu.log').read())
        if os.path.exists(con):
            with open(con, 'rb') as f:
                f.seek(off); b = f.read(); off += len(b); txt += b.decode('latin1')
            t = time.time() - t0
            m = re.search(r'VMCTL_INIT ([0-9.]+)\r?\n', txt)
            if m and 'init' not in st: st['init'] = t; st['kernel'] = t - float(m.group(1))
            if 'VMCTL_READY' in txt and 'ready' not in st: st['ready'] = t
        if early is None and 'ready' in st and os.path.exists(sock) and agent(sock):
            st['agent'] = time.time() - t0; break
        time.sleep(0.005)
    p.kill(); p.wait()
    st['console'] = txt
    return st

res = {v: [] for v in variants}
for i in range(runs):
    for v in variants:
        time.sleep(gap)
        res[v].append(boot(v, i))
    print('run', i + 1, ' '.join('%s=%.3f' % (v, res[v][-1]['agent']) for v in variants), flush=True)
for v in variants:
    med = {k: statistics.median([r.get(k, -1) for r in res[v]]) for k in ('kernel', 'init', 'ready', 'agent')}
    print('%-40s kernel %.3f init %.3f ready %.3f agent %.3f' % (v, med['kernel'], med['init'], med['ready'], med['agent']))
if 'netns' in ','.join(variants):
    subprocess.run(['ip', 'netns', 'del', NS], stderr=subprocess.DEVNULL)
open('/tmp/ab/last-console.txt', 'w').write('\n'.join('=== %s\n%s' % (v, res[v][-1]['console']) for v in variants))
