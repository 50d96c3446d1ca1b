package dev.vmctl.server;

import dev.vmctl.host.HostCapabilities;
import dev.vmctl.model.NodeSnapshotView;
import dev.vmctl.model.NodeView;
import dev.vmctl.model.NodeVm;
import dev.vmctl.model.SnapshotView;
import dev.vmctl.model.TopologyReport;
import dev.vmctl.model.TopologyStep;
import dev.vmctl.model.TopologyView;
import dev.vmctl.model.VmState;
import dev.vmctl.snapshot.SnapshotManifest;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The JSON the server writes for its records and the model's: field names, order and nulls are the API contract. */
class ContractJsonTest {
    private static final String SHA = "ab".repeat(32);

    private static final SnapshotManifest MANIFEST = new SnapshotManifest(1, "web1-warm", "2026-11-28T10:00:00Z", null,
            new SnapshotManifest.Vm("web1", "tiny", "/d/vmlinux", SHA, "/d/initrd", SHA, 1, 128, "tcg", "",
                    List.of(new SnapshotManifest.Nic(0, "52:54:00:12:34:56"))),
            new SnapshotManifest.State("state", false, SnapshotManifest.RamMode.FILE, "ram"), null,
            List.of(new SnapshotManifest.FileEntry("ram", 100, SHA), new SnapshotManifest.FileEntry("state", 20, SHA)));

    private static final String SNAPSHOT = """
            {"name":"web1-warm","createdAt":"2026-11-28T10:00:00Z","parent":null,"vm":"web1","image":"tiny",\
            "cpus":1,"memoryMiB":128,"accel":"tcg","ramMode":"file","compressed":false,\
            "nics":[{"index":0,"mac":"52:54:00:12:34:56"}],"sizeBytes":120,\
            "files":[{"path":"ram","size":100,"sha256":"%s"},{"path":"state","size":20,"sha256":"%s"}],\
            "formatVersion":1,"clones":["c1"]""".formatted(SHA, SHA);

    @Test
    void aSnapshotHasNoTimesExceptWhenJustTaken() {
        SnapshotView v = SnapshotRoutes.view(MANIFEST, List.of("c1"));

        assertThat(Api.toJson(v)).isEqualTo(SNAPSHOT + "}");
        assertThat(Api.toJson(v.withTimes(35, 410))).isEqualTo(SNAPSHOT + ",\"pausedMillis\":35,\"totalMillis\":410}");
    }

    @Test
    void topologyReportAndViewsKeepTheirFields() {
        TopologyReport r = new TopologyReport("shop", false, true, "done",
                List.of(new TopologyStep("create", "vm", "shop-svc-api", "create vm shop-svc-api", "done", null, 120L)),
                130, 4, false);
        assertThat(Api.toJson(r)).isEqualTo("""
                {"topology":"shop","dryRun":false,"ok":true,"summary":"done","steps":[{"verb":"create","type":"vm",\
                "name":"shop-svc-api","description":"create vm shop-svc-api","status":"done","error":null,"millis":120}],\
                "durationMs":130,"parallelBoots":4,"rolledBack":false}""");

        NodeView node = new NodeView("shop", "svc", "RUNNING",
                List.of(new NodeVm("shop-svc-api", "api", null, VmState.RUNNING, Arrays.asList("198.18.1.2", null), null)));
        TopologyView t = new TopologyView("shop", null, "2026-11-28T10:00:00Z", "RUNNING", List.of("public"), List.of(), List.of(node));
        assertThat(Api.toJson(t)).isEqualTo("""
                {"name":"shop","file":null,"appliedAt":"2026-11-28T10:00:00Z","state":"RUNNING","networks":["public"],\
                "routers":[],"nodes":[{"topology":"shop","name":"svc","state":"RUNNING","vms":[{"name":"shop-svc-api",\
                "vm":"api","role":null,"state":"RUNNING","ips":["198.18.1.2",null],"error":null}]}],"spec":null}""");
        TopologyView one = new TopologyView("shop", "shop.yaml", null, "EMPTY", List.of(), List.of(), List.of(), "name: shop\n");
        assertThat(Api.toJson(one)).isEqualTo("""
                {"name":"shop","file":"shop.yaml","appliedAt":null,"state":"EMPTY","networks":[],"routers":[],"nodes":[],\
                "spec":"name: shop\\n"}""");

        Map<String, String> members = new LinkedHashMap<>();
        members.put("api", "s1-api");
        members.put("cache", "s1-cache");
        assertThat(Api.toJson(new NodeSnapshotView("s1", "shop", "svc", members, "2026-11-28T10:00:00Z"))).isEqualTo("""
                {"name":"s1","topology":"shop","node":"svc","members":{"api":"s1-api","cache":"s1-cache"},\
                "createdAt":"2026-11-28T10:00:00Z"}""");
    }

    @Test
    void theHostLeavesOutProbeTimesOnlyWhenNoProbeRan() {
        Map<String, HostCapabilities.Capability> caps = new LinkedHashMap<>();
        caps.put("netem", new HostCapabilities.Capability(false, "tc qdisc add netem: Operation not supported"));
        caps.put("bridge", new HostCapabilities.Capability(true, "ip link add type bridge"));
        String rest = """
                "qemu":null,"hostKernel":"6.1.0-28-amd64","cpus":2,"dataDir":"/var/lib/vmctl","images":[],\
                "fabricNamespace":"vmctl-fab-1a2b","capabilities":{"netem":{"available":false,\
                "detail":"tc qdisc add netem: Operation not supported"},"bridge":{"available":true,\
                "detail":"ip link add type bridge"}},"vlanMechanism":"bridge VLAN filtering","impairmentMechanism":"netem on the host",\
                "partitionMechanism":"nftables bridge-family forward chain in the fabric namespace",\
                "vpnMechanism":"wireguard-go",\
                "cgroups":{"mode":"v1","cpu":"/sys/fs/cgroup/cpu/vmctl-fab-1a2b","memory":"/sys/fs/cgroup/memory/vmctl-fab-1a2b","detail":"cgroup v1"},\
                "memory":{"totalMiB":24105,"availableMiB":20000,"reserve":"512M,5%","reserveMiB":1205,"committedMiB":300,"reservedMiB":128,\
                "freeMiB":18367,"source":"/proc/meminfo"},\
                "confinement":{"mode":"seccomp+user","sandbox":"on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",\
                "user":"vmctl-qemu","detail":"seccomp; QEMU runs as vmctl-qemu"}}""";
        HostView.Accel notProbed = new HostView.Accel("auto", null, "not probed yet", false, null, null);
        HostView.Accel probed = new HostView.Accel("auto", "tcg", "no /dev/kvm", false, "2026-11-28T10:00:00Z", 1830L);

        assertThat(Api.toJson(host(notProbed, caps))).isEqualTo("""
                {"accel":{"mode":"auto","chosen":null,"reason":"not probed yet","kvmDevice":false},""" + rest);
        assertThat(Api.toJson(host(probed, caps))).isEqualTo("""
                {"accel":{"mode":"auto","chosen":"tcg","reason":"no /dev/kvm","kvmDevice":false,\
                "probedAt":"2026-11-28T10:00:00Z","probeMillis":1830},""" + rest);
    }

    private static HostView host(HostView.Accel accel, Map<String, HostCapabilities.Capability> caps) {
        return new HostView(accel, null, "6.1.0-28-amd64", 2, "/var/lib/vmctl", List.of(), "vmctl-fab-1a2b", caps,
                "bridge VLAN filtering", "netem on the host", "nftables bridge-family forward chain in the fabric namespace", "wireguard-go",
                new HostView.Cgroups("v1", "/sys/fs/cgroup/cpu/vmctl-fab-1a2b", "/sys/fs/cgroup/memory/vmctl-fab-1a2b", "cgroup v1"),
                new dev.vmctl.engine.MemoryBudget.View(24105, 20000, "512M,5%", 1205, 300, 128, 18367, "/proc/meminfo"),
                new HostView.Confinement("seccomp+user", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", "vmctl-qemu",
                        "seccomp; QEMU runs as vmctl-qemu"));
    }

    @Test
    void errorsAndWrittenFilesKeepTheirFields() {
        assertThat(Api.toJson(new Api.ErrorBody("vm web1: not found", null))).isEqualTo("{\"error\":\"vm web1: not found\",\"detail\":null}");
        assertThat(Api.toJson(new VmRoutes.FileWritten("/etc/motd", 12))).isEqualTo("{\"path\":\"/etc/motd\",\"bytes\":12}");
    }
}
